package tweet_test

import (
	"errors"
	"testing"

	"github.com/tweetwire/tweetwire/server/tweet"
)

func TestFieldError(t *testing.T) {
	err := error(tweet.FieldErrorf("BearerToken", tweet.EINVALID, "needs the bearer token of an X app"))
	if got, want := err.Error(), "BearerToken: needs the bearer token of an X app"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if tweet.ErrorCode(err) != tweet.EINVALID || tweet.ErrorMessage(err) != "needs the bearer token of an X app" {
		t.Errorf("code %q, message %q: the *Error inside does not come through", tweet.ErrorCode(err), tweet.ErrorMessage(err))
	}
	var fe *tweet.FieldError
	if !errors.As(err, &fe) || fe.Field != "BearerToken" {
		t.Errorf("errors.As found %+v", fe)
	}
}

func TestFieldsError(t *testing.T) {
	inner := tweet.Errorf(tweet.EINVALID, "Twitter refused the credentials: check all four")
	err := tweet.FieldsError(inner, "ConsumerKey", "AccessSecret")
	if got, want := err.Error(), "ConsumerKey, AccessSecret: Twitter refused the credentials: check all four"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if tweet.ErrorCode(err) != tweet.EINVALID || !errors.Is(err, inner) {
		t.Errorf("code %q, Is %v: the *Error inside does not come through", tweet.ErrorCode(err), errors.Is(err, inner))
	}
	var fields []string
	for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
		var fe *tweet.FieldError
		if errors.As(e, &fe) {
			fields = append(fields, fe.Field)
		}
	}
	if len(fields) != 2 || fields[0] != "ConsumerKey" || fields[1] != "AccessSecret" {
		t.Errorf("fields = %v", fields)
	}
	var one *tweet.FieldError
	if !errors.As(tweet.FieldsError(inner, "Token"), &one) || one.Field != "Token" || tweet.FieldsError(inner) != error(inner) {
		t.Errorf("one field or none is not the plain case")
	}
}
