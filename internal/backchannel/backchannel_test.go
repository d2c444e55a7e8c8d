package backchannel

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/inkpass/inkpass/internal/keys"
)

// fakeSigner returns the payload as the "token", so a test can see what
// would be signed; keys.Set is exercised by the end-to-end tests.
type fakeSigner struct{}

func (fakeSigner) SignTyped(_ keys.Algorithm, typ string, payload []byte) (string, error) {
	return typ + "." + string(payload), nil
}

// TestWorker_Deliver: what each answer of a relying party means, and that a
// redirect is never followed (the token goes only to the registered URI).
func TestWorker_Deliver(t *testing.T) {
	var elsewhere atomic.Int64
	other := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { elsewhere.Add(1) }))
	defer other.Close()
	tests := []struct {
		name      string
		answer    func(w http.ResponseWriter, r *http.Request)
		ok, retry bool
	}{
		{"200 is delivered", func(w http.ResponseWriter, r *http.Request) {}, true, false},
		{"204 is delivered", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) }, true, false},
		{"400 is a refusal, not retried", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusBadRequest) }, false, false},
		{"500 is retried", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusInternalServerError) }, false, true},
		{"429 is retried", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusTooManyRequests) }, false, true},
		{"a redirect is not followed, and retried", func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, other.URL, http.StatusTemporaryRedirect)
		}, false, true},
		{"a long answer is read only in part", func(w http.ResponseWriter, r *http.Request) {
			w.Write([]byte(strings.Repeat("x", 1<<20)))
		}, true, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var form string
			rp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				form = r.PostFormValue("logout_token")
				tc.answer(w, r)
			}))
			defer rp.Close()
			w := New(nil, fakeSigner{}, Options{Issuer: "https://id.example"})
			err := w.Deliver(context.Background(), Notice{ClientID: "portal", URI: rp.URL, SID: "s1", Subject: "7", Attempt: 1})
			var perm *permanentError
			switch {
			case tc.ok && err != nil:
				t.Errorf("Deliver = %v, want success", err)
			case !tc.ok && err == nil:
				t.Error("Deliver succeeded, want a failure")
			case !tc.ok && errors.As(err, &perm) == tc.retry:
				t.Errorf("Deliver = %v; retry %v, want %v", err, !errors.As(err, &perm), tc.retry)
			}
			if !strings.HasPrefix(form, TokenType+".") || !strings.Contains(form, `"sid":"s1"`) || strings.Contains(form, "nonce") {
				t.Errorf("the relying party got %q", form)
			}
			if err != nil && strings.Contains(err.Error(), form) {
				t.Errorf("the error %q carries the token", err)
			}
		})
	}
	if n := elsewhere.Load(); n != 0 {
		t.Errorf("a redirect was followed %d times", n)
	}
}
