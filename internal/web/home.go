package web

import (
	"net/http"
)

// home says who is signed in, or sends the browser to sign in.
func (s *server) home(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	sess, err := s.Provider.Session(ctx, cookieValue(r, s.cookies.session))
	if err != nil {
		s.log.ErrorContext(ctx, "read session", "err", err)
		s.errorPage(w, r, http.StatusInternalServerError, "", "")
		return
	}
	if sess == nil {
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return
	}
	u, err := s.Users.Get(ctx, sess.UserID)
	if err != nil {
		s.log.ErrorContext(ctx, "load user", "err", err)
		s.errorPage(w, r, http.StatusInternalServerError, "", "")
		return
	}
	page := SignedInPage{Studio: s.Studio, Username: u.Username, Name: u.Name, LogoutAction: "/logout", CSRF: s.csrfToken(s.browserID(w, r))}
	if err := s.pages.render(w, http.StatusOK, pageSignedIn, page); err != nil {
		s.log.ErrorContext(ctx, "render signed-in page", "err", err)
	}
}

// logout signs this browser out of inkpass.
func (s *server) logout(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if err := r.ParseForm(); err != nil || !s.checkCSRF(r) {
		s.errorPage(w, r, http.StatusForbidden, "This form has expired", "Reload the page and try again.")
		return
	}
	if err := s.Provider.EndSession(ctx, cookieValue(r, s.cookies.session)); err != nil {
		s.log.ErrorContext(ctx, "end session", "err", err)
		s.errorPage(w, r, http.StatusInternalServerError, "", "")
		return
	}
	s.cookies.set(w, s.cookies.session, "", -1)
	if err := s.pages.render(w, http.StatusOK, pageSignedOut, SignedOutPage{Studio: s.Studio}); err != nil {
		s.log.ErrorContext(ctx, "render signed-out page", "err", err)
	}
}
