package console

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/inkpass/inkpass/internal/audit"
	"github.com/inkpass/inkpass/internal/session"
	"github.com/inkpass/inkpass/internal/user"
)

// Sessions and access: who is signed in where. Per person, their browser
// sessions (when each began, how they signed in, which apps took part) and
// the apps they let in; an admin ends one session, all of them, or one
// app's access. Each end queues the back-channel logouts a sign-out would.

func init() {
	registerSection(Section{Name: "Sessions", Path: Prefix + "/sessions", Order: 40, Routes: func(c *Console) {
		on := c.availableIf(c.d.Access != nil, "Sessions are not available", "This server was started without the session store.")
		c.Handle("GET /admin/sessions", on(c.sessionsList))
		c.Handle("GET /admin/sessions/{id}", on(c.sessionsOfUser))
		c.Handle("POST /admin/sessions/{id}/end", on(c.sessionEnd))
		c.Handle("POST /admin/sessions/{id}/end-all", on(c.sessionsEndAll))
		c.Handle("POST /admin/sessions/{id}/revoke-app", on(c.appAccessRevoke))
	}, Notices: map[string]string{
		"session-ended":  "The session is ended; its apps were told.",
		"sessions-ended": "Every session and app token of this person is ended. They sign in again where they need to.",
		"app-revoked":    "The app's access is withdrawn: its tokens are revoked and it asks again at the next sign-in.",
	}})
}

// signedInLimit is how many people the Sessions page lists.
const signedInLimit = 100

// SessionsView is the Sessions page: who is signed in now.
type SessionsView struct {
	SignedIn []session.SignedIn
	Query    string
	// Matches are the people a search found, when more than one did.
	Matches []Person
}

// UserAccessView is one person's sessions and apps.
type UserAccessView struct {
	Person   *user.User
	Sessions []SessionRow
	Apps     []session.App
}

// SessionRow is one session as the page shows it.
type SessionRow struct {
	session.Live
	// Methods says how the person signed in, in words.
	Methods string
	// Current: the admin's own session, in this browser.
	Current bool
}

func (c *Console) sessionsList(w http.ResponseWriter, r *http.Request, a *Admin) {
	ctx := r.Context()
	v := SessionsView{Query: strings.TrimSpace(r.URL.Query().Get("q"))}
	if v.Query != "" {
		found, err := c.d.Store.SearchPeople(ctx, PeopleQuery{Text: v.Query})
		if err != nil {
			c.ServerError(w, r, a, "search people", err)
			return
		}
		// An exact username, or a single match, goes straight to the person.
		if i := slices.IndexFunc(found, func(p Person) bool { return strings.EqualFold(p.Username, v.Query) }); i >= 0 {
			found = found[i : i+1]
		}
		if len(found) == 1 {
			http.Redirect(w, r, Prefix+"/sessions/"+strconv.FormatInt(found[0].ID, 10), http.StatusSeeOther)
			return
		}
		v.Matches = found
	}
	var err error
	if v.SignedIn, err = c.d.Access.SignedInUsers(ctx, signedInLimit); err != nil {
		c.ServerError(w, r, a, "list signed-in users", err)
		return
	}
	c.Render(w, r, a, http.StatusOK, View{Name: "sessions", Title: "Sessions and access", Data: v})
}

func accessPath(id int64) string { return Prefix + "/sessions/" + strconv.FormatInt(id, 10) }

// methodWords names RFC 8176 methods for people.
var methodWords = map[string]string{
	"pwd": "password", "otp": "one-time code", "mfa": "two factors", "hwk": "security key", "swk": "passkey",
}

func describeMethods(amr []string) string {
	var out []string
	for _, m := range amr {
		if w, ok := methodWords[m]; ok {
			out = append(out, w)
		} else {
			out = append(out, m)
		}
	}
	if len(out) == 0 {
		return "unknown"
	}
	return strings.Join(out, ", ")
}

func (c *Console) sessionsOfUser(w http.ResponseWriter, r *http.Request, a *Admin) {
	u, ok := c.person(w, r, a)
	if !ok {
		return
	}
	ctx := r.Context()
	live, err := c.d.Access.UserSessions(ctx, u.ID)
	if err != nil {
		c.ServerError(w, r, a, "list sessions", err)
		return
	}
	v := UserAccessView{Person: u}
	for _, l := range live {
		v.Sessions = append(v.Sessions, SessionRow{Live: l, Methods: describeMethods(l.AMR), Current: l.SID == a.Session.SID})
	}
	if v.Apps, err = c.d.Access.ConnectedApps(ctx, u.ID); err != nil {
		c.ServerError(w, r, a, "list connected apps", err)
		return
	}
	c.Render(w, r, a, http.StatusOK, View{Name: "sessions_user", Title: "Sessions of " + u.Username, Data: v})
}

func (c *Console) sessionEnd(w http.ResponseWriter, r *http.Request, a *Admin) {
	u, ok := c.person(w, r, a)
	if !ok {
		return
	}
	sid := r.PostFormValue("sid")
	err := c.d.Access.EndUserSession(r.Context(), u.ID, sid)
	if errors.Is(err, session.ErrNotFound) {
		c.Error(w, r, a, http.StatusNotFound, "No such session", "This session has ended already, or is not this person's.")
		return
	}
	if err != nil {
		c.ServerError(w, r, a, "end session", err)
		return
	}
	c.Record(r, audit.Event{Kind: audit.SessionsEnded, UserID: u.ID, Username: u.Username, Detail: "one session (sid " + sid + ") with its tokens"})
	c.Done(w, r, accessPath(u.ID), "session-ended")
}

func (c *Console) sessionsEndAll(w http.ResponseWriter, r *http.Request, a *Admin) {
	u, ok := c.person(w, r, a)
	if !ok {
		return
	}
	n, err := c.d.Access.EndUserSessions(r.Context(), u.ID)
	if err != nil {
		c.ServerError(w, r, a, "end sessions", err)
		return
	}
	c.Record(r, audit.Event{Kind: audit.SessionsEnded, UserID: u.ID, Username: u.Username, Detail: fmt.Sprintf("all: %d sessions and every token", n)})
	c.Done(w, r, accessPath(u.ID), "sessions-ended")
}

func (c *Console) appAccessRevoke(w http.ResponseWriter, r *http.Request, a *Admin) {
	u, ok := c.person(w, r, a)
	if !ok {
		return
	}
	clientID := r.PostFormValue("client_id")
	if clientID == "" {
		c.Error(w, r, a, http.StatusBadRequest, "No app named", "Go back and choose the app to revoke.")
		return
	}
	if err := c.d.Access.RevokeClientAccess(r.Context(), u.ID, clientID); err != nil {
		c.ServerError(w, r, a, "revoke app access", err)
		return
	}
	c.Record(r, audit.Event{Kind: audit.ConsentRevoked, UserID: u.ID, Username: u.Username, ClientID: clientID, Detail: "access withdrawn in the console"})
	c.Done(w, r, accessPath(u.ID), "app-revoked")
}
