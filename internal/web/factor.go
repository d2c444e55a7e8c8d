package web

import (
	"errors"
	"html/template"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/inkpass/inkpass/internal/audit"
	"github.com/inkpass/inkpass/internal/mfa"
	"github.com/inkpass/inkpass/internal/oidc"
	"github.com/inkpass/inkpass/internal/session"
	"github.com/inkpass/inkpass/internal/user"
)

// pathFactor is the second factor's page, the stepSecondFactor of a sign-in.
const pathFactor = "/login/factor"

// startSecondFactor is the end of a password step that a second factor
// completes (loginSubmit): no session is started. The browser's old session
// ends (whoever it was: the factor's page answers only for the password
// just given), the proof "user u's password, now" is kept server-side for
// this browser and request (PendingTTL), and the browser goes to the
// factor's page.
func (s *server) startSecondFactor(w http.ResponseWriter, r *http.Request, f *signIn, reqID, browser string, u *user.User) {
	ctx := r.Context()
	if f != nil && !f.req.AllowsUser(u.ID) {
		s.respond(w, r, s.Provider.ErrorResponse(f.req, oidc.ErrLoginRequired()))
		return
	}
	if old := cookieValue(r, s.cookies.session); old != "" {
		if err := s.Provider.EndSession(ctx, old); err != nil {
			s.log.WarnContext(ctx, "end previous session", "err", err)
		}
		s.cookies.set(w, s.cookies.session, "", -1)
	}
	if err := s.MFA.StartPending(ctx, session.Hash(browser), session.Hash(reqID), u.ID); err != nil {
		s.serverError(w, r, "save password proof", err)
		return
	}
	s.Metrics.Login("password_verified")
	http.Redirect(w, r, ownStepURL(pathFactor, reqID, r), http.StatusSeeOther)
}

// factorSignIn is a sign-in at its second factor.
type factorSignIn struct {
	f       *signIn // nil for a sign-in at inkpass itself (no ?req=)
	reqID   string
	browser string
	u       *user.User
	// proof: the password was given in this sign-in (the proof is to be
	// consumed); otherwise the session's user steps up.
	proof bool
}

// factorContext picks up a sign-in at its second factor, or answers itself.
// With ?req= the pending request is resumed at stepSecondFactor (so its
// password step must be done for this browser); a request that does not
// need the factor (any more) goes on to its next step. Without, only the
// password proof for this browser and no request will do.
func (s *server) factorContext(w http.ResponseWriter, r *http.Request, browser string) (*factorSignIn, bool) {
	ctx := r.Context()
	if s.MFA == nil {
		s.notFound(w, r)
		return nil, false
	}
	fs := &factorSignIn{reqID: r.URL.Query().Get("req"), browser: browser}
	var userID int64
	if fs.reqID != "" {
		f, ok := s.resume(w, r, fs.reqID, browser, stepSecondFactor)
		if !ok {
			return nil, false
		}
		need, err := secondFactorNeeded(s, ctx, f)
		if err != nil {
			s.serverError(w, r, "check sign-in step", err)
			return nil, false
		}
		if !need {
			s.advance(w, r, f)
			return nil, false
		}
		fs.f = f
		if f.proofUser != 0 && !f.req.LoginDoneBy(f.sess) {
			userID, fs.proof = f.proofUser, true
		} else {
			userID = f.sess.UserID
		}
	} else {
		uid, _, ok, err := s.MFA.Pending(ctx, session.Hash(browser), session.Hash(""))
		if err != nil {
			s.serverError(w, r, "read password proof", err)
			return nil, false
		}
		if !ok {
			http.Redirect(w, r, withReturn("/login", r), http.StatusSeeOther)
			return nil, false
		}
		userID, fs.proof = uid, true
	}
	u, err := s.Users.Get(ctx, userID)
	if err != nil || !u.Active {
		s.expiredPage(w, r)
		return nil, false
	}
	fs.u = u
	return fs, true
}

