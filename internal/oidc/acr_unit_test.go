package oidc

import (
	"net/url"
	"slices"
	"testing"
)

// TestParseAuthorize_ACRValues keeps the acr values inkpass knows, in order,
// and ignores the rest (acr_values is voluntary); WantsMFA follows.
func TestParseAuthorize_ACRValues(t *testing.T) {
	u := newUnit(t)
	tests := []struct {
		acr      string
		want     []string
		wantsMFA bool
	}{
		{"", nil, false},
		{ACRPassword, []string{ACRPassword}, false},
		{ACRMFA, []string{ACRMFA}, true},
		{"urn:other:gold " + ACRMFA + " " + ACRPassword, []string{ACRMFA, ACRPassword}, true},
		{"urn:other:gold", nil, false},
	}
	for _, tt := range tests {
		req, e := parseAuthz(t, parsingAuthorizer(t, u), authzRequest(func(v url.Values) {
			if tt.acr != "" {
				v.Set("acr_values", tt.acr)
			}
		}))
		if e != nil {
			t.Fatalf("acr_values %q: %v", tt.acr, e)
		}
		if !slices.Equal(req.ACRValues, tt.want) || req.WantsMFA() != tt.wantsMFA {
			t.Errorf("acr_values %q: ACRValues %v WantsMFA %v; want %v %v", tt.acr, req.ACRValues, req.WantsMFA(), tt.want, tt.wantsMFA)
		}
	}
	if !(&AuthRequest{RequireMFA: true}).WantsMFA() {
		t.Error("a require_mfa client's request does not want mfa")
	}
}

// TestGrantACR derives acr from amr, so the two never disagree.
func TestGrantACR(t *testing.T) {
	tests := []struct {
		amr  []string
		want string
	}{
		{nil, ""},
		{[]string{"pwd"}, ACRPassword},
		{[]string{"pwd", "otp", "mfa"}, ACRMFA},
		{[]string{"pwd", "otp"}, ACRPassword},
	}
	for _, tt := range tests {
		if got := grantACR(tt.amr); got != tt.want {
			t.Errorf("grantACR(%v) = %q, want %q", tt.amr, got, tt.want)
		}
	}
}
