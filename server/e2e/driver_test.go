package e2e

import (
	"bufio"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// driver runs one of the browser drivers in scripts/js (extension-check.mjs,
// pages-check.mjs): a Node process that prints {"event":"ready",...} once
// its browser runs, then answers JSON commands read from stdin, one per
// line, with {"reply":ID,...}; every other line it prints is an event kept
// for failure messages.
type driver struct {
	name   string
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stderr *syncBuffer
	done   chan struct{}

	mu      sync.Mutex
	nextID  int
	replies map[int]chan json.RawMessage
	events  []string // lines that were not replies, for failure messages
	nDialog int
	fatal   string
}

// readyEvent is the driver's first line; ID is the extension's id, for
// extension-check.
type readyEvent struct{ ID string }

// startDriver starts scripts/js/<script> with args in its browser
// (Debian's firefox-esr for firefox-check.mjs, Chromium for the others)
// and waits until it says it is ready.
func startDriver(t *testing.T, script string, args ...string) (*driver, readyEvent) {
	t.Helper()
	dir := nodeModules(t)
	browser, pkg := "/usr/bin/chromium", "chromium"
	if script == "firefox-check.mjs" {
		browser, pkg = "/usr/bin/firefox-esr", "firefox-esr"
	}
	if _, err := os.Stat(browser); err != nil {
		t.Fatalf("Debian's %s is not installed: run scripts/test (it installs it) or apt-get install %s", pkg, pkg)
	}
	d := &driver{name: script, stderr: &syncBuffer{}, done: make(chan struct{}), replies: map[int]chan json.RawMessage{}}
	d.cmd = exec.Command("node", append([]string{filepath.Join(dir, script)}, args...)...)
	d.cmd.Stderr = d.stderr
	stdout, err := d.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if d.stdin, err = d.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	if err := d.cmd.Start(); err != nil {
		t.Fatalf("start node: %v", err)
	}
	ready := make(chan readyEvent, 1)
	go func() {
		defer close(d.done)
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 1<<20), 64<<20)
		for sc.Scan() {
			d.handle(sc.Bytes(), ready)
		}
		_ = d.cmd.Wait()
	}()
	t.Cleanup(d.stop)
	select {
	case r := <-ready:
		return d, r
	case <-d.done:
		t.Fatalf("%s exited before its browser ran: %s\n%s\nstderr:\n%s", script, d.fatal, d.tail(), d.stderr)
	case <-time.After(90 * time.Second):
		t.Fatalf("%s did not start within 90 s\n%s\nstderr:\n%s", script, d.tail(), d.stderr)
	}
	return nil, readyEvent{}
}

func (d *driver) handle(line []byte, ready chan<- readyEvent) {
	var head struct {
		Reply *int
		Event string
		ID    string
		Error string
	}
	if json.Unmarshal(line, &head) != nil {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if head.Reply != nil {
		if ch, ok := d.replies[*head.Reply]; ok {
			ch <- append(json.RawMessage(nil), line...)
			delete(d.replies, *head.Reply)
		}
		return
	}
	switch head.Event {
	case "ready":
		ready <- readyEvent{ID: head.ID}
	case "dialog":
		d.nDialog++
	case "fatal":
		d.fatal = head.Error
	}
	d.events = append(d.events, string(line))
}

func (d *driver) tail() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	evs := d.events
	if len(evs) > 15 {
		evs = evs[len(evs)-15:]
	}
	return "driver events:\n  " + strings.Join(evs, "\n  ")
}

func (d *driver) dialogs() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.nDialog
}

func (d *driver) stop() {
	_ = d.stdin.Close()
	select {
	case <-d.done:
	case <-time.After(20 * time.Second):
		_ = d.cmd.Process.Kill()
		<-d.done
	}
}

// call runs one driver command and decodes its answer into out.
func (d *driver) call(t *testing.T, cmd map[string]any, out any) {
	t.Helper()
	ch := make(chan json.RawMessage, 1)
	d.mu.Lock()
	d.nextID++
	id := d.nextID
	d.replies[id] = ch
	d.mu.Unlock()
	cmd["id"] = id
	b, _ := json.Marshal(cmd)
	if _, err := d.stdin.Write(append(b, '\n')); err != nil {
		t.Fatalf("%s %s: %v", d.name, cmd["cmd"], err)
	}
	select {
	case raw := <-ch:
		var r struct{ Error string }
		_ = json.Unmarshal(raw, &r)
		if r.Error != "" {
			t.Fatalf("%s %s: %s\n%s", d.name, cmd["cmd"], r.Error, d.tail())
		}
		if out != nil {
			if err := json.Unmarshal(raw, out); err != nil {
				t.Fatalf("%s %s answered %.300s: %v", d.name, cmd["cmd"], raw, err)
			}
		}
	case <-d.done:
		t.Fatalf("%s exited during %s: %s\n%s\nstderr:\n%s", d.name, cmd["cmd"], d.fatal, d.tail(), d.stderr)
	case <-time.After(90 * time.Second):
		t.Fatalf("%s did not answer %s within 90 s\n%s", d.name, cmd["cmd"], d.tail())
	}
}
