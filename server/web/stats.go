package web

import (
	"io/fs"
	"net/http"
)

// statsPage serves the stats page at /stats. Its script and style sheet
// are ordinary assets (/stats.js, /stats.css) served with the rest; the
// page reads the event to show from its own ?event= parameter.
func statsPage(w http.ResponseWriter, r *http.Request) {
	page, err := fs.ReadFile(assets, "assets/stats.html")
	if err != nil {
		http.Error(w, "the stats page is missing from this build", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	_, _ = w.Write(page)
}
