package oidc

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"

	"github.com/inkpass/inkpass/internal/user"
)

// ScopeClaims says which claims each scope releases (OIDC Core §5.4, plus the
// studio's instagram under profile). role and artist_id are released with
// openid itself: every studio app needs them to decide what a user may do.
// It is also the table of the claims parameter (ClaimsRequest): a claim
// named there is known when a scope here releases it.
var ScopeClaims = map[string][]string{
	"openid":  {"sub", "role", "artist_id", "artist_name"},
	"profile": {"name", "preferred_username", "birthdate", "instagram"},
	"email":   {"email", "email_verified"},
	"phone":   {"phone_number", "phone_number_verified"},
}

// scopesRelease reports whether one of scopes releases claim.
func scopesRelease(scopes []string, claim string) bool {
	for _, s := range scopes {
		if slices.Contains(ScopeClaims[s], claim) {
			return true
		}
	}
	return false
}

// claimScope is the scope that releases claim, other than openid (whose
// claims every ID token carries anyway); "" for a claim inkpass does not
// release on request.
func claimScope(claim string) string {
	for scope, names := range ScopeClaims {
		if scope != "openid" && slices.Contains(names, claim) {
			return scope
		}
	}
	return ""
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
	// EmailVerified and PhoneNumberVerified go with the value they speak of
	// (pointers, so that false is sent): relying parties such as Dex refuse
	// an email whose email_verified is missing.
	EmailVerified       *bool  `json:"email_verified,omitempty"`
	PhoneNumber         string `json:"phone_number,omitempty"`
	PhoneNumberVerified *bool  `json:"phone_number_verified,omitempty"`
}

// userClaims are the claims of u released by scopes, plus the claims named
// in requested (a member of the claims parameter, already reduced to known
// claims the user consented to).
func userClaims(u *user.User, scopes, requested []string) *claims {
	c := &claims{Sub: strconv.FormatInt(u.ID, 10), Role: string(u.Role)}
	if u.Role == user.RoleArtist && u.ArtistID != nil {
		id := *u.ArtistID
		c.ArtistID = &id
		c.ArtistName = u.ArtistName
	}
	released := func(claim string) bool { return slices.Contains(requested, claim) || scopesRelease(scopes, claim) }
	if released("name") {
		c.Name = u.Name
	}
	if released("preferred_username") {
		c.PreferredUsername = u.Username
	}
	if released("birthdate") {
		c.Birthdate = u.Birthdate
	}
	if released("instagram") {
		c.Instagram = u.Instagram
	}
	if released("email") {
		c.Email = u.Email
	}
	if u.Email != "" && (released("email") || released("email_verified")) {
		v := u.EmailVerified
		c.EmailVerified = &v
	}
	if released("phone_number") {
		c.PhoneNumber = u.Phone
	}
	if u.Phone != "" && (released("phone_number") || released("phone_number_verified")) {
		v := u.PhoneVerified
		c.PhoneNumberVerified = &v
	}
	return c
}

// claimsSupported lists every claim inkpass may put in an ID token or
// userinfo answer, for discovery.
var claimsSupported = []string{
	"iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "at_hash", "amr", "azp", "sid",
	"role", "artist_id", "artist_name",
	"name", "preferred_username", "birthdate", "instagram",
	"email", "email_verified", "phone_number", "phone_number_verified",
}

// maxClaimsLen bounds the claims parameter: the studio's claims all named,
// with every member OIDC Core §5.5.1 defines, fit in a fraction of it.
const maxClaimsLen = 8 << 10

// ClaimsRequest is what inkpass keeps of the claims request parameter (OIDC
// Core §5.5): for the ID token and for userinfo, the claims asked for by
// name that a scope other than openid releases (ScopeClaims) and that the
// client may request, sorted. It is stored with the pending request and with
// the grant (in the code's and tokens' extension), so every ID token and
// userinfo answer of the grant releases the same claims.
type ClaimsRequest struct {
	IDToken  []string `json:"id_token,omitempty"`
	UserInfo []string `json:"userinfo,omitempty"`
}

// names are the claims of both members, each once.
func (r *ClaimsRequest) names() []string {
	if r == nil {
		return nil
	}
	out := slices.Concat(r.IDToken, r.UserInfo)
	slices.Sort(out)
	return slices.Compact(out)
}

// claimRequest is one claim's entry (OIDC Core §5.5.1). essential is read
// only to refuse a malformed one: inkpass releases a claim the user approved
// whether the client called it essential or voluntary. value and values are
// not honoured (a claim is the user's value or nothing), except sub's value
// in the ID token member, which must name the user (parseClaimsRequest).
type claimRequest struct {
	Essential *bool           `json:"essential"`
	Value     json.RawMessage `json:"value"`
	Values    []any           `json:"values"`
}

// parseClaimsRequest reads the claims parameter. Members other than
// id_token and userinfo, and claims inkpass does not know or allowed says
// the client may not request (by the claim's scope), are ignored (§5.5).
// sub is the value the ID token member demands for sub, "" when none. An
// error means the parameter is not the JSON §5.5 describes.
func parseClaimsRequest(raw string, allowed func(scope string) bool) (req *ClaimsRequest, sub string, err error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal([]byte(raw), &top); err != nil || top == nil {
		return nil, "", fmt.Errorf("claims must be a JSON object")
	}
	req = &ClaimsRequest{}
	for _, member := range []struct {
		name string
		dst  *[]string
	}{{"id_token", &req.IDToken}, {"userinfo", &req.UserInfo}} {
		m, ok := top[member.name]
		if !ok || string(m) == "null" {
			continue
		}
		var entries map[string]json.RawMessage
		if err := json.Unmarshal(m, &entries); err != nil {
			return nil, "", fmt.Errorf("claims member %s must be a JSON object", member.name)
		}
		for name, e := range entries {
			var cr *claimRequest
			if err := json.Unmarshal(e, &cr); err != nil {
				return nil, "", fmt.Errorf("claim %s in %s must be null or an object with a boolean essential", quoteShort(name, 64), member.name)
			}
			if member.name == "id_token" && name == "sub" && cr != nil && len(cr.Value) > 0 && string(cr.Value) != "null" {
				if err := json.Unmarshal(cr.Value, &sub); err != nil || sub == "" {
					return nil, "", fmt.Errorf("the value of sub in id_token must be a string")
				}
			}
			if scope := claimScope(name); scope != "" && allowed(scope) {
				*member.dst = append(*member.dst, name)
			}
		}
		slices.Sort(*member.dst)
	}
	if len(req.IDToken) == 0 && len(req.UserInfo) == 0 {
		req = nil
	}
	return req, sub, nil
}

// extClaims is the extension key of a grant's ClaimsRequest.
const extClaims = "claims"

// encodeClaimsRequest is r as stored in a grant's extension.
func encodeClaimsRequest(r *ClaimsRequest) string {
	b, _ := json.Marshal(r) // two string slices: cannot fail
	return string(b)
}

// decodeClaimsRequest reads a grant's stored ClaimsRequest; a value that
// does not decode (never written by inkpass) releases nothing extra.
func decodeClaimsRequest(s string) *ClaimsRequest {
	var r ClaimsRequest
	if s == "" || json.Unmarshal([]byte(s), &r) != nil {
		return &ClaimsRequest{}
	}
	return &r
}
