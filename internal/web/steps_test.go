package web

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/inkpass/inkpass/internal/keys"
	"github.com/inkpass/inkpass/internal/oidc"
	"github.com/inkpass/inkpass/internal/session"
	"github.com/inkpass/inkpass/internal/store"
	"github.com/inkpass/inkpass/internal/user"
)

// TestNextStep: the dispatcher names the first step a request still needs,
// for each state of request and session, from the real provider's rules on a
// real database.
func TestNextStep(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	dir := t.TempDir()
	now := time.Unix(1_800_000_000, 0)
	clock := func() time.Time { return now }
	db, err := store.Open(ctx, filepath.Join(dir, "steps.db"), store.Options{Now: clock})
	if err != nil {
		t.Fatalf("store.Open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	keySet, _, err := keys.Open(keys.Options{Dir: filepath.Join(dir, "keys"), Algorithm: keys.RS256})
	if err != nil {
		t.Fatalf("keys.Open: %v", err)
	}
	clients, err := db.Clients(ctx)
	if err != nil {
		t.Fatal(err)
	}
	p, err := oidc.New(oidc.Config{Issuer: "http://127.0.0.1:1", SessionTTL: time.Hour, Now: clock}, clients, db.Tokens(), db, db, keySet)
	if err != nil {
		t.Fatalf("oidc.New: %v", err)
	}
	s := &server{Deps: Deps{Provider: p}}

	uid, err := db.CreateUser(ctx, &user.User{Username: "steps.user", Role: user.RoleAssistant, Active: true, PasswordHash: "unused"})
	if err != nil {
		t.Fatalf("CreateUser: %v", err)
	}
	const consented = "consented-tool"
	if err := db.GrantConsent(ctx, uid, consented, []string{"openid", "profile"}); err != nil {
		t.Fatal(err)
	}

	fresh := &session.Session{SID: "sid-fresh", UserID: uid, AuthTime: now.Add(-time.Minute), AMR: []string{session.MethodPassword}}
	old := &session.Session{SID: "sid-old", UserID: uid, AuthTime: now.Add(-2 * time.Hour), AMR: []string{session.MethodPassword}}
	maxAge := func(n int64) *int64 { return &n }
	firstParty := func(mod func(*oidc.AuthRequest)) *oidc.AuthRequest {
		r := &oidc.AuthRequest{ClientID: "studio-app", FirstParty: true, Scopes: []string{"openid", "profile"}}
		if mod != nil {
			mod(r)
		}
		return r
	}
	thirdParty := func(clientID string, mod func(*oidc.AuthRequest)) *oidc.AuthRequest {
		r := &oidc.AuthRequest{ClientID: clientID, Scopes: []string{"openid", "profile"}}
		if mod != nil {
			mod(r)
		}
		return r
	}

	cases := []struct {
		name string
		req  *oidc.AuthRequest
		sess *session.Session
		want step
	}{
		{"no session needs the password", firstParty(nil), nil, stepPassword},
		{"a session and prompt=login needs the password", firstParty(func(r *oidc.AuthRequest) { r.Prompt = []string{"login"} }), fresh, stepPassword},
		{"prompt=login answered by this session's login goes on", firstParty(func(r *oidc.AuthRequest) {
			r.Prompt, r.LoginSID = []string{"login"}, fresh.SID
		}), fresh, stepIssue},
		{"prompt=login answered by another session's login needs the password", firstParty(func(r *oidc.AuthRequest) {
			r.Prompt, r.LoginSID = []string{"login"}, "sid-other"
		}), fresh, stepPassword},
		{"a session older than max_age needs the password", firstParty(func(r *oidc.AuthRequest) { r.MaxAge = maxAge(3600) }), old, stepPassword},
		{"a session within max_age goes on", firstParty(func(r *oidc.AuthRequest) { r.MaxAge = maxAge(3600) }), fresh, stepIssue},
		{"an id_token_hint naming another user needs the password", firstParty(func(r *oidc.AuthRequest) { r.HintSubject = "999999" }), fresh, stepPassword},
		{"a third-party client without consent needs consent", thirdParty("new-tool", nil), fresh, stepConsent},
		{"prompt=consent needs consent even for a first-party client", firstParty(func(r *oidc.AuthRequest) { r.Prompt = []string{"consent"} }), fresh, stepConsent},
		{"a third-party client asking for more than was approved needs consent", thirdParty(consented, func(r *oidc.AuthRequest) {
			r.Scopes = append(r.Scopes, "email")
		}), fresh, stepConsent},
		{"every step satisfied, first party: issue", firstParty(nil), fresh, stepIssue},
		{"every step satisfied, consented third party: issue", thirdParty(consented, nil), fresh, stepIssue},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.nextStep(ctx, &signIn{req: tc.req, sess: tc.sess})
			if err != nil {
				t.Fatalf("nextStep: %v", err)
			}
			if got != tc.want {
				t.Errorf("nextStep = %s, want %s", got, tc.want)
			}
		})
	}
}
