package web

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/inkpass/inkpass/internal/audit"
	"github.com/inkpass/inkpass/internal/oidc"
	"github.com/inkpass/inkpass/internal/session"
)

// consentForm shows a third-party client's request in plain words: who asks,
// and which profile fields each scope releases.
func (s *server) consentForm(w http.ResponseWriter, r *http.Request) {
	reqID := r.URL.Query().Get("req")
	browser := s.browserID(w, r)
	req, sess, ok := s.consentContext(w, r, reqID, browser)
	if !ok {
		return
	}
	u, err := s.Users.Get(r.Context(), sess.UserID)
	if err != nil {
		s.serverError(w, r, "load user", err)
		return
	}
	page := ConsentPage{Studio: s.studio(r.Context()), Action: "/consent?" + url.Values{"req": {reqID}}.Encode(), CSRF: s.csrfToken(browser), ClientName: req.ClientName, Username: u.Username}
	for _, scope := range req.Scopes {
		page.Scopes = append(page.Scopes, ScopeLine{Name: scope, Description: oidc.ScopeDescriptions[scope], Claims: oidc.ScopeClaims[scope]})
	}
	if extra := req.ExtraClaims(); len(extra) > 0 {
		page.Scopes = append(page.Scopes, ScopeLine{Name: "claims", Description: oidc.ClaimsDescription, Claims: extra})
	}
	if err := s.pages.render(w, http.StatusOK, pageConsent, page, req.RedirectURI); err != nil {
		s.log.ErrorContext(r.Context(), "render consent", "err", err)
	}
}

// consentContext resumes the pending request at its consent step, with the
// session that must answer it. Only the session that satisfied the request's
// password step may: without it (no session, a login the request still
// needs, or a newer session since) the browser goes back to the login page,
// which asks for whatever the request requires (resume). Editing /login?req=
// into /consent?req= skips nothing.
func (s *server) consentContext(w http.ResponseWriter, r *http.Request, reqID, browser string) (*oidc.AuthRequest, *session.Session, bool) {
	f, ok := s.resume(w, r, reqID, browser, stepConsent)
	if !ok {
		return nil, nil, false
	}
	return f.req, f.sess, true
}

// consentSubmit records the user's answer: approve remembers the scopes and
// issues the code; deny sends access_denied to the client.
func (s *server) consentSubmit(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if err := r.ParseForm(); err != nil || !s.checkCSRF(r) {
		s.errorPage(w, r, http.StatusForbidden, "This form has expired", "Go back to the app you came from and try again.")
		return
	}
	reqID := r.URL.Query().Get("req")
	req, sess, ok := s.consentContext(w, r, reqID, cookieValue(r, s.cookies.browser))
	if !ok {
		return
	}
	switch r.PostFormValue("decision") {
	case "approve":
		if err := s.Provider.RecordConsent(ctx, req, sess.UserID); err != nil {
			s.serverError(w, r, "record consent", err)
			return
		}
		s.record(r, audit.Event{Kind: audit.ConsentGranted, UserID: sess.UserID, ClientID: req.ClientID, Detail: strings.Join(req.ConsentItems(), " ")})
		s.finish(w, r, reqID, req, sess)
	case "deny":
		if err := s.Provider.FinishAuthRequest(ctx, reqID); err != nil {
			s.errorPage(w, r, http.StatusBadRequest, "This sign-in has already been used", "Go back to the app you came from and sign in again.")
			return
		}
		s.respond(w, r, s.Provider.ErrorResponse(req, oidc.ErrAccessDenied()))
	default:
		s.errorPage(w, r, http.StatusBadRequest, "The form could not be read", "")
	}
}

// record appends an audit event; a lost event is logged, never fatal.
func (s *server) record(r *http.Request, e audit.Event) {
	if e.Addr == "" {
		e.Addr = s.clientAddr(r)
	}
	if err := s.Audit.Record(r.Context(), e); err != nil {
		s.log.ErrorContext(r.Context(), "audit", "kind", string(e.Kind), "err", err)
	}
}
