package web

import (
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"github.com/inkpass/inkpass/internal/session"
)

// BrowserSessions lets a handler mounted beside the pages (the studio
// console, Deps.Console) see the browser the way the pages do: its
// session, its browser id (for CSRF tokens), its address, without knowing
// the cookies' names. internal/console declares the interface it needs;
// this implements it.
type BrowserSessions struct {
	s *server
}

// NewBrowserSessions reads sessions through d.Provider with d's cookie
// settings and trusted proxies.
func NewBrowserSessions(d Deps) *BrowserSessions {
	log := d.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &BrowserSessions{s: &server{Deps: d, cookies: newCookieNames(d.SecureCookies), log: log}}
}

// Session is the browser's live session, or nil.
func (b *BrowserSessions) Session(r *http.Request) (*session.Session, error) {
	return b.s.Provider.Session(r.Context(), cookieValue(r, b.s.cookies.session))
}

// BrowserID is the browser's random id, set when it has none.
func (b *BrowserSessions) BrowserID(w http.ResponseWriter, r *http.Request) string {
	return b.s.browserID(w, r)
}

// EndSession signs the browser out and clears its session cookie.
func (b *BrowserSessions) EndSession(w http.ResponseWriter, r *http.Request) error {
	if err := b.s.Provider.EndSession(r.Context(), cookieValue(r, b.s.cookies.session)); err != nil {
		return err
	}
	b.s.cookies.set(w, b.s.cookies.session, "", -1)
	return nil
}

// ClientAddr is the address failed passwords are counted against.
func (b *BrowserSessions) ClientAddr(r *http.Request) string { return b.s.clientAddr(r) }

// returnPath is the login page's ?return=: where a sign-in at inkpass
// itself goes when it is done (the console sends its visitors here). Only
// a path on this origin is taken: it must start with one "/", and hold no
// backslash, no control character and no scheme or host, so that no value
// can send the browser elsewhere (an open redirect). Anything else is "".
func returnPath(r *http.Request) string {
	p := r.URL.Query().Get("return")
	if p == "" || len(p) > 512 || !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") ||
		strings.ContainsAny(p, "\\") || strings.ContainsFunc(p, func(c rune) bool { return c < 0x20 || c == 0x7f }) {
		return ""
	}
	u, err := url.Parse(p)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || !strings.HasPrefix(u.Path, "/") {
		return ""
	}
	return p
}

// withReturn adds a valid ?return= of r to a page's address.
func withReturn(page string, r *http.Request) string {
	p := returnPath(r)
	if p == "" {
		return page
	}
	sep := "?"
	if strings.Contains(page, "?") {
		sep = "&"
	}
	return page + sep + url.Values{"return": {p}}.Encode()
}

// ownStepURL is a sign-in page's address: for a pending request (reqID)
// the step's, for a sign-in at inkpass itself the page's with the valid
// ?return= it was given, so every step of it ends where it was asked to.
func ownStepURL(page, reqID string, r *http.Request) string {
	if reqID != "" {
		return stepURL(page, reqID)
	}
	return withReturn(page, r)
}

// signedInURL is where a sign-in at inkpass itself ends: the ?return= it
// was given, or the account page.
func signedInURL(r *http.Request) string {
	if p := returnPath(r); p != "" {
		return p
	}
	return "/account"
}
