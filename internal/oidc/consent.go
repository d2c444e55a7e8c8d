package oidc

import (
	"context"
	"slices"
)

// Consents decides and records what a user approved for a client. It needs
// only the ConsentStore.
type Consents struct {
	store ConsentStore
}

// NewConsents keeps consents in store.
func NewConsents(store ConsentStore) *Consents { return &Consents{store: store} }

// ConsentStore remembers what each user approved for each client: the port
// of NeedsConsent and RecordConsent.
type ConsentStore interface {
	// ConsentScopes returns the scopes the user approved for the client,
	// nil when none.
	ConsentScopes(ctx context.Context, userID int64, clientID string) ([]string, error)
	// GrantConsent adds scopes to what the user approved for the client.
	GrantConsent(ctx context.Context, userID int64, clientID string, scopes []string) error
}

// NeedsConsent reports whether the user must approve req's scopes, or the
// claims it asks for by name beyond them (AuthRequest.ExtraClaims), first.
// prompt=consent always asks, first-party client or not (OIDC Core §3.1.2.1:
// the client asked for the page, so skipping it would be a silent
// deviation). Otherwise first-party clients (the studio's own apps) never
// ask; third-party ones ask until the user has approved every requested scope
// and every extra claim (by name, or by a scope that releases it).
func (p *Consents) NeedsConsent(ctx context.Context, req *AuthRequest, userID int64) (bool, error) {
	if req.HasPrompt("consent") {
		return true, nil
	}
	if req.FirstParty {
		return false, nil
	}
	have, err := p.store.ConsentScopes(ctx, userID, req.ClientID)
	if err != nil {
		return false, err
	}
	for _, s := range req.Scopes {
		if !slices.Contains(have, s) {
			return true, nil
		}
	}
	for _, c := range req.ExtraClaims() {
		if !slices.Contains(have, claimConsentPrefix+c) && !scopesRelease(have, c) {
			return true, nil
		}
	}
	return false, nil
}

// claimConsentPrefix marks an approved single claim among a consent's
// scopes ("claim:email"): one list, so that revoking an app's access
// withdraws both.
const claimConsentPrefix = "claim:"

// ConsentItems are what approving req grants: its scopes, then its extra
// claims as claim:NAME.
func (req *AuthRequest) ConsentItems() []string {
	out := slices.Clone(req.Scopes)
	for _, c := range req.ExtraClaims() {
		out = append(out, claimConsentPrefix+c)
	}
	return out
}

// RecordConsent remembers the user's approval of req's scopes and extra
// claims.
func (p *Consents) RecordConsent(ctx context.Context, req *AuthRequest, userID int64) error {
	return p.store.GrantConsent(ctx, userID, req.ClientID, req.ConsentItems())
}

// ErrConsentRequired answers prompt=none when consent is missing.
func ErrConsentRequired() *Error {
	return newErr("consent_required", 400, "the user must approve this application first")
}

// ClaimsDescription heads, on the consent page, the claims an app asked for
// by name beyond its scopes.
const ClaimsDescription = "See these details of your account, which it asked for by name"
