package web

import (
	"net/http"
)

// home says who is signed in, or sends the browser to sign in.
func (s *server) home(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	sess, err := s.Provider.Session(ctx, cookieValue(r, s.cookies.session))
	if err != nil {
		s.serverError(w, r, "read session", err)
		return
	}
	if sess == nil {
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return
	}
	u, err := s.Users.Get(ctx, sess.UserID)
	if err != nil {
		s.serverError(w, r, "load user", err)
		return
	}
	page := SignedInPage{Studio: s.studio(r.Context()), Username: u.Username, Name: u.Name, LogoutAction: "/logout", CSRF: s.csrfToken(s.browserID(w, r))}
	if err := s.pages.render(w, http.StatusOK, pageSignedIn, page); err != nil {
		s.log.ErrorContext(ctx, "render signed-in page", "err", err)
	}
}
