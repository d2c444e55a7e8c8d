package web_test

// End-to-end tests: a real relying party (coreos/go-oidc and x/oauth2) against
// the real handler on httptest, over a real SQLite copy of the studio fixture,
// through the real login form. Each top-level test has a server of its own and
// runs in parallel with the others; password logins are slow by design
// (werkzeug pbkdf2 and scrypt), so each test signs in once and reuses the
// browser's session for everything after.

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/inkpass/inkpass/internal/testsupport/harness"
)

// msgBadCredentials is the login page's one message for unknown user, wrong
// password and deactivated account.
const msgBadCredentials = "The username or password is incorrect."

// Claims of the fixture's artist Luna (user 2, artist 1).
var lunaIdentity = map[string]any{
	"sub":         "2",
	"role":        "artist",
	"artist_id":   float64(1),
	"artist_name": "Luna Martinez",
}

var lunaProfileAndEmail = map[string]any{
	"name":               "Luna Martinez",
	"preferred_username": "luna_artist",
	"birthdate":          "1992-07-30",
	"instagram":          "lunatattoos",
	"email":              "luna@studio.example",
}

var profileClaims = []string{"name", "preferred_username", "birthdate", "instagram"}

func merge(ms ...map[string]any) map[string]any {
	out := map[string]any{}
	for _, m := range ms {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}

func TestE2E_Discovery(t *testing.T) {
	t.Parallel()
	e := harness.NewServer(t, harness.Options{})

	resp, err := e.HTTP.Client().Get(e.Issuer + "/.well-known/openid-configuration")
	if err != nil {
		t.Fatalf("GET discovery: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET discovery: status %d", resp.StatusCode)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type = %q, want application/json", ct)
	}
	var doc map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
		t.Fatalf("decode discovery: %v", err)
	}

	t.Run("the issuer and every endpoint are exact URLs under the issuer", func(t *testing.T) {
		for k, want := range map[string]string{
			"issuer":                 e.Issuer,
			"authorization_endpoint": e.Issuer + "/authorize",
			"token_endpoint":         e.Issuer + "/token",
			"userinfo_endpoint":      e.Issuer + "/userinfo",
			"jwks_uri":               e.Issuer + "/jwks",
		} {
			if got := doc[k]; got != want {
				t.Errorf("%s = %v, want %q", k, got, want)
			}
		}
	})

	t.Run("the advertised capabilities are what inkpass implements", func(t *testing.T) {
		list := func(k string) []string {
			raw, _ := doc[k].([]any)
			var out []string
			for _, v := range raw {
				s, _ := v.(string)
				out = append(out, s)
			}
			return out
		}
		exact := map[string][]string{
			"code_challenge_methods_supported":      {"S256"},
			"response_types_supported":              {"code"},
			"subject_types_supported":               {"public"},
			"id_token_signing_alg_values_supported": {"RS256", "ES256", "EdDSA"},
		}
		for k, want := range exact {
			if got := list(k); !slices.Equal(got, want) {
				t.Errorf("%s = %q, want %q", k, got, want)
			}
		}
		contains := map[string][]string{
			"grant_types_supported":                 {"authorization_code", "refresh_token", "client_credentials"},
			"token_endpoint_auth_methods_supported": {"client_secret_basic", "client_secret_post", "none"},
			"scopes_supported":                      {"openid", "profile", "email", "phone", "offline_access"},
			"response_modes_supported":              {"query"},
			"claims_supported": {"sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "at_hash", "amr", "azp", "sid",
				"role", "artist_id", "artist_name", "name", "preferred_username", "birthdate", "instagram", "email", "phone_number"},
		}
		for k, want := range contains {
			got := list(k)
			for _, w := range want {
				if !slices.Contains(got, w) {
					t.Errorf("%s = %q, missing %q", k, got, w)
				}
			}
		}
		if slices.Contains(list("code_challenge_methods_supported"), "plain") {
			t.Error("plain PKCE is advertised")
		}
	})

	t.Run("go-oidc accepts the document and the JWKS holds the active key only", func(t *testing.T) {
		p, err := oidc.NewProvider(t.Context(), e.Issuer)
		if err != nil {
			t.Fatalf("oidc.NewProvider: %v", err)
		}
		if got := p.Endpoint().AuthURL; got != e.Issuer+"/authorize" {
			t.Errorf("AuthURL = %q", got)
		}
		if got := p.UserInfoEndpoint(); got != e.Issuer+"/userinfo" {
			t.Errorf("UserInfoEndpoint = %q", got)
		}
		if got, want := e.JWKSKIDs(t), []string{e.Keys.Active().KID}; !slices.Equal(got, want) {
			t.Errorf("JWKS kids = %q, want %q", got, want)
		}
	})
}

