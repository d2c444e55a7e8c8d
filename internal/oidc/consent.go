package oidc

import (
	"context"
	"slices"
)

// NeedsConsent reports whether the user must approve req's scopes first.
// prompt=consent always asks, first-party client or not (OIDC Core §3.1.2.1:
// the client asked for the page, so skipping it would be a silent
// deviation). Otherwise first-party clients (the studio's own apps) never
// ask; third-party ones ask until the user has approved every requested scope.
func (p *Provider) NeedsConsent(ctx context.Context, req *AuthRequest, userID int64) (bool, error) {
	if req.HasPrompt("consent") {
		return true, nil
	}
	if req.FirstParty {
		return false, nil
	}
	have, err := p.sessions.ConsentScopes(ctx, userID, req.ClientID)
	if err != nil {
		return false, err
	}
	for _, s := range req.Scopes {
		if !slices.Contains(have, s) {
			return true, nil
		}
	}
	return false, nil
}

// RecordConsent remembers the user's approval of req's scopes.
func (p *Provider) RecordConsent(ctx context.Context, req *AuthRequest, userID int64) error {
	return p.sessions.GrantConsent(ctx, userID, req.ClientID, req.Scopes)
}

// ErrConsentRequired answers prompt=none when consent is missing.
func ErrConsentRequired() *Error {
	return newErr("consent_required", 400, "the user must approve this application first")
}

// ScopeDescriptions say in plain words what each scope lets an app see.
var ScopeDescriptions = map[string]string{
	"openid":         "Know who you are, your role at the studio and your artist profile",
	"profile":        "See your name, username, date of birth and Instagram handle",
	"email":          "See your email address",
	"phone":          "See your phone number",
	"offline_access": "Keep access while you are away, until you revoke it",
}
