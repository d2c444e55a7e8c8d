package main

import (
	"crypto/subtle"
	"net/http"
)

// homePage is the one page of the demo: a sign-in button, or who you are.
type homePage struct {
	Issuer     string
	ClientID   string
	EndSession bool   // sign-out also ends the inkpass session
	Notice     string // after sign-out

	SignedIn       bool
	Profile        profile
	Role           role
	UnknownRole    bool
	CSRF           string
	IDTokenClaims  string
	UserInfoClaims string
	UserInfoError  string
}

func (a *app) home(w http.ResponseWriter, r *http.Request) {
	page := homePage{Issuer: a.issuer, ClientID: a.oauth2.ClientID, EndSession: a.endSession != ""}
	sid := cookieValue(r, a.cookies.session)
	if s, ok := a.sessions.get(sid); ok {
		page.SignedIn = true
		page.Profile = s.Profile
		page.Role, ok = roles[s.Profile.Role]
		page.UnknownRole = !ok
		page.CSRF = s.CSRF
		page.IDTokenClaims = s.IDTokenClaims
		page.UserInfoClaims = s.UserInfoClaims
		page.UserInfoError = s.UserInfoError
		a.renderHome(w, r, page)
		return
	}
	if sid != "" {
		a.cookies.clear(w, a.cookies.session) // expired, or the demo restarted
	}
	page.Notice = a.signedOutNotice(w, r)
	a.renderHome(w, r, page)
}

// signedOutNotice says how the last sign-out went. After RP-initiated
// logout inkpass sends the browser back with the state we gave it
// (RP-Initiated Logout 1.0 §3); only that state, matched against our
// cookie, earns the "signed out of inkpass too" message.
func (a *app) signedOutNotice(w http.ResponseWriter, r *http.Request) string {
	q := r.URL.Query()
	if q.Get("signed_out") == "local" {
		return "You are signed out of the studio demo. inkpass does not offer RP-initiated logout, so you are still signed in there: the next sign-in may not ask for your password."
	}
	want := cookieValue(r, a.cookies.logout)
	if want == "" || subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(want)) != 1 {
		return ""
	}
	a.cookies.clear(w, a.cookies.logout)
	return "You are signed out of the studio demo and of inkpass."
}
