package web

import (
	"context"
	"errors"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/inkpass/inkpass/internal/oidc"
	"github.com/inkpass/inkpass/internal/session"
	"github.com/inkpass/inkpass/internal/user"
)

// loginWait bounds how long a login may wait for the password-hashing pool.
// It stays under the server's 60 s write timeout, and is long enough for a
// burst of 1,000 simultaneous logins (about 22 s on two cores at OWASP's
// argon2id) to be answered in full.
const loginWait = 45 * time.Second

// msgBadCredentials is the one message for unknown user, wrong password and
// deactivated account, so the page never tells which.
const msgBadCredentials = "The username or password is incorrect."

func loginAction(reqID string) string { return stepURL(stepRules[stepPassword].page, reqID) }

// loginForm shows the sign-in page, the password step of a pending
// authorization request (?req=) or of inkpass itself.
func (s *server) loginForm(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	browser := s.browserID(w, r)
	reqID := r.URL.Query().Get("req")
	page := LoginPage{Studio: s.studio(r.Context()), Action: ownStepURL(loginAction(""), reqID, r), CSRF: s.csrfToken(browser)}
	var pending *oidc.AuthRequest
	if reqID != "" {
		f, ok := s.resume(w, r, reqID, browser, stepPassword)
		if !ok {
			return
		}
		pending = f.req
		page.ClientName, page.Username = f.req.ClientName, f.req.LoginHint
		// Single sign-on: a browser whose session already satisfies the
		// password step goes straight on.
		need, err := stepRules[stepPassword].needed(s, ctx, f)
		if err != nil {
			s.serverError(w, r, "check sign-in step", err)
			return
		}
		if !need {
			s.advance(w, r, f)
			return
		}
	}
	s.renderLogin(w, r, http.StatusOK, page, pending)
}

// pendingRequest loads this browser's pending request, or shows why not.
func (s *server) pendingRequest(w http.ResponseWriter, r *http.Request, reqID, browser string) (*oidc.AuthRequest, bool) {
	req, err := s.Provider.LoadAuthRequest(r.Context(), reqID, browser)
	if errors.Is(err, oidc.ErrUnknownAuthRequest) {
		s.expiredPage(w, r)
		return nil, false
	}
	if err != nil {
		s.serverError(w, r, "load auth request", err)
		return nil, false
	}
	return req, true
}

// renderLogin shows the login page. The pending request's redirect URI joins
// the page's CSP form-action: browsers apply it to the redirect that follows
// the form's POST.
func (s *server) renderLogin(w http.ResponseWriter, r *http.Request, status int, page LoginPage, req *oidc.AuthRequest) {
	if s.MFA != nil && s.MFA.PasskeysEnabled() {
		// A username-less passkey ceremony for this browser and request
		// (passkey_login.go), replaced each time the page is shown.
		reqID := r.URL.Query().Get("req")
		opts, err := s.MFA.BeginPasswordless(r.Context(), session.Hash(s.browserID(w, r)), reqID)
		if err != nil {
			s.serverError(w, r, "begin passkey sign-in", err)
			return
		}
		page.PasskeyAction, page.PasskeyOptions = ownStepURL(pathPasskeyLogin, reqID, r), string(opts)
	}
	var origins []string
	if req != nil {
		origins = append(origins, req.RedirectURI)
	}
	if err := s.pages.render(w, status, pageLogin, page, origins...); err != nil {
		s.log.ErrorContext(r.Context(), "render login", "err", err)
	}
}