// TestE2E_ArtistSignsIn is the studio's main story: Luna signs in to the
// studio app through the login form; everything after reuses her session.
func TestE2E_ArtistSignsIn(t *testing.T) {
	t.Parallel()
	e := harness.NewServer(t, harness.Options{})
	b := e.NewBrowser(t)
	app := e.AppRP(t, "openid", "profile", "email", "offline_access")

	first := app.Start(false)
	q := b.SignIn(first, "luna_artist", "artist_password")
	s := first.Redeem(t, q.Get("code"))

	t.Run("the confidential client's ID token carries the artist's claims", func(t *testing.T) {
		harness.CheckClaims(t, "ID token", s.Claims, merge(lunaIdentity, lunaProfileAndEmail, map[string]any{
			"iss": e.Issuer,
			"aud": harness.AppID,
			"azp": harness.AppID,
			"amr": []any{"pwd"},
		}), []string{"phone_number"})
		if sid, _ := s.Claims["sid"].(string); sid == "" {
			t.Errorf("sid = %v, want the session id", s.Claims["sid"])
		}
		at, ok := s.Claims["auth_time"].(float64)
		if !ok || time.Since(time.Unix(int64(at), 0)).Abs() > time.Minute {
			t.Errorf("auth_time = %v, want about now", s.Claims["auth_time"])
		}
		if ttl := s.IDToken.Expiry.Sub(s.IDToken.IssuedAt); ttl != harness.IDTokenTTL {
			t.Errorf("exp - iat = %v, want %v", ttl, harness.IDTokenTTL)
		}
		if h := harness.JWTHeader(t, s.Raw); h["alg"] != "RS256" || h["kid"] != e.Keys.Active().KID {
			t.Errorf("JOSE header = %v, want alg RS256 and kid %s", h, e.Keys.Active().KID)
		}
		if s.Token.RefreshToken == "" {
			t.Error("no refresh token although offline_access was granted")
		}
		if left := time.Until(s.Token.Expiry); left < harness.AccessTTL-time.Minute || left > harness.AccessTTL+time.Minute {
			t.Errorf("access token expires in %v, want about %v", left, harness.AccessTTL)
		}
		if len(s.Token.AccessToken) < 43 {
			t.Errorf("access token %q is shorter than 256 bits of base64url", s.Token.AccessToken)
		}
	})

	t.Run("userinfo by GET and by POST return the same claims", func(t *testing.T) {
		get := e.Userinfo(t, http.MethodGet, s.Token.AccessToken)
		post := e.Userinfo(t, http.MethodPost, s.Token.AccessToken)
		if get.Status != http.StatusOK || post.Status != http.StatusOK {
			t.Fatalf("userinfo status GET %d, POST %d, want 200", get.Status, post.Status)
		}
		harness.WantNoStore(t, get.Header)
		if !reflect.DeepEqual(get.Claims, post.Claims) {
			t.Errorf("GET claims %v differ from POST claims %v", get.Claims, post.Claims)
		}
		harness.CheckClaims(t, "userinfo", get.Claims, merge(lunaIdentity, lunaProfileAndEmail), []string{"phone_number"})

		// And as go-oidc's own userinfo client sees it.
		ui, err := app.Provider.UserInfo(t.Context(), oauth2.StaticTokenSource(s.Token))
		if err != nil {
			t.Fatalf("go-oidc UserInfo: %v", err)
		}
		if ui.Subject != s.IDToken.Subject || ui.Email != "luna@studio.example" {
			t.Errorf("go-oidc UserInfo sub %q email %q, want %q and luna@studio.example", ui.Subject, ui.Email, s.IDToken.Subject)
		}
	})

	t.Run("a second client signs in by single sign-on without the login form", func(t *testing.T) {
		tool := e.ToolRP(t, "openid", "profile", "email")
		f := tool.Start(false)
		// The tool is third-party: the first time, inkpass asks Luna to
		// allow it, but never for her password again.
		p := b.Get(f.URL)
		if p.Status != http.StatusSeeOther || !strings.HasPrefix(p.Location(), "/consent?req=") {
			t.Fatalf("first authorization of a third-party client: status %d to %q, want 303 to /consent", p.Status, p.Location())
		}
		sso := f.Redeem(t, b.Callback(f, b.ApproveConsent(p.Location())).Get("code"))
		harness.CheckClaims(t, "tool ID token", sso.Claims, merge(lunaIdentity, lunaProfileAndEmail, map[string]any{
			"aud": harness.ToolID, "azp": harness.ToolID,
			"sid": s.Claims["sid"], "auth_time": s.Claims["auth_time"],
		}), nil)
		if sso.Token.RefreshToken != "" {
			t.Error("a client without the refresh_token grant got a refresh token")
		}

		// Consent given, the next authorization goes straight to the tool.
		again := tool.Start(false)
		again.Redeem(t, b.SSO(again).Get("code"))
	})

	t.Run("scopes that were not requested release no claims", func(t *testing.T) {
		bare := e.AppRP(t, "openid")
		f := bare.Start(false)
		got := f.Redeem(t, b.SSO(f).Get("code"))
		absent := append([]string{"email", "phone_number"}, profileClaims...)
		harness.CheckClaims(t, "openid-only ID token", got.Claims, lunaIdentity, absent)
		harness.CheckClaims(t, "openid-only userinfo", e.WantUserinfoOK(t, got.Token.AccessToken), lunaIdentity, absent)
		if got.Token.RefreshToken != "" {
			t.Error("refresh token issued without offline_access")
		}
	})

	t.Run("a refresh token rotates, and reusing a retired one revokes the whole family", func(t *testing.T) {
		f := app.Start(false)
		grant := f.Redeem(t, b.SSO(f).Get("code"))
		r1, a1 := grant.Token.RefreshToken, grant.Token.AccessToken

		tok2, err := app.Refresh(t, r1)
		if err != nil {
			t.Fatalf("first refresh: %v", err)
		}
		r2, a2 := tok2.RefreshToken, tok2.AccessToken
		if r2 == "" || r2 == r1 {
			t.Fatalf("refresh token after rotation = %q, want a new one (old %q)", r2, r1)
		}
		if a2 == a1 {
			t.Fatal("refresh returned the same access token")
		}
		refreshed := harness.VerifyTokenResponse(t, app, tok2)
		harness.CheckClaims(t, "refreshed ID token", refreshed.Claims, merge(lunaIdentity, map[string]any{
			"auth_time": grant.Claims["auth_time"], "sid": grant.Claims["sid"],
		}), nil)
		e.WantUserinfoOK(t, a2)

		_, err = app.Refresh(t, r1)
		harness.WantRetrieveError(t, err, "invalid_grant", http.StatusBadRequest)
		_, err = app.Refresh(t, r2)
		harness.WantRetrieveError(t, err, "invalid_grant", http.StatusBadRequest)
		e.WantInvalidToken(t, a2)
		e.WantInvalidToken(t, a1)
	})

	t.Run("a refresh retires the access token it replaces", func(t *testing.T) {
		// GrantStore.RotateRefresh retires the refresh token and the access
		// token issued with it, in one transaction.
		f := app.Start(false)
		grant := f.Redeem(t, b.SSO(f).Get("code"))
		tok2, err := app.Refresh(t, grant.Token.RefreshToken)
		if err != nil {
			t.Fatalf("refresh: %v", err)
		}
		e.WantUserinfoOK(t, tok2.AccessToken)
		e.WantInvalidToken(t, grant.Token.AccessToken)
	})

	t.Run("a refresh may narrow the scope but never widen it", func(t *testing.T) {
		f := app.Start(false)
		grant := f.Redeem(t, b.SSO(f).Get("code"))

		narrow := e.PostToken(t, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {grant.Token.RefreshToken},
			"scope": {"openid offline_access"}}, harness.AppID, harness.AppSecret)
		if narrow.Status != http.StatusOK {
			t.Fatalf("narrowing refresh: status %d %v, want 200", narrow.Status, narrow.Body)
		}
		if got := strings.Fields(narrow.Str("scope")); !slices.Equal(got, []string{"openid", "offline_access"}) {
			t.Errorf("narrowed scope = %q", got)
		}
		absent := append([]string{"email"}, profileClaims...)
		harness.CheckClaims(t, "userinfo after narrowing", e.WantUserinfoOK(t, narrow.Str("access_token")), lunaIdentity, absent)

		wide := e.PostToken(t, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {narrow.Str("refresh_token")},
			"scope": {"openid profile offline_access"}}, harness.AppID, harness.AppSecret)
		if wide.Status != http.StatusBadRequest || wide.Str("error") != "invalid_scope" {
			t.Errorf("widening refresh: status %d %v, want 400 invalid_scope", wide.Status, wide.Body)
		}
	})

	t.Run("a refresh that drops offline_access still gets an access token", func(t *testing.T) {
		f := app.Start(false)
		grant := f.Redeem(t, b.SSO(f).Get("code"))
		r := e.PostToken(t, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {grant.Token.RefreshToken},
			"scope": {"openid profile"}}, harness.AppID, harness.AppSecret)
		if r.Status != http.StatusOK || r.Str("access_token") == "" {
			t.Fatalf("refresh with scope \"openid profile\": status %d %v, want 200 with an access token", r.Status, r.Body)
		}
		e.WantUserinfoOK(t, r.Str("access_token"))
	})

	t.Run("a replayed code fails with invalid_grant and revokes what its first exchange issued", func(t *testing.T) {
		f := app.Start(false)
		code := b.SSO(f).Get("code")
		grant := f.Redeem(t, code)
		e.WantUserinfoOK(t, grant.Token.AccessToken)

		_, err := f.Exchange(t, code)
		harness.WantRetrieveError(t, err, "invalid_grant", http.StatusBadRequest)
		e.WantInvalidToken(t, grant.Token.AccessToken)
		_, err = app.Refresh(t, grant.Token.RefreshToken)
		harness.WantRetrieveError(t, err, "invalid_grant", http.StatusBadRequest)
	})

	t.Run("a code older than 60 seconds is invalid_grant", func(t *testing.T) {
		f := app.Start(false)
		code := b.SSO(f).Get("code")
		e.Clock.Advance(harness.CodeTTL + time.Second)
		defer e.Clock.Advance(-(harness.CodeTTL + time.Second))
		_, err := f.Exchange(t, code)
		harness.WantRetrieveError(t, err, "invalid_grant", http.StatusBadRequest)
	})

	t.Run("a client cannot redeem another client's code", func(t *testing.T) {
		tool := e.ToolRP(t, "openid")
		toolFlow := tool.Start(false)
		toolCode := b.SSOWithConsent(toolFlow).Get("code")
		// The studio app presents the tool's code with its own credentials
		// and its own redirect URI, then with the tool's redirect URI.
		_, err := app.Conf.Exchange(t.Context(), toolCode)
		harness.WantRetrieveError(t, err, "invalid_grant", http.StatusBadRequest)
		_, err = app.Conf.Exchange(t.Context(), toolCode, oauth2.SetAuthURLParam("redirect_uri", harness.ToolRedirect))
		if err == nil {
			t.Fatal("the studio app redeemed the tool's code with the tool's redirect_uri")
		}
	})

	t.Run("a wrong client secret is 401 invalid_client and does not use up the code", func(t *testing.T) {
		f := app.Start(false)
		code := b.SSO(f).Get("code")
		wrong := *app
		wrong.Conf.ClientSecret = harness.AppSecret + "x"
		_, err := wrong.Conf.Exchange(t.Context(), code)
		re := harness.WantRetrieveError(t, err, "invalid_client", http.StatusUnauthorized)
		if wa := re.Response.Header.Get("WWW-Authenticate"); !strings.HasPrefix(wa, "Basic") {
			t.Errorf("WWW-Authenticate = %q, want a Basic challenge", wa)
		}
		f.Redeem(t, code)
	})

	t.Run("PKCE: a missing or wrong code_verifier is invalid_grant", func(t *testing.T) {
		spa := e.SPARP(t, "openid")
		f := spa.Start(true)
		code := b.SSO(f).Get("code")
		_, err := spa.Conf.Exchange(t.Context(), code)
		harness.WantRetrieveError(t, err, "invalid_grant", http.StatusBadRequest)
		_, err = spa.Conf.Exchange(t.Context(), code, oauth2.VerifierOption(oauth2.GenerateVerifier()))
		harness.WantRetrieveError(t, err, "invalid_grant", http.StatusBadRequest)

		// A confidential client that sent no challenge cannot add a
		// verifier at the token endpoint (PKCE downgrade).
		g := app.Start(false)
		code = b.SSO(g).Get("code")
		_, err = app.Conf.Exchange(t.Context(), code, oauth2.VerifierOption(oauth2.GenerateVerifier()))
		harness.WantRetrieveError(t, err, "invalid_grant", http.StatusBadRequest)
	})

	t.Run("a tampered ID token fails verification", func(t *testing.T) {
		parts := strings.Split(s.Raw, ".")
		payload, err := base64.RawURLEncoding.DecodeString(parts[1])
		if err != nil {
			t.Fatal(err)
		}
		forged := strings.Replace(string(payload), `"sub":"2"`, `"sub":"1"`, 1)
		if forged == string(payload) {
			t.Fatalf("payload has no \"sub\":\"2\": %s", payload)
		}
		flipped := []byte(parts[1])
		flipped[len(flipped)/2] ^= 0x01
		if flipped[len(flipped)/2] == parts[1][len(parts[1])/2] {
			t.Fatal("flip did nothing")
		}
		for name, tok := range map[string]string{
			"claim changed": parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(forged)) + "." + parts[2],
			"byte flipped":  parts[0] + "." + string(flipped) + "." + parts[2],
			"no signature":  parts[0] + "." + parts[1] + ".",
		} {
			if _, err := app.Verifier.Verify(t.Context(), tok); err == nil {
				t.Errorf("%s: tampered ID token verified", name)
			}
		}
		if _, err := app.Verifier.Verify(t.Context(), s.Raw); err != nil {
			t.Errorf("the untouched token no longer verifies: %v", err)
		}
	})

	t.Run("after key rotation an old token still verifies and new tokens carry the new kid", func(t *testing.T) {
		oldKID := e.Keys.Active().KID
		info, err := e.Keys.Rotate("")
		if err != nil {
			t.Fatalf("Rotate: %v", err)
		}
		if info.KID == oldKID {
			t.Fatal("Rotate kept the kid")
		}
		if got, want := e.JWKSKIDs(t), sortedStrings(oldKID, info.KID); !slices.Equal(got, want) {
			t.Errorf("JWKS kids = %q, want %q", got, want)
		}
		fresh := e.AppRP(t, "openid")
		if _, err := fresh.Verifier.Verify(t.Context(), s.Raw); err != nil {
			t.Errorf("token signed by the retired key fails with a freshly discovered provider: %v", err)
		}
		f := fresh.Start(false)
		got := f.Redeem(t, b.SSO(f).Get("code"))
		if kid := harness.JWTHeader(t, got.Raw)["kid"]; kid != info.KID {
			t.Errorf("new token kid = %v, want %s", kid, info.KID)
		}
	})
}

