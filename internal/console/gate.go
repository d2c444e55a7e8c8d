package console

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"maps"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/inkpass/inkpass/internal/audit"
	"github.com/inkpass/inkpass/internal/mfa"
	"github.com/inkpass/inkpass/internal/session"
	"github.com/inkpass/inkpass/internal/user"
)

// Form fields the gate reads; a section's forms must not use them.
const (
	fieldCSRF           = "csrf_token"
	fieldReauthPassword = "reauth_password"
	fieldReauthCode     = "reauth_code"
)

// setHeaders are the console's headers on every answer, redirects and
// errors included; render adds the page's Content-Security-Policy.
func setHeaders(h http.Header) {
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Content-Security-Policy", csp)
}

// csp: our own stylesheet and images, forms to ourselves, nothing else; no
// script at all.
const csp = "default-src 'none'; style-src 'self'; img-src 'self' https: data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// LoginURL is the login page that returns to path once signed in.
func LoginURL(path string) string {
	return "/login?" + url.Values{"return": {path}}.Encode()
}

// gate runs h only for a signed-in, active admin; for a POST, only with a
// good CSRF token and a recent authentication.
func (c *Console) gate(h Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		sess, err := c.d.Sessions.Session(r)
		if err != nil {
			c.ServerError(w, r, nil, "read session", err)
			return
		}
		var u *user.User
		if sess != nil {
			if u, err = c.d.Users.Get(ctx, sess.UserID); err != nil && !errors.Is(err, user.ErrNotFound) {
				c.ServerError(w, r, nil, "load admin", err)
				return
			}
		}
		if u == nil || !u.Active {
			back := Prefix
			if r.Method == http.MethodGet || r.Method == http.MethodHead {
				back = r.URL.RequestURI()
			}
			http.Redirect(w, r, LoginURL(back), http.StatusSeeOther)
			return
		}
		a := &Admin{User: u, Session: sess}
		if u.Role != user.RoleAdmin {
			c.forbidden(w, r, a)
			return
		}
		a.CSRF = c.csrfToken(c.d.Sessions.BrowserID(w, r), sess.SID)
		r = r.WithContext(audit.WithActor(ctx, a.Actor()))
		if r.Method == http.MethodPost {
			if err := parseForm(r); err != nil {
				c.Error(w, r, a, http.StatusBadRequest, "The form could not be read", "Go back and try again.")
				return
			}
			if !hmac.Equal([]byte(r.PostFormValue(fieldCSRF)), []byte(a.CSRF)) {
				c.Error(w, r, a, http.StatusForbidden, "This form has expired", "Reload the page and try again. (Cookies must be enabled.)")
				return
			}
			if !c.fresh(sess) && !c.reauthenticate(w, r, a) {
				return
			}
			for _, f := range []string{fieldCSRF, fieldReauthPassword, fieldReauthCode} {
				r.PostForm.Del(f)
				r.Form.Del(f)
			}
		}
		h(w, r, a)
	})
}

// maxMultipartMemory is how much of a multipart form (a file upload) is
// kept in memory; web's body limit bounds the whole request anyway.
const maxMultipartMemory = 1 << 20

// parseForm reads a POST's form, urlencoded or multipart (a section that
// uploads a file). A multipart form's files are not carried through the
// re-authentication page: the admin picks the file again.
func parseForm(r *http.Request) error {
	if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data") {
		return r.ParseMultipartForm(maxMultipartMemory)
	}
	return r.ParseForm()
}

// forbidden is the answer to a signed-in user who is not an admin.
func (c *Console) forbidden(w http.ResponseWriter, r *http.Request, a *Admin) {
	c.Error(w, r, a, http.StatusForbidden, "Admins only",
		"The studio console is for the studio's admins. Ask an admin if you need something changed.")
}

