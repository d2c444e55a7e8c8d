package oidc

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/inkpass/inkpass/internal/client"
	"github.com/inkpass/inkpass/internal/session"
)

// The invariants that make adding a claim one row of claimTable (plus the
// user's field): discovery, the scopes, the consent page and the fillers all
// read the table, and nothing else lists claims.

func TestClaimTable_EveryClaimIsSupportedOnceAndKnownToItsScope(t *testing.T) {
	seen := map[string]bool{}
	for _, c := range claimsSupported {
		if seen[c] {
			t.Errorf("claims_supported lists %s twice", c)
		}
		seen[c] = true
	}
	for _, d := range claimTable {
		if !seen[d.name] {
			t.Errorf("claim %s is in the table but not in claims_supported", d.name)
		}
		if !slices.Contains(client.SupportedScopes, d.scope) {
			t.Errorf("claim %s is released by %q, which is not a scope inkpass grants", d.name, d.scope)
		}
		if !slices.Contains(ScopeClaims[d.scope], d.name) || !scopesRelease([]string{d.scope}, d.name) {
			t.Errorf("ScopeClaims[%s] = %v, missing %s", d.scope, ScopeClaims[d.scope], d.name)
		}
		if d.scope != "openid" && claimScope(d.name) != d.scope {
			t.Errorf("claimScope(%s) = %q, want %q (the claims parameter could not ask for it)", d.name, claimScope(d.name), d.scope)
		}
	}
	n := 0
	for _, names := range ScopeClaims {
		n += len(names)
	}
	if n != len(claimTable) || len(claimsSupported) != len(protocolClaims)+len(claimTable) {
		t.Errorf("ScopeClaims holds %d claims and claims_supported %d; the table has %d and the protocol %d",
			n, len(claimsSupported), len(claimTable), len(protocolClaims))
	}
	// Discovery serves the same list.
	p := newUnit(t).p
	body, _ := p.Discovery()
	var doc struct {
		ClaimsSupported []string `json:"claims_supported"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(doc.ClaimsSupported, claimsSupported) {
		t.Errorf("discovery claims_supported = %v, want %v", doc.ClaimsSupported, claimsSupported)
	}
}

func TestClaimTable_ConsentTextIsDerivedFromTheTable(t *testing.T) {
	for _, scope := range client.SupportedScopes {
		if ScopeDescriptions[scope] == "" {
			t.Errorf("scope %s has no consent text", scope)
		}
	}
	for _, d := range claimTable {
		desc := ScopeDescriptions[d.scope]
		switch {
		case d.consent != "" && !strings.Contains(desc, d.consent):
			t.Errorf("consent text of %s = %q, does not name claim %s (%q)", d.scope, desc, d.name, d.consent)
		case d.consent == "" && d.with == "":
			t.Errorf("claim %s has neither consent words nor a claim it goes with: the consent page would not mention it", d.name)
		case d.with != "" && claimScope(d.with) != claimScope(d.name):
			t.Errorf("claim %s goes with %s, released by another scope", d.name, d.with)
		}
	}
	// A new row's words reach the page without touching any text.
	saved := claimTable
	t.Cleanup(func() { claimTable = saved })
	claimTable = append(slices.Clone(saved), claimDef{name: "pronouns", scope: "profile", consent: "pronouns"})
	if got := scopeDescriptions()["profile"]; got != "See your name, username, date of birth, Instagram handle and pronouns" {
		t.Errorf("profile consent text with a new claim = %q", got)
	}
	// The page says what it said before the table.
	for scope, want := range map[string]string{
		"openid":         "Know who you are, your role at the studio and your artist profile",
		"profile":        "See your name, username, date of birth and Instagram handle",
		"email":          "See your email address",
		"phone":          "See your phone number",
		"offline_access": "Keep access while you are away, until you revoke it",
	} {
		if ScopeDescriptions[scope] != want {
			t.Errorf("ScopeDescriptions[%s] = %q, want %q", scope, ScopeDescriptions[scope], want)
		}
	}
}

func TestClaimTable_EveryRowFillsItsClaim(t *testing.T) {
	u := unitUsersMap()[2] // every field set
	u.Phone = "555-0199"
	for _, d := range claimTable {
		b, err := json.Marshal(userClaims(u, unitApp, []string{"openid"}, []string{d.name}))
		if err != nil {
			t.Fatal(err)
		}
		var got map[string]any
		_ = json.Unmarshal(b, &got)
		if _, ok := got[d.name]; !ok {
			t.Errorf("claim %s asked for by name is not filled: %s", d.name, b)
		}
	}
	for scope, names := range ScopeClaims {
		b, _ := json.Marshal(userClaims(u, unitApp, []string{"openid", scope}, nil))
		var got map[string]any
		_ = json.Unmarshal(b, &got)
		for _, n := range names {
			if _, ok := got[n]; !ok {
				t.Errorf("scope %s does not fill its claim %s: %s", scope, n, b)
			}
		}
	}
}

// TestClaimTable_IDTokenUserinfoAndIntrospectionAgree checks that the three
// answers that state user claims read them from the one filler: the same
// user, scopes and claims request give the same user claims, and the same sub
// (Subject's).
func TestClaimTable_IDTokenUserinfoAndIntrospectionAgree(t *testing.T) {
	u := newUnit(t)
	artist := u.users.m[2]
	scopes := []string{"openid", "profile", "email"}
	requested := []string{"birthdate"}

	tok, err := mintIDToken(unitConfig(&u.now), fakeSigner{}, idTokenInput{user: artist, clientID: unitWeb, scopes: scopes, claims: requested, sid: "s"})
	if err != nil {
		t.Fatal(err)
	}
	var idt map[string]any
	if err := json.Unmarshal(payloadOf(t, tok), &idt); err != nil {
		t.Fatal(err)
	}
	for _, k := range append(slices.Clone(protocolClaims), "iss") {
		delete(idt, k)
	}

	u.tokens.addAccess("at-1", session.Grant{ID: "g-1", ClientID: unitWeb, UserID: 2, Scope: strings.Join(scopes, " "),
		Extension: url.Values{extClaims: {encodeClaimsRequest(&ClaimsRequest{UserInfo: requested})}}}, time.Hour)
	r := httptest.NewRequest("GET", "/userinfo", nil)
	r.Header.Set("Authorization", "Bearer at-1")
	uc, e := u.p.userInfo(r)
	if e != nil {
		t.Fatalf("userInfo: %v", e)
	}
	b, _ := json.Marshal(uc)
	var ui map[string]any
	_ = json.Unmarshal(b, &ui)
	if !reflect.DeepEqual(idt, ui) {
		t.Errorf("ID token user claims %v\nuserinfo %v", idt, ui)
	}
	if want := Subject(artist.ID, unitWeb); idt["sub"] != want || ui["sub"] != want {
		t.Errorf("sub: ID token %v, userinfo %v, want Subject = %s", idt["sub"], ui["sub"], want)
	}

	// Introspection states username (profile), role (openid) and sub from
	// the same filler.
	u.records.m["at-1"] = &session.TokenRecord{Kind: "access_token", ClientID: unitWeb, UserID: "2", Scope: strings.Join(scopes, " "),
		IssuedAt: u.now, ExpiresAt: u.now.Add(time.Hour), Active: true}
	web, _ := u.clients.Get(context.Background(), unitWeb)
	ans, err := u.p.introspect(httptest.NewRequest("POST", "/introspect", nil), web, "at-1", "")
	if err != nil || !ans.Active {
		t.Fatalf("introspect = %+v, %v", ans, err)
	}
	if ans.Subject != ui["sub"] || ans.Username != ui["preferred_username"] || ans.Role != ui["role"] {
		t.Errorf("introspection sub %q username %q role %q; userinfo %v", ans.Subject, ans.Username, ans.Role, ui)
	}
	if !subjectIs(Subject(artist.ID, unitWeb), artist.ID, unitWeb) || subjectIs(Subject(4, unitWeb), artist.ID, unitWeb) {
		t.Error("subjectIs does not compare with Subject")
	}
}