// loginSubmit is the password step: it checks the password, completes the
// login, starts a session and, for a pending request, hands it to the next
// step (advance).
func (s *server) loginSubmit(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	browser := cookieValue(r, s.cookies.browser)
	reqID := r.URL.Query().Get("req")
	f, req, page, ok := s.loginPost(w, r, reqID, browser)
	if !ok {
		return
	}
	page.Username = r.PostFormValue("username")
	// A login that cannot get a hashing slot in time is told to retry,
	// rather than left to outlive the server's write timeout while its hash
	// still runs for nobody.
	authCtx, cancel := context.WithTimeout(ctx, loginWait)
	var u *user.User
	pl, err := s.Users.VerifyPassword(authCtx, r.PostFormValue("username"), r.PostFormValue("password"), s.clientAddr(r))
	secondFactor := false
	if err == nil {
		// The second factor (stepSecondFactor) sits here, between the
		// password and the end of the login: a user who must give one
		// gets its page instead of a session. The password attempt is
		// settled now (PasswordVerified: a PendingLogin cannot wait for
		// another request), and what it proved is kept server-side for
		// this browser and request (startSecondFactor).
		secondFactor, err = s.userNeedsSecondFactor(authCtx, req, pl.User.ID, pl.User, cookieValue(r, s.cookies.device))
		switch {
		case err != nil:
			if aerr := s.Users.AbandonLogin(ctx, pl); aerr != nil {
				s.log.WarnContext(ctx, "abandon login", "err", aerr)
			}
		case secondFactor:
			u, err = s.Users.PasswordVerified(authCtx, pl)
		default:
			u, err = s.Users.CompleteLogin(authCtx, pl)
		}
	}
	cancel()
	var throttled *user.ThrottledError
	switch {
	case errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil:
		s.Metrics.Login("busy")
		s.log.WarnContext(ctx, "login queue full: asked the browser to retry")
		w.Header().Set("Retry-After", "5")
		s.errorPage(w, r, http.StatusServiceUnavailable, "Sign-in is busy",
			"Too many people are signing in at this moment. Wait a few seconds and try again.")
		return
	case errors.As(err, &throttled):
		s.Metrics.Login("throttled")
		page.Error = "Too many failed attempts."
		if throttled.Concurrent {
			page.Error = "Another sign-in for this account, or too many from your network, is in progress."
		}
		page.RetryAfterSeconds = int(math.Ceil(throttled.RetryAfter.Seconds()))
		w.Header().Set("Retry-After", strconv.Itoa(page.RetryAfterSeconds))
		s.renderLogin(w, r, http.StatusTooManyRequests, page, req)
		return
	case errors.Is(err, user.ErrInvalidCredentials):
		s.Metrics.Login("invalid_credentials")
		page.Error = msgBadCredentials
		s.renderLogin(w, r, http.StatusUnauthorized, page, req)
		return
	case err != nil:
		s.Metrics.Login("error")
		s.serverError(w, r, "authenticate", err)
		return
	}

	if secondFactor {
		s.startSecondFactor(w, r, f, reqID, browser, u)
		return
	}
	s.Metrics.Login("succeeded")
	sess, ok := s.newSession(w, r, u.ID, []string{session.MethodPassword})
	if !ok {
		return
	}
	s.log.InfoContext(ctx, "login succeeded", "user_id", u.ID)
	if f == nil {
		next := signedInURL(r)
		if r.URL.Query().Get("next") == "home" {
			next = "/"
		}
		http.Redirect(w, r, next, http.StatusSeeOther)
		return
	}
	if !f.req.AllowsUser(u.ID) {
		// The client asked for a particular user (id_token_hint); a
		// different one signed in. Tell the client rather than hand it
		// someone else's code.
		s.respond(w, r, s.Provider.ErrorResponse(f.req, oidc.ErrLoginRequired()))
		return
	}
	// This session passed the request's password step; the next step's
	// page answers for it alone.
	f.req.LoginSID, f.sess = sess.SID, sess
	s.advance(w, r, f)
}

// loginPost begins a form posted to the password step (the password form
// or the login page's passkey button): the form is read and its CSRF token
// checked, the pending request (?req=, reqID) is resumed at stepPassword,
// and the login page to show again on a failure is prepared. f and req are
// nil for a sign-in at inkpass itself. When ok is false the answer is sent.
func (s *server) loginPost(w http.ResponseWriter, r *http.Request, reqID, browser string) (f *signIn, req *oidc.AuthRequest, page LoginPage, ok bool) {
	if err := r.ParseForm(); err != nil {
		s.errorPage(w, r, http.StatusBadRequest, "The form could not be read", "")
		return nil, nil, page, false
	}
	if !s.checkCSRF(r) {
		s.errorPage(w, r, http.StatusForbidden, "This form has expired",
			"Reload the sign-in page and try again. (Cookies must be enabled.)")
		return nil, nil, page, false
	}
	if reqID != "" {
		if f, ok = s.resume(w, r, reqID, browser, stepPassword); !ok {
			return nil, nil, page, false
		}
		req = f.req
	}
	page = LoginPage{Studio: s.studio(r.Context()), Action: ownStepURL(loginAction(""), reqID, r), CSRF: s.csrfToken(browser)}
	if req != nil {
		page.ClientName = req.ClientName
	}
	return f, req, page, true
}

// newSession starts a session for uid whose amr is methods, and sets its
// cookie. A new session on every login: the browser's previous one ends
// first, so a cookie planted before the login is worthless after it
// (session fixation). When ok is false the error page is sent.
func (s *server) newSession(w http.ResponseWriter, r *http.Request, uid int64, methods []string) (sess *session.Session, ok bool) {
	ctx := r.Context()
	if old := cookieValue(r, s.cookies.session); old != "" {
		if err := s.Provider.EndSession(ctx, old); err != nil {
			s.log.WarnContext(ctx, "end previous session", "err", err)
		}
	}
	token, sess, err := s.Provider.StartSession(ctx, uid, methods)
	if err != nil {
		s.serverError(w, r, "start session", err)
		return nil, false
	}
	s.cookies.set(w, s.cookies.session, token, sess.ExpiresAt.Sub(sess.CreatedAt))
	return sess, true
}

// finish answers a request with a code. A pending request is answered exactly
// once: it is deleted before the code is issued, so a double-submitted form
// cannot get two.
func (s *server) finish(w http.ResponseWriter, r *http.Request, reqID string, req *oidc.AuthRequest, sess *session.Session) {
	if reqID == "" {
		s.grant(w, r, req, sess)
		return
	}
	if err := s.Provider.FinishAuthRequest(r.Context(), reqID); err != nil {
		if errors.Is(err, oidc.ErrUnknownAuthRequest) {
			s.errorPage(w, r, http.StatusBadRequest, "This sign-in has already been used",
				"Go back to the app you came from and sign in again.")
			return
		}
		s.serverError(w, r, "finish auth request", err)
		return
	}
	s.grant(w, r, req, sess)
}