// factorForm shows the second factor's page: the code field, or, for a user
// who has no factor yet but must give one, the enrolment of an
// authenticator app (QR code and secret) whose first code completes both.
func (s *server) factorForm(w http.ResponseWriter, r *http.Request) {
	browser := s.browserID(w, r)
	fs, ok := s.factorContext(w, r, browser)
	if !ok {
		return
	}
	s.renderFactor(w, r, http.StatusOK, fs, "", 0)
}

func (s *server) renderFactor(w http.ResponseWriter, r *http.Request, status int, fs *factorSignIn, errMsg string, retry int) {
	ctx := r.Context()
	page := FactorPage{Studio: s.studio(r.Context()), Action: ownStepURL(pathFactor, fs.reqID, r), CSRF: s.csrfToken(fs.browser),
		Username: fs.u.Username, Error: errMsg, RetryAfterSeconds: retry, RememberDays: rememberDays(s.MFA.RememberFor())}
	var origins []string
	if fs.f != nil {
		page.ClientName = fs.f.req.ClientName
		origins = append(origins, fs.f.req.RedirectURI)
	}
	has, err := s.MFA.HasFactor(ctx, fs.u.ID)
	if err != nil {
		s.serverError(w, r, "list factors", err)
		return
	}
	if !has {
		e, err := s.MFA.ResumeTOTP(ctx, fs.u)
		if err != nil {
			s.serverError(w, r, "begin enrolment", err)
			return
		}
		page.Enrol = enrolView(e)
	} else if s.MFA.PasskeysEnabled() {
		// A new challenge for each showing of the page, bound to this
		// browser and request; the one before is replaced.
		opts, err := s.MFA.BeginPasskeySignIn(ctx, fs.u, session.Hash(fs.browser), fs.reqID)
		if err != nil {
			s.serverError(w, r, "begin passkey sign-in", err)
			return
		}
		page.PasskeyOptions = string(opts)
	}
	if retry > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(retry))
	}
	if err := s.pages.render(w, status, pageFactor, page, origins...); err != nil {
		s.log.ErrorContext(ctx, "render factor", "err", err)
	}
}

func enrolView(e *mfa.Enrolment) *EnrolView {
	// The QR code is a data: URI that inkpass drew itself; html/template
	// would otherwise refuse a data: URI in src.
	return &EnrolView{FactorID: strconv.FormatInt(e.FactorID, 10), Secret: e.Secret, QR: template.URL(e.QR)}
}

