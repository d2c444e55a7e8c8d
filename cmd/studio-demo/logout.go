package main

import (
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"net/http"
	"net/url"
)

// logout ends the demo's session, then, when inkpass advertises an
// end_session_endpoint, sends the browser there (OpenID Connect
// RP-Initiated Logout 1.0 §2) so the inkpass session ends too. It is a POST
// with a per-session CSRF token: a link on another site must not be able
// to sign anyone out.
func (a *app) logout(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 4<<10)
	sid := cookieValue(r, a.cookies.session)
	s, ok := a.sessions.get(sid)
	if !ok {
		a.cookies.clear(w, a.cookies.session)
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	if subtle.ConstantTimeCompare([]byte(r.PostFormValue("csrf")), []byte(s.CSRF)) != 1 {
		a.fail(w, r, http.StatusForbidden, "Sign-out refused",
			"The sign-out form did not come from this app's page. Reload the page and sign out again.", errors.New("sign-out without a valid CSRF token"))
		return
	}
	a.sessions.delete(sid)
	a.cookies.clear(w, a.cookies.session)
	if a.endSession == "" {
		http.Redirect(w, r, "/?signed_out=local", http.StatusSeeOther)
		return
	}

	state := rand.Text()
	a.cookies.set(w, a.cookies.logout, state, logoutTTL)
	u, _ := url.Parse(a.endSession) // checked in newApp
	q := u.Query()
	// id_token_hint names the session to end and proves which client asks;
	// post_logout_redirect_uri must be registered for this client.
	q.Set("id_token_hint", s.RawIDToken)
	q.Set("post_logout_redirect_uri", a.postLogoutRedirect)
	q.Set("client_id", a.oauth2.ClientID)
	q.Set("state", state)
	u.RawQuery = q.Encode()
	http.Redirect(w, r, u.String(), http.StatusSeeOther)
}
