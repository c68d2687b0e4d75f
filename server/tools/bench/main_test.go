package main

import (
	"io"
	"strings"
	"testing"
)

func TestRunCommandLine(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want int
	}{
		{name: "no benchmark", args: nil, want: 2},
		{name: "unknown benchmark", args: []string{"fanout"}, want: 2},
		{name: "help", args: []string{"-h"}, want: 0},
		{name: "store help", args: []string{"store", "-h"}, want: 0},
		{name: "bad sizes", args: []string{"store", "--sizes", "10k"}, want: 2},
		{name: "stray argument", args: []string{"store", "now"}, want: 2},
		{name: "unknown flag", args: []string{"store", "--fast"}, want: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stderr strings.Builder
			if got := run(tt.args, io.Discard, &stderr); got != tt.want {
				t.Errorf("run(%q) = %d, want %d; stderr:\n%s", tt.args, got, tt.want, stderr.String())
			}
		})
	}
}
