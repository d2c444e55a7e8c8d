package oidc

import (
	"slices"
	"strconv"

	"github.com/inkpass/inkpass/internal/user"
)

// ScopeClaims says which claims each scope releases (OIDC Core §5.4, plus the
// studio's instagram under profile). role and artist_id are released with
// openid itself: every studio app needs them to decide what a user may do.
var ScopeClaims = map[string][]string{
	"openid":  {"sub", "role", "artist_id", "artist_name"},
	"profile": {"name", "preferred_username", "birthdate", "instagram"},
	"email":   {"email"},
	"phone":   {"phone_number"},
}

// userClaims are the claims of u released by scopes. Absent values are left
// out, never sent as empty strings.
func userClaims(u *user.User, scopes []string) map[string]any {
	c := map[string]any{
		"sub":  strconv.FormatInt(u.ID, 10),
		"role": string(u.Role),
	}
	if u.Role == user.RoleArtist && u.ArtistID != nil {
		c["artist_id"] = *u.ArtistID
		if u.ArtistName != "" {
			c["artist_name"] = u.ArtistName
		}
	}
	set := func(name, v string) {
		if v != "" {
			c[name] = v
		}
	}
	if slices.Contains(scopes, "profile") {
		set("name", u.Name)
		set("preferred_username", u.Username)
		set("birthdate", u.Birthdate)
		set("instagram", u.Instagram)
	}
	if slices.Contains(scopes, "email") {
		set("email", u.Email)
	}
	if slices.Contains(scopes, "phone") {
		set("phone_number", u.Phone)
	}
	return c
}

// claimsSupported lists every claim inkpass may put in an ID token or
// userinfo answer, for discovery.
var claimsSupported = []string{
	"iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "at_hash", "amr", "azp", "sid",
	"role", "artist_id", "artist_name",
	"name", "preferred_username", "birthdate", "instagram", "email", "phone_number",
}
