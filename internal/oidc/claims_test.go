package oidc

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/inkpass/inkpass/internal/user"
)

func TestUserClaims_ByScope(t *testing.T) {
	one := int64(1)
	artist := &user.User{ID: 2, Username: "luna_artist", Role: user.RoleArtist, ArtistID: &one, ArtistName: "Luna Martinez",
		Name: "Luna Martinez", Birthdate: "1992-07-30", Email: "luna@studio.example", EmailVerified: true, Phone: "555-0199", Instagram: "lunatattoos"}
	assistant := &user.User{ID: 4, Username: "front_desk", Role: user.RoleAssistant, Name: "Sam Rivera", Phone: "+1 555 0142"}
	tests := []struct {
		name      string
		u         *user.User
		scopes    []string
		requested []string
		want      map[string]any
	}{
		{"openid alone gives sub, role and the artist link", artist, []string{"openid"}, nil,
			map[string]any{"sub": "2", "role": "artist", "artist_id": float64(1), "artist_name": "Luna Martinez"}},
		{"profile adds name, username, birthdate and instagram", artist, []string{"openid", "profile"}, nil,
			map[string]any{"sub": "2", "role": "artist", "artist_id": float64(1), "artist_name": "Luna Martinez",
				"name": "Luna Martinez", "preferred_username": "luna_artist", "birthdate": "1992-07-30", "instagram": "lunatattoos"}},
		{"email and phone add their claims, each with whether it is verified", artist, []string{"openid", "email", "phone"}, nil,
			map[string]any{"sub": "2", "role": "artist", "artist_id": float64(1), "artist_name": "Luna Martinez",
				"email": "luna@studio.example", "email_verified": true, "phone_number": "555-0199", "phone_number_verified": false}},
		{"an assistant has no artist claims, and absent fields are left out", assistant, []string{"openid", "profile", "email", "phone"}, nil,
			map[string]any{"sub": "4", "role": "assistant", "name": "Sam Rivera", "preferred_username": "front_desk",
				"phone_number": "+1 555 0142", "phone_number_verified": false}},
		{"claims requested by name are released without their scope", artist, []string{"openid"}, []string{"birthdate", "email"},
			map[string]any{"sub": "2", "role": "artist", "artist_id": float64(1), "artist_name": "Luna Martinez",
				"birthdate": "1992-07-30", "email": "luna@studio.example", "email_verified": true}},
		{"email_verified alone is released without the address", artist, []string{"openid"}, []string{"email_verified"},
			map[string]any{"sub": "2", "role": "artist", "artist_id": float64(1), "artist_name": "Luna Martinez", "email_verified": true}},
		{"no email means no email_verified", assistant, []string{"openid"}, []string{"email", "email_verified"},
			map[string]any{"sub": "4", "role": "assistant"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// What goes on the wire: the JSON, read back as a client would.
			b, err := json.Marshal(userClaims(tc.u, "app", tc.scopes, tc.requested))
			if err != nil {
				t.Fatal(err)
			}
			var got map[string]any
			if err := json.Unmarshal(b, &got); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("userClaims = %s\nwant %v", b, tc.want)
			}
		})
	}
}

func TestScopeClaims_CoverEveryReleasedClaim(t *testing.T) {
	for scope, claims := range ScopeClaims {
		if ScopeDescriptions[scope] == "" {
			t.Errorf("scope %s has no description for the consent page", scope)
		}
		for _, c := range claims {
			found := false
			for _, s := range claimsSupported {
				found = found || s == c
			}
			if !found {
				t.Errorf("claim %s of scope %s is not in claims_supported", c, scope)
			}
		}
	}
}

