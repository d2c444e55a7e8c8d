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
		Name: "Luna Martinez", Birthdate: "1992-07-30", Email: "luna@studio.example", Phone: "555-0199", Instagram: "lunatattoos"}
	assistant := &user.User{ID: 4, Username: "front_desk", Role: user.RoleAssistant, Name: "Sam Rivera", Phone: "+1 555 0142"}
	tests := []struct {
		name   string
		u      *user.User
		scopes []string
		want   map[string]any
	}{
		{"openid alone gives sub, role and the artist link", artist, []string{"openid"},
			map[string]any{"sub": "2", "role": "artist", "artist_id": float64(1), "artist_name": "Luna Martinez"}},
		{"profile adds name, username, birthdate and instagram", artist, []string{"openid", "profile"},
			map[string]any{"sub": "2", "role": "artist", "artist_id": float64(1), "artist_name": "Luna Martinez",
				"name": "Luna Martinez", "preferred_username": "luna_artist", "birthdate": "1992-07-30", "instagram": "lunatattoos"}},
		{"email and phone add their claims", artist, []string{"openid", "email", "phone"},
			map[string]any{"sub": "2", "role": "artist", "artist_id": float64(1), "artist_name": "Luna Martinez",
				"email": "luna@studio.example", "phone_number": "555-0199"}},
		{"an assistant has no artist claims, and absent fields are left out", assistant, []string{"openid", "profile", "email", "phone"},
			map[string]any{"sub": "4", "role": "assistant", "name": "Sam Rivera", "preferred_username": "front_desk", "phone_number": "+1 555 0142"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// What goes on the wire: the JSON, read back as a client would.
			b, err := json.Marshal(userClaims(tc.u, tc.scopes))
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
