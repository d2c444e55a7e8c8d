package oidc

import (
	"context"
	"testing"
	"time"

	"github.com/inkpass/inkpass/internal/session"
)

// Unit tests of the questions the sign-in steps ask the Provider: must the
// user sign in again (NeedsLogin), must they approve (NeedsConsent).

func TestNeedsLogin_Unit(t *testing.T) {
	u := newUnit(t)
	zero, hour := int64(0), int64(3600)
	fresh := &session.Session{SID: "s1", UserID: 2, AuthTime: u.now.Add(-time.Minute)}
	tests := []struct {
		name string
		req  AuthRequest
		s    *session.Session
		want bool
	}{
		{"no session", AuthRequest{}, nil, true},
		{"a session answers a plain request", AuthRequest{}, fresh, false},
		{"prompt=login asks again", AuthRequest{Prompt: []string{"login"}}, fresh, true},
		{"prompt=select_account asks again", AuthRequest{Prompt: []string{"select_account"}}, fresh, true},
		{"prompt=consent does not", AuthRequest{Prompt: []string{"consent"}}, fresh, false},
		{"max_age=0 always asks", AuthRequest{MaxAge: &zero}, fresh, true},
		{"a session younger than max_age", AuthRequest{MaxAge: &hour}, fresh, false},
		{"a session older than max_age", AuthRequest{MaxAge: &hour}, &session.Session{UserID: 2, AuthTime: u.now.Add(-2 * time.Hour)}, true},
		{"a hint naming the session's user", AuthRequest{ClientID: unitApp, HintSubject: Subject(2, unitApp)}, fresh, false},
		{"a hint naming someone else", AuthRequest{ClientID: unitApp, HintSubject: Subject(4, unitApp)}, fresh, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := u.p.NeedsLogin(&tc.req, tc.s); got != tc.want {
				t.Errorf("NeedsLogin = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestNeedsConsent_Unit(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name     string
		req      AuthRequest
		approved []string
		want     bool
	}{
		{"a first-party client never asks", AuthRequest{ClientID: unitApp, FirstParty: true, Scopes: []string{"openid", "profile"}}, nil, false},
		{"prompt=consent asks even a first-party client", AuthRequest{ClientID: unitApp, FirstParty: true, Scopes: []string{"openid"}, Prompt: []string{"consent"}}, []string{"openid"}, true},
		{"a third party asks the first time", AuthRequest{ClientID: unitWeb, Scopes: []string{"openid"}}, nil, true},
		{"approved scopes are not asked again", AuthRequest{ClientID: unitWeb, Scopes: []string{"openid", "email"}}, []string{"openid", "email", "profile"}, false},
		{"a new scope asks", AuthRequest{ClientID: unitWeb, Scopes: []string{"openid", "email"}}, []string{"openid"}, true},
		{"an extra claim asks", AuthRequest{ClientID: unitWeb, Scopes: []string{"openid"}, Claims: &ClaimsRequest{UserInfo: []string{"email"}}}, []string{"openid"}, true},
		{"an extra claim approved by name", AuthRequest{ClientID: unitWeb, Scopes: []string{"openid"}, Claims: &ClaimsRequest{UserInfo: []string{"email"}}},
			[]string{"openid", claimConsentPrefix + "email"}, false},
		{"an extra claim approved through its scope", AuthRequest{ClientID: unitWeb, Scopes: []string{"openid"}, Claims: &ClaimsRequest{IDToken: []string{"email_verified"}}},
			[]string{"openid", "email"}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			u := newUnit(t)
			if tc.approved != nil {
				_ = u.consents.GrantConsent(ctx, 2, tc.req.ClientID, tc.approved)
			}
			got, err := u.p.NeedsConsent(ctx, &tc.req, 2)
			if err != nil || got != tc.want {
				t.Errorf("NeedsConsent = %v, %v; want %v", got, err, tc.want)
			}
			if !tc.want {
				return
			}
			// Approving is what makes the question go away.
			if err := u.p.RecordConsent(ctx, &tc.req, 2); err != nil {
				t.Fatal(err)
			}
			if again, _ := u.p.NeedsConsent(ctx, &tc.req, 2); again && !tc.req.HasPrompt("consent") {
				t.Errorf("still asks after RecordConsent")
			}
		})
	}
}
