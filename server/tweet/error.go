package tweet

import (
	"errors"
	"fmt"
)

// Error codes, mapped to HTTP statuses in one place (package web).
const (
	EINVALID     = "invalid"     // the caller's input is wrong
	ENOTFOUND    = "not_found"   // no such thing
	EUNAVAILABLE = "unavailable" // a dependency is down; try again later
	EINTERNAL    = "internal"    // a bug or an unexpected failure
)

// Error is an error a user can act on: Message is said to them as it is.
type Error struct {
	Code    string
	Message string
}

func (e *Error) Error() string { return e.Message }

// Errorf returns an *Error with the given code.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, or
// EINTERNAL when there is none.
func ErrorCode(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the message of the first *Error in err's chain, or a
// generic sentence that hides internals.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
}
