package web

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/gorilla/mux"

	"github.com/inkpass/inkpass/internal/session"
	"github.com/inkpass/inkpass/internal/user"
	"github.com/inkpass/inkpass/internal/userlink"
)

// singleUseLinks is the part of userlink.Service the pages use: the link
// page (an invitation, a reset, a verification), "Forgot password?" and
// the account page's "Verify my email".
type singleUseLinks interface {
	EmailEnabled() bool
	Lookup(ctx context.Context, token string) (userlink.Purpose, *user.User, error)
	SetPassword(ctx context.Context, token, plain string) (*user.User, error)
	VerifyEmail(ctx context.Context, token string) (*user.User, error)
	SendEmailVerification(ctx context.Context, userID int64) (email string, err error)
	ForgotPassword(ctx context.Context, login string) error
}

const (
	pathLink   = userlink.PathPrefix + "{token}"
	pathForgot = "/login/forgot"
)

// The link page's one message for an unknown, used, expired or superseded
// link: which of them it was is nobody's business but the database's.
const (
	msgLinkDeadTitle = "This link can no longer be used"
	msgLinkDead      = "Links work once and only for a while. Ask the studio for a new one, or use “Forgot password?” on the sign-in page."
)

// linkHeaders: the token is in the URL, so no Referer may carry it on, and
// no cache may keep the page.
func linkHeaders(w http.ResponseWriter) {
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.Header().Set("Cache-Control", "no-store")
}

func (s *server) linkDead(w http.ResponseWriter, r *http.Request) {
	s.errorPage(w, r, http.StatusGone, msgLinkDeadTitle, msgLinkDead)
}

// linkForm shows what a live link offers: a new-password form for an
// invitation or a reset, a confirm button for a verification. It never
// uses the link (mail scanners open links too).
func (s *server) linkForm(w http.ResponseWriter, r *http.Request) {
	linkHeaders(w)
	token := mux.Vars(r)["token"]
	p, u, err := s.Links.Lookup(r.Context(), token)
	if errors.Is(err, userlink.ErrInvalid) {
		s.linkDead(w, r)
		return
	}
	if err != nil {
		s.serverError(w, r, "look up link", err)
		return
	}
	s.renderLink(w, r, http.StatusOK, p, u, "")
}

func (s *server) renderLink(w http.ResponseWriter, r *http.Request, status int, p userlink.Purpose, u *user.User, errMsg string) {
	page := LinkPage{Studio: s.studio(r.Context()), Action: r.URL.Path, CSRF: s.csrfToken(s.browserID(w, r)), Username: u.Username, Error: errMsg}
	switch p {
	case userlink.Invitation:
		page.Title, page.SetPassword = "Welcome", true
	case userlink.PasswordReset:
		page.Title, page.SetPassword = "Choose a new password", true
	default:
		page.Title, page.Email = "Confirm your email", u.Email
	}
	if err := s.pages.render(w, status, pageLink, page); err != nil {
		s.log.ErrorContext(r.Context(), "render link page", "err", err)
	}
}

// linkSubmit uses the link: for a password, the policy is checked, then the
// link is used and the password set in one transaction (which ends every
// session of the user), and the person is signed in, through the second
// factor when they must give one (or enrol one first); for a verification,
// the email is recorded as verified.
func (s *server) linkSubmit(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	linkHeaders(w)
	if err := r.ParseForm(); err != nil || !s.checkCSRF(r) {
		s.errorPage(w, r, http.StatusForbidden, "This form has expired", "Open the link from your message again.")
		return
	}
	token := mux.Vars(r)["token"]
	p, u, err := s.Links.Lookup(ctx, token)
	if errors.Is(err, userlink.ErrInvalid) {
		s.linkDead(w, r)
		return
	}
	if err != nil {
		s.serverError(w, r, "look up link", err)
		return
	}
	if !p.SetsPassword() {
		s.linkVerifyEmail(w, r, token)
		return
	}
	next, confirm := r.PostFormValue("new_password"), r.PostFormValue("confirm_password")
	if next != confirm {
		s.renderLink(w, r, http.StatusBadRequest, p, u, "The new password and its confirmation differ.")
		return
	}
	u2, err := s.Links.SetPassword(ctx, token, next)
	var fe *user.FieldError
	switch {
	case errors.As(err, &fe):
		s.renderLink(w, r, http.StatusBadRequest, p, u, "The new password "+fe.Problem+".")
		return
	case errors.Is(err, userlink.ErrInvalid):
		s.linkDead(w, r)
		return
	case err != nil:
		s.serverError(w, r, "set password by link", err)
		return
	}
	u = u2
	s.log.InfoContext(ctx, "password set by link", "user_id", u.ID, "purpose", string(p))
	// The second factor comes first, as after a password at /login: a user
	// with a factor gives it, a user whose role must have one enrols.
	need, err := s.userNeedsSecondFactor(ctx, nil, u.ID, u, cookieValue(r, s.cookies.device))
	if err != nil {
		s.serverError(w, r, "check second factor", err)
		return
	}
	if need {
		s.startSecondFactor(w, r, nil, "", s.browserID(w, r), u)
		return
	}
	if _, ok := s.newSession(w, r, u.ID, []string{session.MethodPassword}); !ok {
		return
	}
	http.Redirect(w, r, "/account?done=password-set", http.StatusSeeOther)
}

