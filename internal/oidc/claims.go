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

// claims are what an ID token or a userinfo answer states. A struct rather
// than a map: encoding/json writes it without a map's reflection and key
// sorting, and a refresh encodes one per ID token. Empty fields are left out,
// never sent as empty strings: a claim the scopes do not release, a value the
// user's record lacks (OIDC Core §5.3.2), and the ID token's own claims in a
// userinfo answer.
type claims struct {
	Iss      string   `json:"iss,omitempty"`
	Sub      string   `json:"sub"`
	Aud      string   `json:"aud,omitempty"`
	Azp      string   `json:"azp,omitempty"`
	Exp      int64    `json:"exp,omitempty"`
	Iat      int64    `json:"iat,omitempty"`
	AuthTime int64    `json:"auth_time,omitempty"`
	Nonce    string   `json:"nonce,omitempty"`
	Sid      string   `json:"sid,omitempty"`
	AtHash   string   `json:"at_hash,omitempty"`
	Amr      []string `json:"amr,omitempty"`

	Role              string `json:"role"`
	ArtistID          *int64 `json:"artist_id,omitempty"`
	ArtistName        string `json:"artist_name,omitempty"`
	Name              string `json:"name,omitempty"`
	PreferredUsername string `json:"preferred_username,omitempty"`
	Birthdate         string `json:"birthdate,omitempty"`
	Instagram         string `json:"instagram,omitempty"`
	Email             string `json:"email,omitempty"`
	PhoneNumber       string `json:"phone_number,omitempty"`
}

// userClaims are the claims of u released by scopes.
func userClaims(u *user.User, scopes []string) *claims {
	c := &claims{Sub: strconv.FormatInt(u.ID, 10), Role: string(u.Role)}
	if u.Role == user.RoleArtist && u.ArtistID != nil {
		id := *u.ArtistID
		c.ArtistID = &id
		c.ArtistName = u.ArtistName
	}
	if slices.Contains(scopes, "profile") {
		c.Name, c.PreferredUsername, c.Birthdate, c.Instagram = u.Name, u.Username, u.Birthdate, u.Instagram
	}
	if slices.Contains(scopes, "email") {
		c.Email = u.Email
	}
	if slices.Contains(scopes, "phone") {
		c.PhoneNumber = u.Phone
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
