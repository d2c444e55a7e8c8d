package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
)

// profile is who signed in, as the page shows it. Empty fields were not
// released (the scope was not granted, or inkpass has no value).
type profile struct {
	Subject    string
	Name       string
	Username   string
	Role       string
	ArtistID   string
	ArtistName string
	Email      string
	Phone      string
	Instagram  string
	Birthdate  string
}

// role is what a role may do in the studio app. inkpass only says which role
// a user has; what the role allows is the studio app's own business.
type role struct {
	Title     string
	Abilities []string
}

var roles = map[string]role{
	"admin": {Title: "Admin", Abilities: []string{
		"Manage all users",
		"Manage artists",
		"Manage clients",
		"Change studio settings",
	}},
	"assistant": {Title: "Assistant", Abilities: []string{
		"Manage clients",
		"Manage sessions for every artist",
		"See limited financial reports",
	}},
	"artist": {Title: "Artist", Abilities: []string{
		"Manage your own sessions",
		"Manage your portfolio",
		"See your own reports",
	}},
}

// newProfile reads the claims inkpass releases (see internal/oidc ScopeClaims)
// from the verified ID token, falling back to userinfo for any claim the
// ID token lacks. userInfo may be nil.
//
// role and artist_id are the claims an app authorizes on. Both sets come
// from inkpass at the same moment, but only the ID token is signed, so it
// wins when they differ.
func newProfile(idToken, userInfo json.RawMessage) (profile, error) {
	id, err := decodeClaims(idToken)
	if err != nil {
		return profile{}, fmt.Errorf("read ID token claims: %w", err)
	}
	ui := map[string]any{}
	if len(userInfo) > 0 {
		if ui, err = decodeClaims(userInfo); err != nil {
			return profile{}, fmt.Errorf("read userinfo claims: %w", err)
		}
	}
	claim := func(name string) string {
		if v := claimString(id[name]); v != "" {
			return v
		}
		return claimString(ui[name])
	}
	return profile{
		Subject:    claim("sub"),
		Name:       claim("name"),
		Username:   claim("preferred_username"),
		Role:       claim("role"),
		ArtistID:   claim("artist_id"),
		ArtistName: claim("artist_name"),
		Email:      claim("email"),
		Phone:      claim("phone_number"),
		Instagram:  claim("instagram"),
		Birthdate:  claim("birthdate"),
	}, nil
}

// decodeClaims keeps numbers as json.Number, so that an artist_id of
// 12345678901234567 is shown as sent, not rounded through float64.
func decodeClaims(raw json.RawMessage) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, err
	}
	return m, nil
}

// claimString renders a scalar claim; artist_id is a JSON number from
// inkpass, but a string is accepted too.
func claimString(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case json.Number:
		return v.String()
	case bool:
		return strconv.FormatBool(v)
	default:
		return ""
	}
}

// indentJSON formats a claim set for the raw-claims block.
func indentJSON(raw json.RawMessage) string {
	var buf bytes.Buffer
	if err := json.Indent(&buf, raw, "", "  "); err != nil {
		return string(raw)
	}
	return buf.String()
}