func (s *server) linkVerifyEmail(w http.ResponseWriter, r *http.Request, token string) {
	u, err := s.Links.VerifyEmail(r.Context(), token)
	if errors.Is(err, userlink.ErrInvalid) {
		s.linkDead(w, r)
		return
	}
	if err != nil {
		s.serverError(w, r, "verify email by link", err)
		return
	}
	s.log.InfoContext(r.Context(), "email verified by link", "user_id", u.ID)
	page := LinkPage{Studio: s.studio(r.Context()), Title: "Email confirmed", Username: u.Username, Email: u.Email, Done: true}
	if err := s.pages.render(w, http.StatusOK, pageLink, page); err != nil {
		s.log.ErrorContext(r.Context(), "render link page", "err", err)
	}
}

// accountVerifyEmail sends the signed-in user a link to their current email.
func (s *server) accountVerifyEmail(w http.ResponseWriter, r *http.Request) {
	u, ok := s.accountForm(w, r)
	if !ok {
		return
	}
	_, err := s.Links.SendEmailVerification(r.Context(), u.ID)
	switch {
	case errors.Is(err, userlink.ErrTooMany):
		s.renderAccount(w, r, http.StatusTooManyRequests, u, "", "Several links were sent in the last hour. Use the newest, or try again later.")
		return
	case errors.Is(err, userlink.ErrNoEmail):
		s.renderAccount(w, r, http.StatusBadRequest, u, "", "There is no email address to verify.")
		return
	case err != nil:
		s.serverError(w, r, "send verification link", err)
		return
	}
	http.Redirect(w, r, "/account?done=verify-sent", http.StatusSeeOther)
}

// forgotForm asks for the username or email of the account to reset.
func (s *server) forgotForm(w http.ResponseWriter, r *http.Request) {
	s.renderForgot(w, r, http.StatusOK, ForgotPage{})
}

func (s *server) renderForgot(w http.ResponseWriter, r *http.Request, status int, page ForgotPage) {
	page.Studio, page.Action, page.CSRF = s.studio(r.Context()), pathForgot, s.csrfToken(s.browserID(w, r))
	if err := s.pages.render(w, status, pageForgot, page); err != nil {
		s.log.ErrorContext(r.Context(), "render forgot password", "err", err)
	}
}

// forgotSubmit gives everyone the same answer: the account is looked up,
// and a link sent to its own email, by a queue behind the answer, so that
// neither the words, the status nor the time of the answer tell whether
// the account exists, is active or has an email. Addresses are limited
// here; accounts by userlink (a few links an hour).
func (s *server) forgotSubmit(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil || !s.checkCSRF(r) {
		s.errorPage(w, r, http.StatusForbidden, "This form has expired", "Reload the page and try again.")
		return
	}
	if ok, wait := s.forgotLimit.allow(s.clientAddr(r)); !ok {
		secs := int(wait/time.Second) + 1
		w.Header().Set("Retry-After", strconv.Itoa(secs))
		s.renderForgot(w, r, http.StatusTooManyRequests, ForgotPage{RetryAfterSeconds: secs})
		return
	}
	login := r.PostFormValue("login")
	if !s.forgot.add(login) {
		s.log.WarnContext(r.Context(), "password reset queue full: request dropped")
	}
	s.renderForgot(w, r, http.StatusOK, ForgotPage{Sent: true})
}

// forgotQueue runs the lookups and sends of "Forgot password?" one at a
// time behind the page's answer. Its goroutine exists only while there is
// work, so an idle server (or a test's) holds none.
type forgotQueue struct {
	mu      sync.Mutex
	jobs    []string
	running bool
	run     func(login string)
}

// maxForgotQueue bounds the queue; the per-address limit keeps it short.
const maxForgotQueue = 256

func (q *forgotQueue) add(login string) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.jobs) >= maxForgotQueue {
		return false
	}
	q.jobs = append(q.jobs, login)
	if !q.running {
		q.running = true
		go q.drain()
	}
	return true
}

func (q *forgotQueue) drain() {
	for {
		q.mu.Lock()
		if len(q.jobs) == 0 {
			q.running = false
			q.mu.Unlock()
			return
		}
		login := q.jobs[0]
		q.jobs = q.jobs[1:]
		q.mu.Unlock()
		q.run(login)
	}
}

// forgotTimeout bounds one queued lookup and send.
const forgotTimeout = 30 * time.Second

func (s *server) sendForgotten(login string) {
	ctx, cancel := context.WithTimeout(context.Background(), forgotTimeout)
	defer cancel()
	if err := s.Links.ForgotPassword(ctx, login); err != nil {
		s.log.ErrorContext(ctx, "forgot password", "err", err)
	}
}

// forgotPerAddress is the per-address budget of "Forgot password?": five
// at once, then one every ten minutes.
var forgotPerAddress = PendingLimit{PerMinute: 0.1, Burst: 5}