func TestParseClaimsRequest(t *testing.T) {
	allowAll := func(string) bool { return true }
	noPhone := func(scope string) bool { return scope != "phone" }
	tests := []struct {
		name    string
		raw     string
		allowed func(string) bool
		want    *ClaimsRequest
		wantSub string
		wantErr bool
	}{
		{"an essential claim in the ID token", `{"id_token":{"email":{"essential":true}}}`, allowAll,
			&ClaimsRequest{IDToken: []string{"email"}}, "", false},
		{"a voluntary claim at userinfo", `{"userinfo":{"phone_number":null}}`, allowAll,
			&ClaimsRequest{UserInfo: []string{"phone_number"}}, "", false},
		{"both members, names sorted", `{"userinfo":{"name":null,"birthdate":{"essential":false}},"id_token":{"email_verified":null}}`, allowAll,
			&ClaimsRequest{IDToken: []string{"email_verified"}, UserInfo: []string{"birthdate", "name"}}, "", false},
		{"value and values are accepted and not honoured", `{"userinfo":{"email":{"value":"x@y.example"},"name":{"values":["a","b"]}}}`, allowAll,
			&ClaimsRequest{UserInfo: []string{"email", "name"}}, "", false},
		{"unknown claims and members are ignored", `{"id_token":{"favourite_colour":null,"acr":{"essential":true}},"extra":{"email":null}}`, allowAll,
			nil, "", false},
		{"openid's claims are released anyway and not kept", `{"id_token":{"role":null,"sub":null}}`, allowAll, nil, "", false},
		{"a claim of a scope the client may not request is dropped", `{"userinfo":{"phone_number":null,"email":null}}`, noPhone,
			&ClaimsRequest{UserInfo: []string{"email"}}, "", false},
		{"a sub value in the ID token is returned", `{"id_token":{"sub":{"value":"42"}}}`, allowAll, nil, "42", false},
		{"a sub value at userinfo is not", `{"userinfo":{"sub":{"value":"42"}}}`, allowAll, nil, "", false},
		{"null members are no request", `{"id_token":null,"userinfo":null}`, allowAll, nil, "", false},
		{"an empty object is no request", `{}`, allowAll, nil, "", false},
		{"not JSON", `{"id_token":`, allowAll, nil, "", true},
		{"a JSON array", `[{"id_token":{}}]`, allowAll, nil, "", true},
		{"JSON null", `null`, allowAll, nil, "", true},
		{"a string", `"email"`, allowAll, nil, "", true},
		{"a member that is an array", `{"userinfo":["email"]}`, allowAll, nil, "", true},
		{"a claim that is true", `{"userinfo":{"email":true}}`, allowAll, nil, "", true},
		{"essential as a string", `{"id_token":{"email":{"essential":"true"}}}`, allowAll, nil, "", true},
		{"values that is not an array", `{"id_token":{"name":{"values":"a"}}}`, allowAll, nil, "", true},
		{"a sub value that is a number", `{"id_token":{"sub":{"value":2}}}`, allowAll, nil, "", true},
		{"a malformed unknown claim is still malformed", `{"id_token":{"favourite_colour":1}}`, allowAll, nil, "", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, sub, err := parseClaimsRequest(tc.raw, tc.allowed)
			if (err != nil) != tc.wantErr {
				t.Fatalf("parseClaimsRequest(%s) error = %v, want error: %v", tc.raw, err, tc.wantErr)
			}
			if !reflect.DeepEqual(got, tc.want) || sub != tc.wantSub {
				t.Errorf("parseClaimsRequest(%s) = %+v, sub %q; want %+v, sub %q", tc.raw, got, sub, tc.want, tc.wantSub)
			}
		})
	}
}

func TestClaimsRequest_StoredFormRoundTrips(t *testing.T) {
	r := &ClaimsRequest{IDToken: []string{"email"}, UserInfo: []string{"name", "phone_number"}}
	if got := decodeClaimsRequest(encodeClaimsRequest(r)); !reflect.DeepEqual(got, r) {
		t.Errorf("round trip = %+v, want %+v", got, r)
	}
	for _, bad := range []string{"", "{", "[]"} {
		if got := decodeClaimsRequest(bad); got == nil || len(got.IDToken)+len(got.UserInfo) != 0 {
			t.Errorf("decodeClaimsRequest(%q) = %+v, want an empty request", bad, got)
		}
	}
}
