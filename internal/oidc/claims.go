package oidc

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/inkpass/inkpass/internal/user"
)

// claimDef is one row of claimTable: a claim about the user that inkpass
// releases, the scope that releases it, the words the consent page uses for
// it, and how its value is read from the user.
type claimDef struct {
	name  string
	scope string
	// consent is how the consent page names the claim after its scope's
	// verb (scopeConsent): "date of birth" under "See your". A claim whose
	// consent is "" is shown under another claim's words (email_verified
	// goes with email), and must name it in with.
	consent string
	// with names the claim this one goes with: it is also released when
	// that one is (email_verified with email, OIDC Core §5.1), and only
	// when the user has a value for it.
	with string
	// fill copies the claim's value from u into c; it may leave it empty
	// (the user's record lacks it: OIDC Core §5.3.2 says omit it). The
	// claims of openid are filled always, whatever the scopes.
	fill func(u *user.User, c *claims)
}

// claimTable is every claim about the user inkpass releases, in the order
// discovery lists them. It drives userClaims (ID tokens, userinfo,
// introspection), ScopeClaims (which claims each scope releases, the claims
// parameter), ScopeDescriptions (the consent page) and claims_supported.
// Adding a claim is one row here plus its field on user.User and on claims:
// see docs/architecture.md.
//
// The scopes follow OIDC Core §5.4, plus the studio's instagram under
// profile. role and artist_id are released with openid itself: every studio
// app needs them to decide what a user may do.
var claimTable = []claimDef{
	// sub is Subject's, set by userClaims: it depends on the client too.
	{name: "sub", scope: "openid", consent: "who you are"},
	{name: "role", scope: "openid", consent: "your role at the studio", fill: func(u *user.User, c *claims) { c.Role = string(u.Role) }},
	{name: "artist_id", scope: "openid", consent: "your artist profile", fill: func(u *user.User, c *claims) {
		if u.Role == user.RoleArtist && u.ArtistID != nil {
			id := *u.ArtistID
			c.ArtistID = &id
		}
	}},
	{name: "artist_name", scope: "openid", with: "artist_id", fill: func(u *user.User, c *claims) {
		if u.Role == user.RoleArtist && u.ArtistID != nil {
			c.ArtistName = u.ArtistName
		}
	}},
	{name: "name", scope: "profile", consent: "name", fill: func(u *user.User, c *claims) { c.Name = u.Name }},
	{name: "preferred_username", scope: "profile", consent: "username", fill: func(u *user.User, c *claims) { c.PreferredUsername = u.Username }},
	{name: "birthdate", scope: "profile", consent: "date of birth", fill: func(u *user.User, c *claims) { c.Birthdate = u.Birthdate }},
	{name: "instagram", scope: "profile", consent: "Instagram handle", fill: func(u *user.User, c *claims) { c.Instagram = u.Instagram }},
	{name: "email", scope: "email", consent: "email address", fill: func(u *user.User, c *claims) { c.Email = u.Email }},
	{name: "email_verified", scope: "email", with: "email", fill: func(u *user.User, c *claims) {
		if u.Email != "" {
			v := u.EmailVerified
			c.EmailVerified = &v
		}
	}},
	{name: "phone_number", scope: "phone", consent: "phone number", fill: func(u *user.User, c *claims) { c.PhoneNumber = u.Phone }},
	{name: "phone_number_verified", scope: "phone", with: "phone_number", fill: func(u *user.User, c *claims) {
		if u.Phone != "" {
			v := u.PhoneVerified
			c.PhoneNumberVerified = &v
		}
	}},
}

// scopeConsent is, for each scope the consent page may show, the verb its
// claims' words follow; a scope that releases no claim (offline_access) has
// its whole sentence here instead (scopeSentence).
var scopeConsent = map[string]string{
	"openid":  "Know",
	"profile": "See your",
	"email":   "See your",
	"phone":   "See your",
}

// scopeSentence is the consent text of scopes that release no claim.
var scopeSentence = map[string]string{
	"offline_access": "Keep access while you are away, until you revoke it",
}

// protocolClaims are the ID token's own claims (OIDC Core §2), which say
// nothing about the user; claims_supported lists them before claimTable's.
var protocolClaims = []string{"iss", "aud", "exp", "iat", "auth_time", "nonce", "at_hash", "amr", "acr", "azp", "sid"}

// ScopeClaims says which claims each scope releases, from claimTable. It is
// also the table of the claims parameter (ClaimsRequest): a claim named
// there is known when a scope here releases it.
var ScopeClaims = scopeClaims()

func scopeClaims() map[string][]string {
	out := map[string][]string{}
	for _, d := range claimTable {
		out[d.scope] = append(out[d.scope], d.name)
	}
	return out
}

// ScopeDescriptions say in plain words what each scope lets an app see, for
// the consent page: the scope's verb and its claims' words from claimTable
// ("See your name, username, date of birth and Instagram handle").
var ScopeDescriptions = scopeDescriptions()

func scopeDescriptions() map[string]string {
	out := map[string]string{}
	for scope, verb := range scopeConsent {
		var words []string
		for _, d := range claimTable {
			if d.scope == scope && d.consent != "" {
				words = append(words, d.consent)
			}
		}
		out[scope] = verb + " " + joinWords(words)
	}
	for scope, s := range scopeSentence {
		out[scope] = s
	}
	return out
}

// joinWords is "a", "a and b", "a, b and c".
func joinWords(w []string) string {
	if len(w) <= 1 {
		return strings.Join(w, "")
	}
	return strings.Join(w[:len(w)-1], ", ") + " and " + w[len(w)-1]
}

// claimsSupported lists every claim inkpass may put in an ID token or
// userinfo answer, for discovery: the protocol's, then claimTable's.
var claimsSupported = func() []string {
	out := slices.Clone(protocolClaims)
	for _, d := range claimTable {
		out = append(out, d.name)
	}
	return out
}()

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
	for _, d := range claimTable {
		if d.name == claim && d.scope != "openid" {
			return d.scope
		}
	}
	return ""
}

// Subject is the sub inkpass states for user userID to client clientID:
// public subjects (Discovery subject_types_supported), the user's id in
// decimal, the same for every client. It is the one place sub is made:
// ID tokens, userinfo, introspection and the id_token_hint check (subjectIs)
// use it, and the logout tokens' subject, written by SQL when a session ends
// (store queueLogouts), must agree with it (storetest checks). A pairwise
// subject would change this function, and that SQL, together.
func Subject(userID int64, clientID string) string {
	return strconv.FormatInt(userID, 10)
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
	Acr      string   `json:"acr,omitempty"`

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

// userClaims are the claims of u, as client clientID sees them, released by
// scopes, plus the claims named in requested (a member of the claims
// parameter, already reduced to known claims the user consented to). It is
// the one filler of user claims: ID tokens, userinfo and introspection all
// read theirs from it, row by row of claimTable.
func userClaims(u *user.User, clientID string, scopes, requested []string) *claims {
	c := &claims{Sub: Subject(u.ID, clientID)}
	released := func(claim string) bool { return slices.Contains(requested, claim) || scopesRelease(scopes, claim) }
	for _, d := range claimTable {
		if d.fill == nil {
			continue
		}
		if d.scope == "openid" || released(d.name) || (d.with != "" && released(d.with)) {
			d.fill(u, c)
		}
	}
	return c
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
