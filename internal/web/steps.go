package web

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"

	"github.com/inkpass/inkpass/internal/oidc"
	"github.com/inkpass/inkpass/internal/session"
	"github.com/inkpass/inkpass/internal/user"
)

// Sign-in is a walk through ordered steps for one authorization request
// (docs/architecture.md, "Sign-in steps"). nextStep is the one place that
// decides what a request needs next; advance acts on that decision and resume
// is how each step's page picks a parked request up again by its id. The
// steps' state lives server-side: on the stored request (login_sid: which
// session satisfied the password step), on the session (how and when its user
// signed in), and in the consents table, so no edit of a URL skips a step.

// step is one stage of a sign-in, in the order they are taken.
type step int

const (
	// stepPassword: a session that satisfies the request (prompt, max_age,
	// id_token_hint), or the password at /login.
	stepPassword step = iota
	// stepSecondFactor: a code from an authenticator app or a recovery
	// code at /login/factor (enrolment first where one is demanded and the
	// user has none); see secondFactorNeeded.
	stepSecondFactor
	// stepConsent: the user approves a third-party client at /consent.
	stepConsent
	// stepIssue: the code goes to the client. It is needed when nothing
	// before it is.
	stepIssue
)

// stepRule is what the dispatcher knows of a step: whether this request and
// session still need it, whether the stored request shows it done for this
// session (a later step's page asks that of every earlier one), the page
// that takes it, and the error that answers prompt=none when it needs that
// page (OIDC Core §3.1.2.1: prompt=none never shows one).
type stepRule struct {
	name       string
	page       string
	needed     func(s *server, ctx context.Context, f *signIn) (bool, error)
	done       func(s *server, ctx context.Context, f *signIn) (bool, error)
	promptNone func() *oidc.Error
}

var stepRules = [...]stepRule{
	stepPassword: {
		name: "password",
		page: "/login",
		needed: func(s *server, _ context.Context, f *signIn) (bool, error) {
			return !f.req.LoginDoneBy(f.sess) && s.Provider.NeedsLogin(f.req, f.sess), nil
		},
		// Only the password step's own page records a login on the
		// request: a session that merely could satisfy it (a newer one
		// since, say) goes through /login, which records it. A password
		// verified for this browser and request while a second factor is
		// due (the proof kept server-side, f.proofUser) is done too: no
		// session exists until the factor is given.
		done: func(_ *server, _ context.Context, f *signIn) (bool, error) {
			return f.req.LoginDoneBy(f.sess) || f.proofUser != 0, nil
		},
		promptNone: oidc.ErrLoginRequired,
	},
	stepSecondFactor: {
		name:       "second factor",
		page:       pathFactor,
		needed:     secondFactorNeeded,
		done:       not(secondFactorNeeded),
		promptNone: oidc.ErrLoginRequired,
	},
	stepConsent: {
		name:       "consent",
		page:       "/consent",
		needed:     consentNeeded,
		done:       not(consentNeeded),
		promptNone: oidc.ErrConsentRequired,
	},
	// stepIssue has no rule: it is where a request ends up when no step
	// before it is needed (finish).
	stepIssue: {name: "issue"},
}

func (k step) String() string { return stepRules[k].name }

func consentNeeded(s *server, ctx context.Context, f *signIn) (bool, error) {
	return s.Provider.NeedsConsent(ctx, f.req, f.sess.UserID)
}

// secondFactorNeeded: a password was verified for this request but no factor
// given yet (f.proofUser, no session); or the browser's session lacks a
// second factor ("mfa" not in its amr) and the request (acr_values,
// require_mfa), the user's enrolment or the policy for the user's role
// (mfa.required_roles) demands one. Its page (factorPage) verifies the
// factor, or enrols one first, and only then starts the session, which
// records both methods.
func secondFactorNeeded(s *server, ctx context.Context, f *signIn) (bool, error) {
	if s.MFA == nil {
		return false, nil
	}
	if f.proofUser != 0 && !f.req.LoginDoneBy(f.sess) {
		return true, nil
	}
	if f.sess == nil || slices.Contains(f.sess.AMR, session.MethodMFA) {
		return false, nil
	}
	return s.userNeedsSecondFactor(ctx, f.req, f.sess.UserID, nil, f.device)
}

// userNeedsSecondFactor reports whether a sign-in of userID (u when at
// hand) for req (nil: inkpass itself) needs a second factor: the request
// asks for one, or the user has one or the user's role must, unless device
// (the browser's remembered-device cookie) is a live remembered device of
// this user. A remembered device never satisfies a request that asks for a
// second factor: the session it signs in says only "pwd".
func (s *server) userNeedsSecondFactor(ctx context.Context, req *oidc.AuthRequest, userID int64, u *user.User, device string) (bool, error) {
	if s.MFA == nil {
		return false, nil
	}
	if req != nil && req.WantsMFA() {
		return true, nil
	}
	has, err := s.MFA.HasFactor(ctx, userID)
	if err != nil {
		return false, err
	}
	if has {
		remembered, err := s.MFA.DeviceRemembered(ctx, device, userID)
		return !remembered, err
	}
	if u == nil {
		if u, err = s.Users.Get(ctx, userID); err != nil {
			return false, err
		}
	}
	return s.MFA.Required(string(u.Role)), nil
}