// csrfToken is HMAC(key, browser id, session id): only this server can
// make it, only this browser holds it, and it dies with the session.
func (c *Console) csrfToken(browser, sid string) string {
	m := hmac.New(sha256.New, c.d.CSRFKey)
	m.Write([]byte("console-csrf\x00" + browser + "\x00" + sid))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// fresh reports whether the session's last authentication is recent
// enough for a change.
func (c *Console) fresh(s *session.Session) bool {
	return c.d.Now().Sub(s.AuthTime) <= c.d.ReauthAfter
}

// ReauthView is the re-authentication page's data.
type ReauthView struct {
	// Action is where the form posts: the address of the change itself,
	// with its fields carried in Hidden.
	Action string
	Hidden []HiddenField
	// NeedsCode: the admin has a second factor and must give a code too.
	NeedsCode bool
	Minutes   int
}

// HiddenField is one field of the form being retried.
type HiddenField struct{ Name, Value string }

// reauthenticate checks the proof posted with a change (the password, and
// a code when the admin has a second factor) and records it on the
// session; without a proof, or with a wrong one, it shows the
// re-authentication page and reports false.
func (c *Console) reauthenticate(w http.ResponseWriter, r *http.Request, a *Admin) bool {
	ctx := r.Context()
	needsCode := false
	if c.d.MFA != nil {
		var err error
		if needsCode, err = c.d.MFA.HasFactor(ctx, a.User.ID); err != nil {
			c.ServerError(w, r, a, "check second factor", err)
			return false
		}
	}
	view := ReauthView{Action: r.URL.RequestURI(), NeedsCode: needsCode, Minutes: int(math.Ceil(c.d.ReauthAfter.Minutes()))}
	for _, k := range slices.Sorted(maps.Keys(r.PostForm)) {
		if k == fieldCSRF || k == fieldReauthPassword || k == fieldReauthCode {
			continue
		}
		for _, v := range r.PostForm[k] {
			view.Hidden = append(view.Hidden, HiddenField{Name: k, Value: v})
		}
	}
	show := func(status int, msg string) bool {
		c.Render(w, r, a, status, View{Name: "reauth", Title: "Confirm it is you", Error: msg, Data: view})
		return false
	}
	pw, hasPW := r.PostForm[fieldReauthPassword]
	if !hasPW {
		return show(http.StatusUnauthorized, "")
	}
	addr := c.d.Sessions.ClientAddr(r)
	err := c.d.Users.CheckCurrentPassword(ctx, a.User.ID, strings.Join(pw, ""), addr)
	// With a second factor, a wrong password and a wrong code read alike,
	// so the page does not confirm a guessed password on its own.
	wrongProof, tooMany := "The password is not correct.", "Too many password attempts."
	if needsCode {
		wrongProof, tooMany = "The password or the code is not correct.", "Too many attempts."
	}
	var throttled *user.ThrottledError
	throttledShow := func() bool {
		secs := int(math.Ceil(throttled.RetryAfter.Seconds()))
		w.Header().Set("Retry-After", strconv.Itoa(secs))
		return show(http.StatusTooManyRequests, tooMany+" Wait "+strconv.Itoa(secs)+" seconds before trying again.")
	}
	switch {
	case errors.As(err, &throttled):
		return throttledShow()
	case errors.Is(err, user.ErrSignedOut):
		// Whoever holds this session has guessed at the password too
		// often: it ends, and the login page (with its throttle) is next.
		if err := c.d.Sessions.EndSession(w, r); err != nil {
			c.ServerError(w, r, a, "end session", err)
			return false
		}
		http.Redirect(w, r, LoginURL(Prefix), http.StatusSeeOther)
		return false
	case errors.Is(err, user.ErrInvalidCredentials):
		return show(http.StatusUnauthorized, wrongProof)
	case err != nil:
		c.ServerError(w, r, a, "check password", err)
		return false
	}
	amr := []string{session.MethodPassword}
	if needsCode {
		_, err := c.d.MFA.Verify(ctx, a.User, strings.TrimSpace(r.PostFormValue(fieldReauthCode)), addr)
		switch {
		case errors.As(err, &throttled):
			return throttledShow()
		case errors.Is(err, mfa.ErrInvalidCode):
			return show(http.StatusUnauthorized, wrongProof)
		case err != nil:
			c.ServerError(w, r, a, "verify code", err)
			return false
		}
		amr = append(amr, session.MethodOTP, session.MethodMFA)
	}
	now := c.d.Now()
	if err := c.d.Reauth.ReauthenticateSession(ctx, a.Session.SID, now, amr); err != nil {
		c.ServerError(w, r, a, "record re-authentication", err)
		return false
	}
	a.Session.AuthTime, a.Session.AMR = now, amr
	c.Record(r, audit.Event{Kind: audit.Reauthenticated, UserID: a.User.ID, Username: a.User.Username, Addr: addr, Detail: strings.Join(amr, " ")})
	return true
}
