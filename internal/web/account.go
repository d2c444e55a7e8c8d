package web

import (
	"errors"
	"math"
	"net/http"
	"strconv"

	"github.com/inkpass/inkpass/internal/audit"
	"github.com/inkpass/inkpass/internal/session"
	"github.com/inkpass/inkpass/internal/user"
)

// Notices shown after an account action, keyed by the ?done= value the
// action redirects with (POST-redirect-GET).
var accountNotices = map[string]string{
	"password":   "Your password has been changed.",
	"revoked":    "The app's access has been revoked.",
	"mfa-rename": "The factor has been renamed.",
	"mfa-remove": "The factor has been removed.",

	// After a single-use link (links.go).
	"password-set": "Your password is set. You are signed in.",
	"verify-sent":  "We have sent a link to your email address. Open it to confirm the address.",
}

// msgSignedOutAfterFailures tells a user why the account page sent them to
// sign in again.
const msgSignedOutAfterFailures = "You have been signed out because the current password was entered wrongly too many times. Sign in again."

// accountSession returns the signed-in user, or sends the browser to sign in.
// A deactivated user has no session (the store joins on is_active).
func (s *server) accountSession(w http.ResponseWriter, r *http.Request) (*session.Session, *user.User, bool) {
	sess, err := s.Provider.Session(r.Context(), cookieValue(r, s.cookies.session))
	if err != nil {
		s.serverError(w, r, "read session", err)
		return nil, nil, false
	}
	if sess == nil {
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return nil, nil, false
	}
	u, err := s.Users.Get(r.Context(), sess.UserID)
	if err != nil || !u.Active {
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return nil, nil, false
	}
	return sess, u, true
}

// account shows the user's own profile, a password form and their connected
// apps.
func (s *server) account(w http.ResponseWriter, r *http.Request) {
	_, u, ok := s.accountSession(w, r)
	if !ok {
		return
	}
	s.renderAccount(w, r, http.StatusOK, u, accountNotices[r.URL.Query().Get("done")], "")
}

func (s *server) renderAccount(w http.ResponseWriter, r *http.Request, status int, u *user.User, notice, errMsg string) {
	s.renderAccountPage(w, r, status, u, notice, errMsg, nil, nil, "")
}

// renderAccountPage is renderAccount with what a second factor form leaves
// on the page: an enrolment in progress, recovery codes just made (shown
// this once), or, when passkeyCreate is set, a passkey enrolment's options
// for the page's script.
func (s *server) renderAccountPage(w http.ResponseWriter, r *http.Request, status int, u *user.User, notice, errMsg string, enrol *EnrolView, codes []string, passkeyCreate string) {
	apps, err := s.Accounts.ConnectedApps(r.Context(), u.ID)
	if err != nil {
		s.serverError(w, r, "list connected apps", err)
		return
	}
	page := AccountPage{
		Studio: s.studio(r.Context()), Username: u.Username, Name: u.Name, Role: string(u.Role), ArtistName: u.ArtistName,
		Email: u.Email, Phone: u.Phone, Instagram: u.Instagram, Birthdate: u.Birthdate,
		CSRF: s.csrfToken(s.browserID(w, r)), PasswordAction: "/account/password", Notice: notice, Error: errMsg,
		EmailVerified: u.EmailVerified,
	}
	if s.Links != nil && s.Links.EmailEnabled() && u.Email != "" && !u.EmailVerified {
		page.VerifyEmailAction = "/account/email"
	}
	for _, a := range apps {
		page.Apps = append(page.Apps, AccountApp{ClientID: a.ClientID, ClientName: a.ClientName, Scopes: a.Scope, RevokeAction: "/account/revoke"})
	}
	if err := s.accountFactors(r, &page, u, enrol, codes); err != nil {
		s.serverError(w, r, "list factors", err)
		return
	}
	page.PasskeyCreate = passkeyCreate
	if err := s.pages.render(w, status, pageAccount, page); err != nil {
		s.log.ErrorContext(r.Context(), "render account", "err", err)
	}
}

// accountForm checks a form posted from the account page (its CSRF token and
// the signed-in session) and returns the session's user, or answers itself.
func (s *server) accountForm(w http.ResponseWriter, r *http.Request) (*user.User, bool) {
	if err := r.ParseForm(); err != nil || !s.checkCSRF(r) {
		s.errorPage(w, r, http.StatusForbidden, "This form has expired", "Reload the page and try again.")
		return nil, false
	}
	_, u, ok := s.accountSession(w, r)
	return u, ok
}