func sortedStrings(s ...string) []string { slices.Sort(s); return s }

// TestE2E_AdminSignsInToThePublicClient runs the public client's flow: PKCE,
// no secret anywhere, and an admin's claims.
func TestE2E_AdminSignsInToThePublicClient(t *testing.T) {
	t.Parallel()
	e := harness.NewServer(t, harness.Options{})
	b := e.NewBrowser(t)
	spa := e.SPARP(t, "openid", "profile", "email", "phone", "offline_access")
	f := spa.Start(true)
	s := f.Redeem(t, b.SignIn(f, "admin", "secure_password").Get("code"))

	want := map[string]any{
		"sub": "1", "role": "admin", "aud": harness.SPAID, "azp": harness.SPAID,
		"name": "Admin User", "preferred_username": "admin", "birthdate": "1985-02-14",
		"email": "admin@studio.example", "phone_number": "555-0100",
	}
	absent := []string{"artist_id", "artist_name", "instagram"}

	t.Run("the admin's claims have role admin and no artist", func(t *testing.T) {
		harness.CheckClaims(t, "ID token", s.Claims, want, absent)
		delete(want, "aud")
		delete(want, "azp")
		harness.CheckClaims(t, "userinfo", e.WantUserinfoOK(t, s.Token.AccessToken), want, absent)
	})

	t.Run("the public client refreshes with its client_id alone", func(t *testing.T) {
		if s.Token.RefreshToken == "" {
			t.Fatal("no refresh token for offline_access")
		}
		tok, err := spa.Refresh(t, s.Token.RefreshToken)
		if err != nil {
			t.Fatalf("refresh: %v", err)
		}
		if tok.RefreshToken == s.Token.RefreshToken {
			t.Error("the refresh token did not rotate")
		}
		harness.VerifyTokenResponse(t, spa, tok)
	})

	t.Run("a public client cannot pass itself off as confidential", func(t *testing.T) {
		r := e.PostToken(t, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"x"}}, harness.SPAID, "made-up-secret")
		if r.Status != http.StatusUnauthorized || r.Str("error") != "invalid_client" {
			t.Errorf("status %d %v, want 401 invalid_client", r.Status, r.Body)
		}
	})
}

