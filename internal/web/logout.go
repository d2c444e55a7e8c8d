package web

import (
	"net/http"

	"github.com/inkpass/inkpass/internal/audit"
)

// logout is the end_session_endpoint (OpenID Connect RP-Initiated Logout 1.0),
// GET or POST. A request proven by an id_token_hint naming the signed-in user,
// or a POST of inkpass's own confirmation form, signs out at once; anything
// else asks the user first, so a third-party page cannot sign people out. The
// browser then goes to the validated post_logout_redirect_uri or sees the
// signed-out page.
func (s *server) logout(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	lr, oerr := s.Provider.ParseLogout(r)
	if oerr != nil {
		s.log.InfoContext(ctx, "logout request refused", "err", oerr)
		s.errorPage(w, r, http.StatusBadRequest, "This sign-out link is not valid", oerr.Description)
		return
	}
	cookie := cookieValue(r, s.cookies.session)
	sess, err := s.Provider.Session(ctx, cookie)
	if err != nil {
		s.serverError(w, r, "read session", err)
		return
	}
	confirmed := r.Method == http.MethodPost && s.checkCSRF(r)
	if sess != nil && !confirmed && !lr.ProvenFor(sess) {
		u, err := s.Users.Get(ctx, sess.UserID)
		if err != nil {
			s.serverError(w, r, "load user", err)
			return
		}
		action := "/logout"
		if q := lr.Params().Encode(); q != "" {
			action += "?" + q
		}
		page := SignedInPage{Studio: s.studio(r.Context()), Username: u.Username, Name: u.Name, LogoutAction: action, CSRF: s.csrfToken(s.browserID(w, r))}
		if err := s.pages.render(w, http.StatusOK, pageSignedIn, page, lr.RedirectURI); err != nil {
			s.log.ErrorContext(ctx, "render logout confirmation", "err", err)
		}
		return
	}
	if sess != nil {
		if err := s.Provider.Logout(ctx, cookie, sess); err != nil {
			s.serverError(w, r, "end session", err)
			return
		}
		s.record(r, audit.Event{Kind: audit.Logout, UserID: sess.UserID, ClientID: lr.ClientID})
		s.log.InfoContext(ctx, "logout", "user_id", sess.UserID, "client_id", lr.ClientID)
	}
	s.cookies.set(w, s.cookies.session, "", -1)
	if next := lr.RedirectURL(); next != "" {
		w.Header().Set("Cache-Control", "no-store")
		http.Redirect(w, r, next, http.StatusSeeOther)
		return
	}
	msg, studio := "", s.studio(ctx)
	if lr.ClientName != "" {
		msg = "You have been signed out of " + studio.Name + ". You can close this window or return to " + lr.ClientName + "."
	}
	if err := s.pages.render(w, http.StatusOK, pageSignedOut, SignedOutPage{Studio: studio, Message: msg}); err != nil {
		s.log.ErrorContext(ctx, "render signed-out page", "err", err)
	}
}
