package web

import (
	"io/fs"
	"net/http"
)

// page serves one embedded HTML page under a name of its own (/stats,
// /display). Its scripts and style sheets are ordinary assets served with
// the rest; a page reads its options from its own query string.
func page(file string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := fs.ReadFile(assets, "assets/"+file)
		if err != nil {
			http.Error(w, "this page is missing from this build", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-cache")
		_, _ = w.Write(body)
	})
}