// TestE2E_AssistantAndDeactivation covers the assistant's claims, the one
// login error message, and what deactivating a signed-in user does.
func TestE2E_AssistantAndDeactivation(t *testing.T) {
	t.Parallel()
	e := harness.NewServer(t, harness.Options{})
	b := e.NewBrowser(t)
	app := e.AppRP(t, "openid", "profile", "phone", "offline_access")
	f := app.Start(false)
	_, form := b.ToLoginPage(f.URL)

	t.Run("a deactivated user, a wrong password and an unknown user get the same 401 page", func(t *testing.T) {
		for _, c := range []struct{ name, username, password string }{
			{"deactivated account with its right password", harness.FormerAssistant, harness.FormerAssistantPW},
			{"wrong password", "front_desk", "desk-Passwort-1"},
			{"unknown username", "nobody_here", "whatever-it-is"},
		} {
			p := b.SubmitLogin(form, c.username, c.password)
			if p.Status != http.StatusUnauthorized {
				t.Errorf("%s: status %d, want 401", c.name, p.Status)
			}
			if p.Location() != "" {
				t.Errorf("%s: Location %q, want none", c.name, p.Location())
			}
			if got := harness.LoginError(p); got != msgBadCredentials {
				t.Errorf("%s: error box %q, want %q", c.name, got, msgBadCredentials)
			}
			for _, leak := range []string{"deactivat", "inactive", "unknown user", "not found"} {
				if strings.Contains(strings.ToLower(p.Body), leak) {
					t.Errorf("%s: page says %q", c.name, leak)
				}
			}
			form = harness.ParseLoginForm(t, p)
		}
	})

	p := b.SubmitLogin(form, "front_desk", "desk-Pässwort-1")
	if p.Status != http.StatusSeeOther {
		t.Fatalf("front_desk login: status %d, error box %q", p.Status, harness.LoginError(p))
	}
	s := f.Redeem(t, b.Callback(f, p).Get("code"))

	t.Run("the assistant's claims have role assistant and the phone number", func(t *testing.T) {
		want := map[string]any{
			"sub": "4", "role": "assistant", "phone_number": "+1 555 0142",
			"name": "Sam Rivera", "preferred_username": "front_desk", "birthdate": "2000-11-02",
		}
		absent := []string{"artist_id", "artist_name", "email", "instagram"}
		harness.CheckClaims(t, "ID token", s.Claims, want, absent)
		harness.CheckClaims(t, "userinfo", e.WantUserinfoOK(t, s.Token.AccessToken), want, absent)
	})

	t.Run("deactivating a signed-in user ends their tokens and their session", func(t *testing.T) {
		if err := e.Users.Deactivate(t.Context(), harness.FrontDeskID); err != nil {
			t.Fatalf("Deactivate: %v", err)
		}
		e.WantInvalidToken(t, s.Token.AccessToken)
		_, err := app.Refresh(t, s.Token.RefreshToken)
		harness.WantRetrieveError(t, err, "invalid_grant", http.StatusBadRequest)
		// Single sign-on is over too: the next authorization asks for a password.
		b.ToLoginPage(app.Start(false).URL)
	})
}

