package e2e

import (
	"archive/zip"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// scripts/package-extension builds a zip that a user without Go or Node
// unzips and loads unpacked: it must hold the manifest, the vendor files
// scripts/prepare copies and every file the manifest and the pages refer
// to, in one folder named after the manifest's version; and Chromium must
// load that folder as the extension the server allows.
func TestExtensionPackage(t *testing.T) {
	t.Parallel()
	dist := t.TempDir()
	out := packageExtension(t, "chrome", dist)

	var manifest struct {
		Version    string
		Icons      map[string]string
		Background struct {
			ServiceWorker string `json:"service_worker"`
		}
		Action struct {
			DefaultPopup string            `json:"default_popup"`
			DefaultIcon  map[string]string `json:"default_icon"`
		}
		OptionsUI struct{ Page string } `json:"options_ui"`
	}
	raw, err := os.ReadFile(filepath.Join(repoRoot, "extension", "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &manifest); err != nil {
		t.Fatal(err)
	}
	folder := "tweetwire-chrome-" + manifest.Version + "/"
	zipPath := filepath.Join(dist, "tweetwire-chrome-"+manifest.Version+".zip")
	if got := strings.TrimSpace(string(out[strings.LastIndexByte(strings.TrimSpace(string(out)), '\n')+1:])); got != zipPath {
		t.Errorf("the script printed %q last, want the zip's path %s", got, zipPath)
	}

	zr, err := zip.OpenReader(zipPath)
	if err != nil {
		t.Fatalf("no zip at %s: %v", zipPath, err)
	}
	defer zr.Close()
	files := map[string]*zip.File{}
	for _, f := range zr.File {
		if !strings.HasPrefix(f.Name, folder) {
			t.Errorf("%s is outside the folder %s", f.Name, folder)
			continue
		}
		files[strings.TrimPrefix(f.Name, folder)] = f
	}

	want := []string{"manifest.json", "vendor/socket.io.js", "vendor/rich-text.js", "shared/notify-rules.js",
		manifest.Background.ServiceWorker, manifest.Action.DefaultPopup, manifest.OptionsUI.Page, "offscreen/offscreen.html"}
	for _, icons := range []map[string]string{manifest.Icons, manifest.Action.DefaultIcon} {
		for _, p := range icons {
			want = append(want, p)
		}
	}
	for _, p := range want {
		if files[p] == nil {
			t.Errorf("the zip has no %s, which the extension needs", p)
		}
	}

	checkZipRefs(t, files)

	t.Run("Chromium loads the unzipped folder as the extension the server allows", func(t *testing.T) {
		dir := t.TempDir()
		unzip(t, &zr.Reader, dir)
		// The driver is ready once the service worker runs and has opened
		// the offscreen document.
		_, ready := startDriver(t, "extension-check.mjs", "--extension", filepath.Join(dir, strings.TrimSuffix(folder, "/")), "--max-ms", "120000")
		if ready.ID != extensionID {
			t.Errorf("the packaged extension loaded as %q, want %s: is the manifest's key in the zip?", ready.ID, extensionID)
		}
	})
}

// packageExtension runs scripts/package-extension for browser, writing to
// dist, and returns what it printed (the zip's path last).
func packageExtension(t *testing.T, browser, dist string) []byte {
	t.Helper()
	cmd := exec.Command("bash", filepath.Join(repoRoot, "scripts", "package-extension"), browser)
	cmd.Env = append(os.Environ(), "DIST="+dist)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("scripts/package-extension %s: %v\n%s", browser, err, out)
	}
	return out
}

// unzip writes the files of zr under dir.
func unzip(t *testing.T, zr *zip.Reader, dir string) {
	t.Helper()
	for _, f := range zr.File {
		if strings.HasSuffix(f.Name, "/") {
			continue
		}
		dst := filepath.Join(dir, filepath.FromSlash(f.Name))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			t.Fatal(err)
		}
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(rc)
		rc.Close()
		if err := os.WriteFile(dst, body, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// checkZipRefs checks that every relative import, script, stylesheet and
// link in the packaged pages and modules is in the zip too, and that no
// source map is.
func checkZipRefs(t *testing.T, files map[string]*zip.File) {
	t.Helper()
	ref := regexp.MustCompile(`(?:from\s+|import\(\s*)"(\.{1,2}/[^"]+)"|(?:src|href)="([^"#:]+\.(?:js|css|html|png))"`)
	for name, f := range files {
		if ext := path.Ext(name); ext != ".js" && ext != ".html" || strings.HasPrefix(name, "vendor/socket.io") {
			continue
		}
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(rc)
		rc.Close()
		for _, m := range ref.FindAllStringSubmatch(string(body), -1) {
			target := path.Join(path.Dir(name), m[1]+m[2])
			if files[target] == nil {
				t.Errorf("%s refers to %s, which is not in the zip", name, target)
			}
		}
	}
	for n := range files {
		if strings.HasSuffix(n, ".map") {
			t.Errorf("a source map in the zip: %s", n)
		}
	}
}
