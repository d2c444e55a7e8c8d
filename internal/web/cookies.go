package web

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"time"

	"github.com/inkpass/inkpass/internal/session"
)

// cookieNames: with https, the __Host- prefix pins cookies to this exact host,
// path / and Secure (RFC 6265bis §4.1.3.2); plain http on loopback cannot use it.
type cookieNames struct {
	session, browser string
	secure           bool
	// device is a remembered device (mfa.remember_device).
	device string
}

func newCookieNames(secure bool) cookieNames {
	if secure {
		return cookieNames{session: "__Host-inkpass_session", browser: "__Host-inkpass_browser", secure: true, device: "__Host-inkpass_device"}
	}
	return cookieNames{session: "inkpass_session", browser: "inkpass_browser", device: "inkpass_device"}
}

func (c cookieNames) set(w http.ResponseWriter, name, value string, maxAge time.Duration) {
	ck := &http.Cookie{
		Name:     name,
		Value:    value,
		Path:     "/",
		HttpOnly: true,
		Secure:   c.secure,
		// Lax: sent on the top-level navigation from a client to /authorize,
		// not on cross-site POSTs.
		SameSite: http.SameSiteLaxMode,
	}
	if maxAge > 0 {
		ck.MaxAge = int(maxAge / time.Second)
	} else if maxAge < 0 {
		ck.MaxAge = -1
	}
	http.SetCookie(w, ck)
}

func cookieValue(r *http.Request, name string) string {
	c, err := r.Cookie(name)
	if err != nil {
		return ""
	}
	return c.Value
}

// browserID returns this browser's random id, setting one if it has none. It
// binds pending authorization requests and CSRF tokens to the browser.
func (s *server) browserID(w http.ResponseWriter, r *http.Request) string {
	if v := cookieValue(r, s.cookies.browser); len(v) == 43 {
		return v
	}
	v := session.NewToken()
	s.cookies.set(w, s.cookies.browser, v, 0)
	// Make the new value visible to the rest of this request.
	r.AddCookie(&http.Cookie{Name: s.cookies.browser, Value: v})
	return v
}

// csrfToken is HMAC(key, browser id): a form token that only this server can
// make and only this browser holds (OWASP's signed double-submit cookie).
func (s *server) csrfToken(browser string) string {
	m := hmac.New(sha256.New, s.CSRFKey)
	m.Write([]byte("csrf\x00" + browser))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// checkCSRF verifies the form's csrf_token against the browser cookie.
func (s *server) checkCSRF(r *http.Request) bool {
	browser := cookieValue(r, s.cookies.browser)
	if len(browser) != 43 {
		return false
	}
	got := r.PostFormValue("csrf_token")
	return hmac.Equal([]byte(got), []byte(s.csrfToken(browser)))
}