// TestE2E_AuthorizeErrorsStayOnOurPage: until client_id and redirect_uri are
// both known good, nothing redirects (RFC 6749 §4.1.2.1).
func TestE2E_AuthorizeErrorsStayOnOurPage(t *testing.T) {
	t.Parallel()
	e := harness.NewServer(t, harness.Options{})
	valid := func() url.Values {
		return url.Values{
			"client_id": {harness.AppID}, "redirect_uri": {harness.AppRedirect}, "response_type": {"code"},
			"scope": {"openid"}, "state": {"st"}, "nonce": {"n"},
		}
	}
	cases := []struct {
		name  string
		query func(url.Values)
	}{
		{"unknown client_id", func(q url.Values) { q.Set("client_id", "no-such-app") }},
		{"missing client_id", func(q url.Values) { q.Del("client_id") }},
		{"client_id given twice", func(q url.Values) { q.Add("client_id", harness.AppID) }},
		{"unregistered redirect_uri", func(q url.Values) { q.Set("redirect_uri", "https://evil.example/callback") }},
		{"redirect_uri with the host in upper case", func(q url.Values) { q.Set("redirect_uri", "http://LOCALHOST:8123/callback") }},
		{"redirect_uri with the path in another case", func(q url.Values) { q.Set("redirect_uri", "http://localhost:8123/Callback") }},
		{"redirect_uri with the scheme in upper case", func(q url.Values) { q.Set("redirect_uri", "HTTP://localhost:8123/callback") }},
		{"redirect_uri with an extra path segment", func(q url.Values) { q.Set("redirect_uri", harness.AppRedirect+"/extra") }},
		{"redirect_uri with a longer last segment", func(q url.Values) { q.Set("redirect_uri", harness.AppRedirect+"s") }},
		{"redirect_uri with an extra query parameter", func(q url.Values) { q.Set("redirect_uri", harness.AppRedirect+"?next=/admin") }},
		{"redirect_uri on another port", func(q url.Values) { q.Set("redirect_uri", "http://localhost:8124/callback") }},
		{"redirect_uri without its port", func(q url.Values) { q.Set("redirect_uri", "http://localhost/callback") }},
		{"redirect_uri with a trailing slash", func(q url.Values) { q.Set("redirect_uri", harness.AppRedirect+"/") }},
		{"redirect_uri with a fragment", func(q url.Values) { q.Set("redirect_uri", harness.AppRedirect+"#x") }},
		{"redirect_uri over https", func(q url.Values) { q.Set("redirect_uri", "https://localhost:8123/callback") }},
		{"redirect_uri with userinfo before another host", func(q url.Values) { q.Set("redirect_uri", "http://localhost:8123@evil.example/callback") }},
		{"redirect_uri percent-encoded", func(q url.Values) { q.Set("redirect_uri", "http://localhost:8123/%63allback") }},
		{"redirect_uri of another client", func(q url.Values) { q.Set("redirect_uri", harness.ToolRedirect) }},
		{"redirect_uri missing when two are registered", func(q url.Values) { q.Del("redirect_uri") }},
		{"redirect_uri given twice", func(q url.Values) { q.Add("redirect_uri", harness.AppRedirect2) }},
		{"a bad redirect_uri wins over a bad response_type", func(q url.Values) {
			q.Set("redirect_uri", harness.AppRedirect+"/")
			q.Set("response_type", "token")
		}},
		{"a bad redirect_uri wins over a missing openid scope", func(q url.Values) {
			q.Set("redirect_uri", "http://localhost:8124/callback")
			q.Set("scope", "profile")
		}},
	}
	b := e.NewBrowser(t)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			q := valid()
			tc.query(q)
			harness.WantErrorPage(t, b.Get("/authorize?"+q.Encode()))
			post := b.Post("/authorize", q)
			harness.WantErrorPage(t, post)
		})
	}
}