// currentPasswordOK checks the signed-in user's current password (under the
// password throttle) before a change that needs it: a password change, or
// removing the last second factor. It answers a refusal itself and reports
// whether the password was right.
func (s *server) currentPasswordOK(w http.ResponseWriter, r *http.Request, u *user.User, password, addr string) bool {
	ctx := r.Context()
	err := s.Users.CheckCurrentPassword(ctx, u.ID, password, addr)
	var throttled *user.ThrottledError
	switch {
	case errors.As(err, &throttled):
		secs := int(math.Ceil(throttled.RetryAfter.Seconds()))
		w.Header().Set("Retry-After", strconv.Itoa(secs))
		s.renderAccount(w, r, http.StatusTooManyRequests, u, "",
			"Too many password attempts. Wait "+strconv.Itoa(secs)+" seconds before trying again.")
		return false
	case errors.Is(err, user.ErrSignedOut):
		// Whoever holds this session has guessed at the password too often:
		// the session ends, and a new one needs the password at /login,
		// which the login throttle guards.
		if err := s.Provider.EndSession(ctx, cookieValue(r, s.cookies.session)); err != nil {
			s.serverError(w, r, "end session", err)
			return false
		}
		s.cookies.set(w, s.cookies.session, "", -1)
		s.log.InfoContext(ctx, "signed out after wrong current passwords", "user_id", u.ID)
		page := LoginPage{Studio: s.studio(r.Context()), Action: loginAction(""), CSRF: s.csrfToken(s.browserID(w, r)),
			Error: msgSignedOutAfterFailures}
		s.renderLogin(w, r, http.StatusUnauthorized, page, nil)
		return false
	case errors.Is(err, user.ErrInvalidCredentials):
		s.renderAccount(w, r, http.StatusBadRequest, u, "", "Your current password is not correct.")
		return false
	case err != nil:
		s.serverError(w, r, "check current password", err)
		return false
	}
	return true
}

// accountPassword changes the password: the current one is required, the new
// one must pass the policy (length, not the username).
func (s *server) accountPassword(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	u, ok := s.accountForm(w, r)
	if !ok {
		return
	}
	cur, next, confirm := r.PostFormValue("current_password"), r.PostFormValue("new_password"), r.PostFormValue("confirm_password")
	if !s.currentPasswordOK(w, r, u, cur, s.clientAddr(r)) {
		return
	}
	if next != confirm {
		s.renderAccount(w, r, http.StatusBadRequest, u, "", "The new password and its confirmation differ.")
		return
	}
	err := s.Users.SetPassword(ctx, u.ID, next)
	var fe *user.FieldError
	switch {
	case errors.As(err, &fe):
		s.renderAccount(w, r, http.StatusBadRequest, u, "", "The new password "+fe.Problem+".")
		return
	case err != nil:
		s.serverError(w, r, "set password", err)
		return
	}
	s.log.InfoContext(ctx, "password changed", "user_id", u.ID)
	// Changing the password ended every session, this one included; the
	// person who just proved both passwords gets a fresh one.
	token, sess, err := s.Provider.StartSession(ctx, u.ID, []string{session.MethodPassword})
	if err != nil {
		s.serverError(w, r, "start session", err)
		return
	}
	s.cookies.set(w, s.cookies.session, token, sess.ExpiresAt.Sub(sess.CreatedAt))
	http.Redirect(w, r, "/account?done=password", http.StatusSeeOther)
}

// accountRevoke withdraws an app's consent and revokes its tokens.
func (s *server) accountRevoke(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	u, ok := s.accountForm(w, r)
	if !ok {
		return
	}
	clientID := r.PostFormValue("client_id")
	if clientID == "" {
		s.errorPage(w, r, http.StatusBadRequest, "The form could not be read", "")
		return
	}
	if err := s.Accounts.RevokeClientAccess(ctx, u.ID, clientID); err != nil {
		s.serverError(w, r, "revoke client access", err)
		return
	}
	s.record(r, audit.Event{Kind: audit.ConsentRevoked, UserID: u.ID, Username: u.Username, ClientID: clientID})
	http.Redirect(w, r, "/account?done=revoked", http.StatusSeeOther)
}
