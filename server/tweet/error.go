package tweet

import (
	"errors"
	"fmt"
	"strings"
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

// FieldError is an error in one field of a configuration: Field is the Go
// name of the field ("BearerToken", "Track"), and Err says what is wrong
// with it and what to do, naming no flag or environment variable. Those
// belong to the program that sets the field, which knows them and puts
// them in front (package cli does). The code of an *Error in Err still
// comes through ErrorCode and errors.As.
type FieldError struct {
	Field string
	Err   error
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Err.Error() }

func (e *FieldError) Unwrap() error { return e.Err }

// FieldErrorf returns a *FieldError about field whose Err is an *Error
// with the given code.
func FieldErrorf(field, code, format string, args ...any) *FieldError {
	return &FieldError{Field: field, Err: Errorf(code, format, args...)}
}

// FieldsError returns an error about several fields at once, such as the
// parts of one credential: it reads "ConsumerKey, AccessToken: " and err,
// and unwraps to a *FieldError with err for each field, so that a program
// can name every field in its own terms. One field gives a *FieldError.
func FieldsError(err error, fields ...string) error {
	switch len(fields) {
	case 0:
		return err
	case 1:
		return &FieldError{Field: fields[0], Err: err}
	}
	es := make(fieldErrors, len(fields))
	for i, f := range fields {
		es[i] = &FieldError{Field: f, Err: err}
	}
	return es
}

// fieldErrors are field errors that share one Err.
type fieldErrors []*FieldError

func (es fieldErrors) Error() string {
	names := make([]string, len(es))
	for i, e := range es {
		names[i] = e.Field
	}
	return strings.Join(names, ", ") + ": " + es[0].Err.Error()
}

func (es fieldErrors) Unwrap() []error {
	errs := make([]error, len(es))
	for i, e := range es {
		errs[i] = e
	}
	return errs
}