// TestE2E_AuthorizeErrorsGoBackToTheClient: once client and redirect URI are
// good, errors are OAuth errors at the redirect URI, with state and iss.
func TestE2E_AuthorizeErrorsGoBackToTheClient(t *testing.T) {
	t.Parallel()
	e := harness.NewServer(t, harness.Options{})
	verifier := oauth2.GenerateVerifier()
	s256 := func(q url.Values) {
		q.Set("code_challenge", s256Challenge(verifier))
		q.Set("code_challenge_method", "S256")
	}
	cases := []struct {
		name      string
		client    string
		redirect  string
		query     func(url.Values)
		wantError string
		noState   bool
	}{
		{"public client without code_challenge is invalid_request", harness.SPAID, harness.SPARedirect, func(q url.Values) {}, "invalid_request", false},
		{"code_challenge_method plain is invalid_request", harness.SPAID, harness.SPARedirect, func(q url.Values) {
			q.Set("code_challenge", verifier)
			q.Set("code_challenge_method", "plain")
		}, "invalid_request", false},
		{"code_challenge without a method is invalid_request", harness.SPAID, harness.SPARedirect, func(q url.Values) {
			q.Set("code_challenge", s256Challenge(verifier))
		}, "invalid_request", false},
		{"malformed code_challenge is invalid_request", harness.SPAID, harness.SPARedirect, func(q url.Values) {
			s256(q)
			q.Set("code_challenge", "too-short")
		}, "invalid_request", false},
		{"scope without openid is invalid_scope", harness.AppID, harness.AppRedirect, func(q url.Values) { q.Set("scope", "profile email") }, "invalid_scope", false},
		{"a scope the client may not request is invalid_scope", harness.ToolID, harness.ToolRedirect, func(q url.Values) { q.Set("scope", "openid phone") }, "invalid_scope", false},
		{"unknown scopes alone (ignored) lack openid: invalid_scope", harness.AppID, harness.AppRedirect, func(q url.Values) { q.Set("scope", "admin groups") }, "invalid_scope", false},
		{"response_type token is unsupported_response_type", harness.AppID, harness.AppRedirect, func(q url.Values) { q.Set("response_type", "token") }, "unsupported_response_type", false},
		{"missing response_type is invalid_request", harness.AppID, harness.AppRedirect, func(q url.Values) { q.Del("response_type") }, "invalid_request", false},
		{"scope given twice is invalid_request", harness.AppID, harness.AppRedirect, func(q url.Values) { q.Add("scope", "openid profile") }, "invalid_request", false},
		{"nonce given twice is invalid_request", harness.SPAID, harness.SPARedirect, func(q url.Values) { s256(q); q.Add("nonce", "other") }, "invalid_request", false},
		{"state given twice is invalid_request without a state", harness.AppID, harness.AppRedirect, func(q url.Values) { q.Add("state", "other") }, "invalid_request", true},
		{"prompt=none without a session is login_required", harness.AppID, harness.AppRedirect, func(q url.Values) { q.Set("prompt", "none") }, "login_required", false},
		{"a request object is request_not_supported", harness.AppID, harness.AppRedirect, func(q url.Values) { q.Set("request", "eyJhbGciOiJub25lIn0.e30.") }, "request_not_supported", false},
	}
	b := e.NewBrowser(t)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			q := url.Values{
				"client_id": {tc.client}, "redirect_uri": {tc.redirect}, "response_type": {"code"},
				"scope": {"openid"}, "state": {"the-state"}, "nonce": {"n"},
			}
			tc.query(q)
			p := b.Get("/authorize?" + q.Encode())
			got := harness.RedirectParams(t, p, tc.redirect)
			if got.Get("error") != tc.wantError {
				t.Errorf("error = %q (%s), want %q", got.Get("error"), got.Get("error_description"), tc.wantError)
			}
			if got.Get("error_description") == "" {
				t.Error("no error_description")
			}
			if got.Has("code") {
				t.Error("an error redirect carries a code")
			}
			wantState := "the-state"
			if tc.noState {
				wantState = ""
			}
			if got.Get("state") != wantState {
				t.Errorf("state = %q, want %q", got.Get("state"), wantState)
			}
			if got.Get("iss") != e.Issuer {
				t.Errorf("iss = %q, want %q", got.Get("iss"), e.Issuer)
			}
		})
	}
}