// factorSubmit checks the code (or confirms the enrolment with it) and only
// then starts the session, whose amr records both methods and whose
// auth_time is now, the moment the last factor was given.
func (s *server) factorSubmit(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if err := r.ParseForm(); err != nil || !s.checkCSRF(r) {
		s.errorPage(w, r, http.StatusForbidden, "This form has expired", "Go back to the app you came from and sign in again.")
		return
	}
	fs, ok := s.factorContext(w, r, cookieValue(r, s.cookies.browser))
	if !ok {
		return
	}
	code, addr := r.PostFormValue("code"), s.clientAddr(r)
	var codes []string
	var err error
	// The methods of the session to come (RFC 8176): the password, then
	// the factor given.
	amr := []string{session.MethodPassword, session.MethodOTP, session.MethodMFA}
	if assertion := r.PostFormValue("passkey"); assertion != "" {
		var method string
		method, err = s.MFA.VerifyPasskey(ctx, fs.u, session.Hash(fs.browser), fs.reqID, []byte(assertion), addr)
		amr = []string{session.MethodPassword, method, session.MethodMFA}
	} else if id := r.PostFormValue("factor_id"); id != "" {
		n, perr := strconv.ParseInt(id, 10, 64)
		if perr != nil {
			s.errorPage(w, r, http.StatusBadRequest, "The form could not be read", "")
			return
		}
		codes, err = s.MFA.ConfirmTOTP(ctx, fs.u, n, r.PostFormValue("name"), code, addr)
	} else {
		_, err = s.MFA.Verify(ctx, fs.u, code, addr)
	}
	if !s.codeAccepted(w, r, err, func(status int, msg string, retry int) { s.renderFactor(w, r, status, fs, msg, retry) }) {
		return
	}
	if fs.proof {
		took, err := s.MFA.TakePending(ctx, session.Hash(fs.browser), session.Hash(fs.reqID))
		if err != nil {
			s.serverError(w, r, "take password proof", err)
			return
		}
		if !took {
			// Another request of this browser finished this sign-in.
			s.expiredPage(w, r)
			return
		}
	}
	sess, ok := s.newSession(w, r, fs.u.ID, amr)
	if !ok {
		return
	}
	if r.PostFormValue("remember") == "on" && s.MFA.RememberFor() > 0 {
		dev, err := s.MFA.RememberDevice(ctx, fs.u.ID)
		if err != nil {
			s.serverError(w, r, "remember device", err)
			return
		}
		s.cookies.set(w, s.cookies.device, dev, s.MFA.RememberFor())
	}
	s.Metrics.Login("succeeded")
	s.record(r, audit.Event{Kind: audit.LoginSucceeded, UserID: fs.u.ID, Username: fs.u.Username, Detail: "password and second factor"})
	s.log.InfoContext(ctx, "login succeeded", "user_id", fs.u.ID, "second_factor", true)
	next := signedInURL(r)
	if fs.f != nil {
		fs.f.req.LoginSID, fs.f.sess = sess.SID, sess
		if len(codes) == 0 {
			s.advance(w, r, fs.f)
			return
		}
		// The recovery codes are shown before the sign-in goes on: the
		// request remembers this session, and /login?req= picks it up.
		if err := s.Provider.RecordLogin(ctx, fs.reqID, fs.browser, fs.f.req, sess); err != nil {
			s.serverError(w, r, "record auth request login", err)
			return
		}
		next = stepURL("/login", fs.reqID)
	}
	if len(codes) == 0 {
		http.Redirect(w, r, next, http.StatusSeeOther)
		return
	}
	page := FactorPage{Studio: s.studio(r.Context()), Username: fs.u.Username, RecoveryCodes: codes, ContinueURL: next}
	if err := s.pages.render(w, http.StatusOK, pageFactor, page); err != nil {
		s.log.ErrorContext(ctx, "render recovery codes", "err", err)
	}
}

// rememberDays is d in whole days, at least 1; 0 when d is 0 (off).
func rememberDays(d time.Duration) int {
	if d <= 0 {
		return 0
	}
	return max(1, int(d/(24*time.Hour)))
}

// codeAccepted answers a rejected code through show (a wrong code, a locked
// counter) and reports whether err is nil.
func (s *server) codeAccepted(w http.ResponseWriter, r *http.Request, err error, show func(status int, msg string, retry int)) bool {
	var throttled *user.ThrottledError
	switch {
	case err == nil:
		return true
	case errors.As(err, &throttled):
		s.Metrics.Login("throttled")
		show(http.StatusTooManyRequests, "Too many wrong codes.", int(math.Ceil(throttled.RetryAfter.Seconds())))
	case errors.Is(err, mfa.ErrInvalidCode):
		s.Metrics.Login("invalid_code")
		show(http.StatusUnauthorized, msgBadCode, 0)
	case errors.Is(err, mfa.ErrBadPasskey), errors.Is(err, mfa.ErrNoPasskeys):
		s.Metrics.Login("invalid_code")
		show(http.StatusUnauthorized, msgBadPasskey, 0)
	case errors.Is(err, mfa.ErrCloneWarning):
		s.Metrics.Login("invalid_code")
		show(http.StatusUnauthorized, "This passkey was refused: it may have been copied. Use another factor and tell the studio.", 0)
	case errors.Is(err, mfa.ErrNoEnrolment):
		show(http.StatusBadRequest, "This enrolment has expired: scan the new code and try again.", 0)
	default:
		s.serverError(w, r, "check code", err)
	}
	return false
}

// msgBadPasskey is the one message for a passkey that did not verify.
const msgBadPasskey = "Your passkey could not be verified. Try again, or enter a code."

// msgBadCode is the one message for a wrong, old or used code.
const msgBadCode = "That code is not valid. Enter the current code from your authenticator app, or an unused recovery code."
