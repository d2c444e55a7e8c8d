package web

import (
	"math"
	"net/http"
	"strconv"

	"github.com/inkpass/inkpass/internal/oidc"
	"github.com/inkpass/inkpass/internal/session"
)

// authorize is the authorization endpoint (RFC 6749 §3.1, OIDC Core §3.1.2).
// The provider validates; this handler decides between the client's redirect
// URI and inkpass's own error page, and hands a valid request to the sign-in
// steps (advance).
func (s *server) authorize(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	req, oerr := s.Provider.ParseAuthorize(r)
	if oerr != nil {
		s.authorizeError(w, r, req, oerr)
		return
	}
	sess, err := s.Provider.Session(ctx, cookieValue(r, s.cookies.session))
	if err != nil {
		s.serverError(w, r, "read session", err)
		return
	}
	s.advance(w, r, &signIn{req: req, sess: sess, device: cookieValue(r, s.cookies.device)})
}

// park keeps the request server-side and sends the browser to page (login or
// consent), which resumes it by id.
func (s *server) park(w http.ResponseWriter, r *http.Request, reqID string, req *oidc.AuthRequest, page string) {
	if reqID == "" {
		// A new row: within the client address's budget only, so that a
		// script cannot fill the database with abandoned sign-ins.
		addr := s.clientAddr(r)
		if ok, wait := s.pending.allow(addr); !ok {
			s.log.WarnContext(r.Context(), "too many pending sign-ins from one address", "addr", addr, "client_id", req.ClientID)
			w.Header().Set("Retry-After", strconv.Itoa(max(1, int(math.Ceil(wait.Seconds())))))
			s.errorPage(w, r, http.StatusTooManyRequests, "Too many sign-ins at once",
				"This network has started too many sign-ins in a short time. Wait a minute, then go back to the app you came from and try again.")
			return
		}
		var err error
		reqID, err = s.Provider.SaveAuthRequest(r.Context(), req, s.browserID(w, r))
		if err != nil {
			s.serverError(w, r, "save auth request", err)
			return
		}
	}
	http.Redirect(w, r, stepURL(page, reqID), http.StatusSeeOther)
}

// authorizeError shows errors that must not leave inkpass on its own page and
// sends the rest to the client's redirect URI.
func (s *server) authorizeError(w http.ResponseWriter, r *http.Request, req *oidc.AuthRequest, e *oidc.Error) {
	if e.Status >= 500 {
		s.log.ErrorContext(r.Context(), "authorization request failed", "err", e)
	} else {
		s.log.InfoContext(r.Context(), "authorization request refused", "err", e)
	}
	if e.NoRedirect || req == nil {
		if e.RetryAfter > 0 {
			s.busyPage(w, r, e.RetryAfter)
			return
		}
		status := http.StatusBadRequest
		if e.Status >= 500 {
			status = e.Status
		}
		msg := e.Description
		if e.Status >= 500 {
			msg = ""
		}
		s.errorPage(w, r, status, "This sign-in link is not valid", msg)
		return
	}
	s.respond(w, r, s.Provider.ErrorResponse(req, e))
}

// grant issues the code for req to the session's user and sends it.
func (s *server) grant(w http.ResponseWriter, r *http.Request, req *oidc.AuthRequest, sess *session.Session) {
	resp, oerr := s.Provider.Grant(r.Context(), req, sess)
	if oerr != nil {
		s.authorizeError(w, r, req, oerr)
		return
	}
	s.respond(w, r, resp)
}

// respond delivers an authorization response: a redirect for query mode (303
// after a POST, so a browser never re-posts a password: RFC 9700 §4.12), or an
// auto-submitting form for form_post.
func (s *server) respond(w http.ResponseWriter, r *http.Request, resp *oidc.Response) {
	if resp.Mode == oidc.ModeFormPost {
		page := FormPostPage{Studio: s.studio(r.Context()), RedirectURI: resp.RedirectURI}
		for name, vs := range resp.Params {
			for _, v := range vs {
				page.Params = append(page.Params, FormParam{Name: name, Value: v})
			}
		}
		if err := s.pages.render(w, http.StatusOK, pageFormPost, page); err != nil {
			s.log.ErrorContext(r.Context(), "render form_post", "err", err)
		}
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	status := http.StatusFound
	if r.Method == http.MethodPost {
		status = http.StatusSeeOther
	}
	http.Redirect(w, r, resp.URL(), status)
}