func not(f func(*server, context.Context, *signIn) (bool, error)) func(*server, context.Context, *signIn) (bool, error) {
	return func(s *server, ctx context.Context, in *signIn) (bool, error) {
		b, err := f(s, ctx, in)
		return !b, err
	}
}

// signIn is one authorization request on its way through the steps.
type signIn struct {
	// id is the pending request's id; "" until it is parked.
	id  string
	req *oidc.AuthRequest
	// sess is the browser's session; nil when it has none.
	sess *session.Session
	// storedLoginSID is the login_sid the stored request holds, so that
	// advance writes it only when a step has changed it.
	storedLoginSID string
	// proofUser is the user whose password this browser verified for this
	// request while the second factor is still due (mfa's pending proof,
	// server-side); 0 when there is none.
	proofUser int64
	// device is the browser's remembered-device cookie ("" for none).
	device string
}

// nextStep is the first step f still needs: stepIssue when it needs none.
// Every step after the password one needs a session, which a request past
// that step has.
func (s *server) nextStep(ctx context.Context, f *signIn) (step, error) {
	for k := stepPassword; k < stepIssue; k++ {
		need, err := stepRules[k].needed(s, ctx, f)
		if err != nil {
			return 0, err
		}
		if need {
			return k, nil
		}
	}
	return stepIssue, nil
}

// advance moves f on to the first step it still needs: the page of that step
// (the request parked server-side, with the session that passed its password
// step), an error for the client under prompt=none, or the code.
func (s *server) advance(w http.ResponseWriter, r *http.Request, f *signIn) {
	ctx := r.Context()
	next, err := s.nextStep(ctx, f)
	if err != nil {
		s.serverError(w, r, "next sign-in step", err)
		return
	}
	if next > stepPassword && f.sess != nil && !f.req.LoginDoneBy(f.sess) {
		// The browser's session satisfied the password step as it was
		// (single sign-on): the request remembers it, and later pages
		// answer for no other session.
		f.req.LoginSID = f.sess.SID
	}
	if next == stepIssue {
		s.finish(w, r, f.id, f.req, f.sess)
		return
	}
	rule := stepRules[next]
	if f.req.HasPrompt("none") {
		s.respond(w, r, s.Provider.ErrorResponse(f.req, rule.promptNone()))
		return
	}
	if rule.page == "" {
		// A step the dispatcher says is needed but that has no page
		// would strand the request: refuse rather than loop.
		s.serverError(w, r, "next sign-in step", errors.New("step "+rule.name+" has no page"))
		return
	}
	if f.id != "" && f.req.LoginSID != f.storedLoginSID {
		err := s.Provider.RecordLogin(ctx, f.id, s.browserID(w, r), f.req, f.sess)
		if errors.Is(err, oidc.ErrUnknownAuthRequest) {
			s.expiredPage(w, r)
			return
		}
		if err != nil {
			s.serverError(w, r, "record auth request login", err)
			return
		}
		f.storedLoginSID = f.req.LoginSID
	}
	s.park(w, r, f.id, f.req, rule.page)
}

// resume picks up the parked request reqID of browser (the browser cookie's
// value) at step at, the step whose page is asking. Every earlier step must show done for the browser's
// session; otherwise the browser goes to the page of the first that does not,
// and ok is false. So /consent?req= for a request whose password step is not
// done (no session, prompt=login, max_age, a newer session since) goes back
// to /login?req=.
func (s *server) resume(w http.ResponseWriter, r *http.Request, reqID, browser string, at step) (*signIn, bool) {
	req, ok := s.pendingRequest(w, r, reqID, browser)
	if !ok {
		return nil, false
	}
	sess, err := s.Provider.Session(r.Context(), cookieValue(r, s.cookies.session))
	if err != nil {
		s.serverError(w, r, "read session", err)
		return nil, false
	}
	f := &signIn{id: reqID, req: req, sess: sess, storedLoginSID: req.LoginSID, device: cookieValue(r, s.cookies.device)}
	if s.MFA != nil {
		uid, _, ok, err := s.MFA.Pending(r.Context(), session.Hash(browser), session.Hash(reqID))
		if err != nil {
			s.serverError(w, r, "read password proof", err)
			return nil, false
		}
		if ok {
			f.proofUser = uid
		}
	}
	for k := stepPassword; k < at; k++ {
		done, err := stepRules[k].done(s, r.Context(), f)
		if err != nil {
			s.serverError(w, r, "check sign-in step", err)
			return nil, false
		}
		if !done {
			page := stepRules[k].page
			if page == "" {
				// A step without a page is never left undone on its
				// own; start over from the password step.
				page = stepRules[stepPassword].page
			}
			http.Redirect(w, r, stepURL(page, reqID), http.StatusSeeOther)
			return nil, false
		}
	}
	return f, true
}

// stepURL is the address of a step's page for the parked request reqID.
func stepURL(page, reqID string) string {
	if reqID == "" {
		return page
	}
	return page + "?" + url.Values{"req": {reqID}}.Encode()
}

// expiredPage is the answer for a pending request that is gone.
func (s *server) expiredPage(w http.ResponseWriter, r *http.Request) {
	s.errorPage(w, r, http.StatusBadRequest, "This sign-in has expired",
		"Go back to the app you came from and sign in again.")
}
