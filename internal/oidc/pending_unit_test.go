package oidc

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/inkpass/inkpass/internal/session"
)

// TestPendingRequests_OnTheAuthRequestStoreOnly walks a pending request's
// life through the unit built on its one port: saved for a browser, loaded
// only by that browser, its login step recorded, answered once, and gone
// after AuthRequestTTL.
func TestPendingRequests_OnTheAuthRequestStoreOnly(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	cfg := unitConfig(&now)
	cfg.AuthRequestTTL = 10 * time.Minute
	pr := NewPendingRequests(cfg, &fakeAuthRequests{now: func() time.Time { return now }})

	req := &AuthRequest{ClientID: unitApp, RedirectURI: unitAppCB, Scopes: []string{"openid"}, State: "st", CreatedAt: now}
	id, err := pr.SaveAuthRequest(ctx, req, "browser-1")
	if err != nil || id == "" {
		t.Fatalf("save: %q, %v", id, err)
	}
	if _, err := pr.LoadAuthRequest(ctx, id, "browser-2"); !errors.Is(err, ErrUnknownAuthRequest) {
		t.Errorf("another browser loaded the request: %v", err)
	}
	got, err := pr.LoadAuthRequest(ctx, id, "browser-1")
	if err != nil || got.ClientID != unitApp || got.State != "st" || got.LoginSID != "" {
		t.Fatalf("load = %+v, %v", got, err)
	}
	if err := pr.RecordLogin(ctx, id, "browser-1", got, &session.Session{SID: "sid-1"}); err != nil || got.LoginSID != "sid-1" {
		t.Fatalf("record login: %v, LoginSID %q", err, got.LoginSID)
	}
	if again, _ := pr.LoadAuthRequest(ctx, id, "browser-1"); again.LoginSID != "sid-1" {
		t.Errorf("reloaded LoginSID = %q, want sid-1", again.LoginSID)
	}
	if err := pr.FinishAuthRequest(ctx, id); err != nil {
		t.Fatalf("finish: %v", err)
	}
	if err := pr.FinishAuthRequest(ctx, id); !errors.Is(err, ErrUnknownAuthRequest) {
		t.Errorf("a second finish = %v, want ErrUnknownAuthRequest: a request is answered once", err)
	}

	late, _ := pr.SaveAuthRequest(ctx, req, "browser-1")
	now = now.Add(cfg.AuthRequestTTL)
	if _, err := pr.LoadAuthRequest(ctx, late, "browser-1"); !errors.Is(err, ErrUnknownAuthRequest) {
		t.Errorf("a request past AuthRequestTTL loaded: %v", err)
	}
}
