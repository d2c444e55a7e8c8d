package main

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// login starts the authorization code flow (OIDC Core §3.1.2.1) with PKCE
// (RFC 7636, S256). state binds the callback to this browser, nonce binds
// the ID token to this login, and the verifier proves to the token endpoint
// that the code is being redeemed by whoever asked for it.
func (a *app) login(w http.ResponseWriter, r *http.Request) {
	p := pendingLogin{
		State:    rand.Text(),
		Nonce:    rand.Text(),
		Verifier: oauth2.GenerateVerifier(),
	}
	id, ok := a.logins.put(p)
	if !ok {
		a.fail(w, r, http.StatusServiceUnavailable, "Too many sign-ins in progress",
			"Too many sign-ins are in progress at once. Wait a minute and try again.", errors.New("pending login store full"))
		return
	}
	a.cookies.set(w, a.cookies.login, id, loginTTL)
	authURL := a.oauth2.AuthCodeURL(p.State, oidc.Nonce(p.Nonce), oauth2.S256ChallengeOption(p.Verifier))
	http.Redirect(w, r, authURL, http.StatusFound)
}

// callback finishes the flow. The order matters: nothing in the request is
// trusted, and no code is redeemed, until the pending login, state and iss
// all check out. The pending login is used up by the first callback, good
// or bad, so a callback cannot be replayed.
func (a *app) callback(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	pending, ok := a.logins.take(cookieValue(r, a.cookies.login))
	a.cookies.clear(w, a.cookies.login)
	if !ok {
		a.fail(w, r, http.StatusBadRequest, "No sign-in in progress",
			"This browser has no sign-in in progress, or it took longer than 10 minutes. Start again.", errors.New("callback without a pending login"))
		return
	}
	// OIDC Core §3.1.2.7 and RFC 6749 §10.12: state must be the one we sent.
	if subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(pending.State)) != 1 {
		a.fail(w, r, http.StatusBadRequest, "Sign-in refused",
			"The answer from inkpass does not belong to the sign-in this browser started. Start again.", errors.New("state mismatch"))
		return
	}
	// RFC 9207 §2.4: the answer must come from our issuer; when discovery
	// says iss is always sent, an answer without it is refused too.
	if iss, sent := q["iss"]; sent && (len(iss) != 1 || iss[0] != a.issuer) {
		a.fail(w, r, http.StatusBadRequest, "Sign-in refused",
			"The answer names a different identity provider than the one this app uses.", fmt.Errorf("iss parameter %q, want %q", q.Get("iss"), a.issuer))
		return
	} else if !sent && a.issParamRequired {
		a.fail(w, r, http.StatusBadRequest, "Sign-in refused",
			"The answer from the identity provider does not say who sent it.", errors.New("iss parameter missing"))
		return
	}
	if code := q.Get("error"); code != "" {
		status := http.StatusBadGateway
		if code == "access_denied" {
			status = http.StatusForbidden
		}
		a.fail(w, r, status, "Sign-in did not complete",
			describeAuthError(code, q.Get("error_description")), fmt.Errorf("authorization error %q", code))
		return
	}
	code := q.Get("code")
	if code == "" {
		a.fail(w, r, http.StatusBadRequest, "Sign-in refused", "The answer from inkpass carries no code.", errors.New("code missing"))
		return
	}

	ctx := oidc.ClientContext(r.Context(), a.httpClient)
	tok, err := a.oauth2.Exchange(ctx, code, oauth2.VerifierOption(pending.Verifier))
	if err != nil {
		status, msg := http.StatusBadGateway, "inkpass could not be reached to finish the sign-in. Try again."
		if re := (*oauth2.RetrieveError)(nil); errors.As(err, &re) && re.Response != nil && re.Response.StatusCode < 500 {
			status, msg = http.StatusBadRequest, fmt.Sprintf("inkpass refused the sign-in code (%s). Start again.", re.ErrorCode)
		}
		a.fail(w, r, status, "Sign-in did not complete", msg, fmt.Errorf("exchange code: %w", err))
		return
	}
	rawIDToken, _ := tok.Extra("id_token").(string)
	if rawIDToken == "" {
		a.fail(w, r, http.StatusBadGateway, "Sign-in did not complete", "inkpass sent no ID token.", errors.New("token response without id_token"))
		return
	}
	// Signature, iss, aud and exp (OIDC Core §3.1.3.7). go-oidc leaves the
	// nonce to us.
	idToken, err := a.verifier.Verify(ctx, rawIDToken)
	if err != nil {
		a.fail(w, r, http.StatusBadRequest, "Sign-in refused", "The ID token from inkpass did not verify.", fmt.Errorf("verify ID token: %w", err))
		return
	}
	if subtle.ConstantTimeCompare([]byte(idToken.Nonce), []byte(pending.Nonce)) != 1 {
		a.fail(w, r, http.StatusBadRequest, "Sign-in refused", "The ID token was not issued for this sign-in.", errors.New("nonce mismatch"))
		return
	}
	// §3.1.3.8: at_hash ties the access token to the ID token.
	if idToken.AccessTokenHash != "" {
		if err := idToken.VerifyAccessToken(tok.AccessToken); err != nil {
			a.fail(w, r, http.StatusBadRequest, "Sign-in refused", "The access token does not match the ID token.", fmt.Errorf("verify at_hash: %w", err))
			return
		}
	}
	var idClaims json.RawMessage
	if err := idToken.Claims(&idClaims); err != nil {
		a.fail(w, r, http.StatusBadGateway, "Sign-in did not complete", "The ID token's claims could not be read.", fmt.Errorf("read ID token claims: %w", err))
		return
	}

	s := session{RawIDToken: rawIDToken, CSRF: rand.Text(), IDTokenClaims: indentJSON(idClaims)}
	var uiClaims json.RawMessage
	info, err := a.provider.UserInfo(ctx, oauth2.StaticTokenSource(tok))
	switch {
	case err != nil:
		// The ID token alone is enough to sign in; say what is missing.
		a.log.WarnContext(r.Context(), "userinfo failed", "err", err)
		s.UserInfoError = "userinfo could not be read; the page shows the ID token's claims only."
	case info.Subject != idToken.Subject:
		// OIDC Core §5.3.2: a userinfo answer for someone else must not be used.
		a.fail(w, r, http.StatusBadGateway, "Sign-in refused", "inkpass answered userinfo for a different user.",
			fmt.Errorf("userinfo sub %q, ID token sub %q", info.Subject, idToken.Subject))
		return
	default:
		if err := info.Claims(&uiClaims); err != nil {
			a.fail(w, r, http.StatusBadGateway, "Sign-in did not complete", "The userinfo answer could not be read.", fmt.Errorf("read userinfo claims: %w", err))
			return
		}
		s.UserInfoClaims = indentJSON(uiClaims)
	}
	s.Profile, err = newProfile(idClaims, uiClaims)
	if err != nil {
		a.fail(w, r, http.StatusBadGateway, "Sign-in did not complete", "The claims from inkpass could not be read.", err)
		return
	}

	// A new session id on every sign-in, so an id planted before sign-in
	// is worth nothing (session fixation).
	a.sessions.delete(cookieValue(r, a.cookies.session))
	id, ok := a.sessions.put(s)
	if !ok {
		a.fail(w, r, http.StatusServiceUnavailable, "Too many sessions", "The demo holds too many sessions. Try again later.", errors.New("session store full"))
		return
	}
	a.cookies.set(w, a.cookies.session, id, sessionTTL)
	a.log.InfoContext(r.Context(), "signed in", "sub", idToken.Subject, "role", s.Profile.Role)
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// describeAuthError words an RFC 6749 §4.1.2.1 error for the page. The
// description comes from the provider and is shown as text, never as HTML.
func describeAuthError(code, description string) string {
	msg := "inkpass answered with " + code
	switch code {
	case "access_denied":
		msg = "The sign-in was cancelled or access was denied (access_denied)"
	case "login_required", "consent_required", "interaction_required":
		msg = "inkpass needs you to sign in or approve first (" + code + ")"
	}
	if description != "" {
		msg += ": " + description
	}
	return msg + "."
}