// s256Challenge is RFC 7636's S256 transform.
func s256Challenge(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// TestE2E_TokenEndpointErrors: RFC 6749 §5.2 errors, each with no-store.
func TestE2E_TokenEndpointErrors(t *testing.T) {
	t.Parallel()
	e := harness.NewServer(t, harness.Options{})
	form := func(kv ...string) url.Values {
		v := url.Values{}
		for i := 0; i+1 < len(kv); i += 2 {
			v.Add(kv[i], kv[i+1])
		}
		return v
	}
	code := func(extra ...string) url.Values {
		return form(append([]string{"grant_type", "authorization_code", "code", "no-such-code", "redirect_uri", harness.AppRedirect}, extra...)...)
	}
	cases := []struct {
		name       string
		form       url.Values
		basic      []string
		wantStatus int
		wantError  string
		wantBasic  bool
	}{
		{"a wrong secret by basic auth is 401 invalid_client with a Basic challenge", code(), []string{harness.AppID, "wrong"}, 401, "invalid_client", true},
		{"an unknown client by basic auth is 401 invalid_client with a Basic challenge", code(), []string{"no-such-app", "x"}, 401, "invalid_client", true},
		{"a wrong secret in the body is 401 invalid_client", form("grant_type", "authorization_code", "code", "c", "client_id", harness.ToolID, "client_secret", "wrong"), nil, 401, "invalid_client", false},
		{"a client pinned to basic auth sending its secret in the body is invalid_client", code("client_id", harness.AppID, "client_secret", harness.AppSecret), nil, 401, "invalid_client", false},
		{"a confidential client without a secret is invalid_client", code("client_id", harness.AppID), nil, 401, "invalid_client", false},
		{"no client at all is invalid_client", code(), nil, 401, "invalid_client", false},
		{"an unknown code is invalid_grant", code(), []string{harness.AppID, harness.AppSecret}, 400, "invalid_grant", false},
		{"an unknown refresh token is invalid_grant", form("grant_type", "refresh_token", "refresh_token", "nope"), []string{harness.AppID, harness.AppSecret}, 400, "invalid_grant", false},
		{"the password grant is unsupported_grant_type", form("grant_type", "password", "username", "admin", "password", "secure_password"), []string{harness.AppID, harness.AppSecret}, 400, "unsupported_grant_type", false},
		{"a grant the client may not use is unauthorized_client", form("grant_type", "client_credentials"), []string{harness.AppID, harness.AppSecret}, 400, "unauthorized_client", false},
		{"client_credentials for a public client is unauthorized_client", form("grant_type", "client_credentials", "client_id", harness.SPAID), nil, 400, "unauthorized_client", false},
		{"a parameter given twice is invalid_request", code("code", "again"), []string{harness.AppID, harness.AppSecret}, 400, "invalid_request", false},
		{"a missing grant_type is invalid_request", form("code", "x"), []string{harness.AppID, harness.AppSecret}, 400, "invalid_request", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := e.PostToken(t, tc.form, tc.basic...)
			if r.Status != tc.wantStatus || r.Str("error") != tc.wantError {
				t.Errorf("got %d %v, want %d %s", r.Status, r.Body, tc.wantStatus, tc.wantError)
			}
			if _, ok := r.Body["access_token"]; ok {
				t.Error("an error carries an access token")
			}
			wa := r.Header.Get("WWW-Authenticate")
			if tc.wantBasic && !strings.HasPrefix(wa, "Basic") {
				t.Errorf("WWW-Authenticate = %q, want a Basic challenge", wa)
			}
		})
	}

	t.Run("parameters in the URL are invalid_request", func(t *testing.T) {
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, e.Issuer+"/token?code=x", strings.NewReader(code().Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(harness.AppID, harness.AppSecret)
		resp, err := e.HTTP.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body map[string]any
		json.NewDecoder(resp.Body).Decode(&body)
		if resp.StatusCode != http.StatusBadRequest || body["error"] != "invalid_request" {
			t.Errorf("got %d %v, want 400 invalid_request", resp.StatusCode, body)
		}
		harness.WantNoStore(t, resp.Header)
	})
}

func TestE2E_ClientCredentials(t *testing.T) {
	t.Parallel()
	e := harness.NewServer(t, harness.Options{})
	cc := clientcredentials.Config{
		ClientID: harness.ReporterID, ClientSecret: harness.ReporterSecret, TokenURL: e.Issuer + "/token",
		AuthStyle: oauth2.AuthStyleInHeader,
	}

	t.Run("a confidential client gets an access token and nothing else", func(t *testing.T) {
		tok, err := cc.Token(t.Context())
		if err != nil {
			t.Fatalf("client_credentials: %v", err)
		}
		if tok.AccessToken == "" {
			t.Fatal("no access token")
		}
		if tok.RefreshToken != "" {
			t.Errorf("refresh token %q issued for client_credentials", tok.RefreshToken)
		}
		if idt := tok.Extra("id_token"); idt != nil {
			t.Errorf("id_token %v issued for client_credentials", idt)
		}
		if left := time.Until(tok.Expiry); left <= 0 || left > harness.AccessTTL+time.Minute {
			t.Errorf("expires in %v", left)
		}
		// No user behind it: userinfo has nothing to say.
		e.WantInvalidToken(t, tok.AccessToken)
	})

	t.Run("an allowed non-identity scope is granted", func(t *testing.T) {
		c := cc
		c.Scopes = []string{"profile"}
		if _, err := c.Token(t.Context()); err != nil {
			t.Errorf("scope profile: %v", err)
		}
	})

	t.Run("openid and offline_access need a user and are invalid_scope", func(t *testing.T) {
		for _, s := range []string{"openid", "offline_access"} {
			c := cc
			c.Scopes = []string{s}
			_, err := c.Token(t.Context())
			harness.WantRetrieveError(t, err, "invalid_scope", http.StatusBadRequest)
		}
	})

	t.Run("a wrong secret is invalid_client", func(t *testing.T) {
		c := cc
		c.ClientSecret = "wrong"
		_, err := c.Token(t.Context())
		harness.WantRetrieveError(t, err, "invalid_client", http.StatusUnauthorized)
	})
}

func TestE2E_UserinfoRefusesBadTokens(t *testing.T) {
	t.Parallel()
	e := harness.NewServer(t, harness.Options{})

	t.Run("an unknown token is 401 invalid_token", func(t *testing.T) {
		e.WantInvalidToken(t, "not-a-token-we-ever-issued-0123456789abcdefghijk")
	})

	t.Run("no token at all is 401 with a bare Bearer challenge", func(t *testing.T) {
		resp, err := e.HTTP.Client().Get(e.Issuer + "/userinfo")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("status %d, want 401", resp.StatusCode)
		}
		if wa := resp.Header.Get("WWW-Authenticate"); !strings.HasPrefix(wa, "Bearer") || strings.Contains(wa, "error=") {
			t.Errorf("WWW-Authenticate = %q, want Bearer without an error code", wa)
		}
	})

	t.Run("a token in the query string is not read", func(t *testing.T) {
		resp, err := e.HTTP.Client().Get(e.Issuer + "/userinfo?access_token=whatever")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("status %d, want 401", resp.StatusCode)
		}
	})
}

