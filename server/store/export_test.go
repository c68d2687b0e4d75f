package store

// SetIndexWindow sets how many of an event's newest posts db keeps in full,
// for indexes built from now on: small, it makes the tests read posts
// missing from the window.
func SetIndexWindow(db *DB, n int) {
	db.idx.mu.Lock()
	defer db.idx.mu.Unlock()
	db.idx.window = n
}

// Indexed reports whether db holds an index of event.
func Indexed(db *DB, event string) bool {
	db.idx.mu.RLock()
	defer db.idx.mu.RUnlock()
	_, ok := db.idx.events[event]
	return ok
}
