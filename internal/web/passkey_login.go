package web

import (
	"errors"
	"net/http"

	"github.com/inkpass/inkpass/internal/audit"
	"github.com/inkpass/inkpass/internal/mfa"
	"github.com/inkpass/inkpass/internal/oidc"
	"github.com/inkpass/inkpass/internal/session"
	"github.com/inkpass/inkpass/internal/user"
)

// pathPasskeyLogin takes "Sign in with a passkey" from the login page: the
// password step and the second factor at once.
const pathPasskeyLogin = "/login/passkey"

// passkeyLoginSubmit checks the answer to the login page's username-less
// ceremony (bound to this browser and request). A passkey that verified its
// user (UV: a PIN or a fingerprint on the authenticator) counts as both
// factors: the session's amr is hwk or swk, then mfa, and the request goes
// on from its password step as after loginSubmit. Any failure shows the
// login page again, with the password form.
func (s *server) passkeyLoginSubmit(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if s.MFA == nil || !s.MFA.PasskeysEnabled() {
		s.notFound(w, r)
		return
	}
	browser := cookieValue(r, s.cookies.browser)
	reqID := r.URL.Query().Get("req")
	f, req, page, ok := s.loginPost(w, r, reqID, browser)
	if !ok {
		return
	}
	uid, method, err := s.MFA.PasswordlessSignIn(ctx, session.Hash(browser), reqID, []byte(r.PostFormValue("passkey")), s.clientAddr(r))
	var u *user.User
	if err == nil {
		if u, err = s.Users.Get(ctx, uid); err == nil && !u.Active {
			err = mfa.ErrBadPasskey
		} else if errors.Is(err, user.ErrNotFound) {
			err = mfa.ErrBadPasskey
		}
	}
	switch {
	case errors.Is(err, mfa.ErrBadPasskey), errors.Is(err, mfa.ErrCloneWarning):
		s.Metrics.Login("invalid_credentials")
		page.Error = "Your passkey could not be verified. Try again, or sign in with your password."
		s.renderLogin(w, r, http.StatusUnauthorized, page, req)
		return
	case err != nil:
		s.serverError(w, r, "passkey sign-in", err)
		return
	}
	sess, ok := s.newSession(w, r, u.ID, []string{method, session.MethodMFA})
	if !ok {
		return
	}
	s.Metrics.Login("succeeded")
	s.record(r, audit.Event{Kind: audit.LoginSucceeded, UserID: u.ID, Username: u.Username, Detail: "passkey with user verification"})
	s.log.InfoContext(ctx, "login succeeded", "user_id", u.ID, "passkey", true)
	if f == nil {
		http.Redirect(w, r, signedInURL(r), http.StatusSeeOther)
		return
	}
	if !f.req.AllowsUser(u.ID) {
		s.respond(w, r, s.Provider.ErrorResponse(f.req, oidc.ErrLoginRequired()))
		return
	}
	f.req.LoginSID, f.sess = sess.SID, sess
	s.advance(w, r, f)
}