// TestE2E_LoginForm covers the form's protections; none of it reaches a
// password check.
func TestE2E_LoginForm(t *testing.T) {
	t.Parallel()
	e := harness.NewServer(t, harness.Options{})
	app := e.AppRP(t, "openid")
	b := e.NewBrowser(t)
	login, form := b.ToLoginPage(app.Start(false).URL)

	t.Run("the page names the studio and the app", func(t *testing.T) {
		for _, want := range []string{"Ink &amp; Needle Test Studio", "Studio App", `for="username"`, `for="password"`} {
			if !strings.Contains(login.Body, want) {
				t.Errorf("login page lacks %q", want)
			}
		}
	})

	t.Run("a bad or missing CSRF token is 403", func(t *testing.T) {
		other := e.NewBrowser(t)
		_, otherForm := other.ToLoginPage(app.Start(false).URL)
		for name, csrf := range map[string]string{
			"forged":                  "forged-token",
			"missing":                 "",
			"another browser's token": otherForm.CSRF,
		} {
			p := b.Post(form.Action, url.Values{"username": {"admin"}, "password": {"secure_password"}, "csrf_token": {csrf}})
			if p.Status != http.StatusForbidden {
				t.Errorf("%s CSRF token: status %d, want 403", name, p.Status)
			}
			if p.Location() != "" {
				t.Errorf("%s CSRF token: redirected to %q", name, p.Location())
			}
		}
	})

	t.Run("a pending request belongs to the browser that made it", func(t *testing.T) {
		other := e.NewBrowser(t)
		p := other.Get(form.Action)
		if p.Status != http.StatusBadRequest {
			t.Errorf("another browser opening %s: status %d, want 400", form.Action, p.Status)
		}
	})
}
