package oidc

import (
	"context"
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/inkpass/inkpass/internal/audit"
	"github.com/inkpass/inkpass/internal/client"
	"github.com/inkpass/inkpass/internal/keys"
	"github.com/inkpass/inkpass/internal/session"
	"github.com/inkpass/inkpass/internal/user"
)

// Fakes for the protocol units' narrow ports, so that a unit of the protocol is
// tested without an HTTP server, SQLite or a slow hash. Each keeps state in
// memory under a mutex; none decides a rule the real store decides, so what
// these tests check is the units' own logic. The storage contract itself
// is internal/store/storetest's.

const (
	unitIssuer  = "https://id.studio.example"
	unitApp     = "app"     // public, first party, code + refresh
	unitWeb     = "web"     // confidential, either secret method, code + refresh
	unitPinned  = "pinned"  // confidential, pinned to client_secret_post
	unitMachine = "machine" // confidential, client_credentials only
	unitOff     = "off"     // confidential, disabled
	unitSecret  = "a-client-secret-of-enough-length"
	unitAppCB   = "https://app.example/cb"
	unitWebCB   = "https://web.example/cb"
	// unitWebSignedOut is web's post-logout redirect URI.
	unitWebSignedOut = "https://web.example/signed-out"
)

// unitHashKey is the install key the fakes' client secrets are hashed with
// (HMAC-SHA256: cheap).
var unitHashKey = []byte("unit-test-install-key-32-bytes!!")

type fakeClients struct {
	mu    sync.Mutex
	m     map[string]*client.Client
	locks map[string]time.Time // by client id or address
}

func (f *fakeClients) Get(_ context.Context, id string) (*client.Client, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if c, ok := f.m[id]; ok {
		cp := *c
		return &cp, nil
	}
	return nil, client.ErrNotFound
}

func (f *fakeClients) GetWithLock(ctx context.Context, id, addr string) (*client.Client, time.Time, error) {
	f.mu.Lock()
	until := f.locks[id]
	if a := f.locks[addr]; a.After(until) {
		until = a
	}
	f.mu.Unlock()
	c, err := f.Get(ctx, id)
	return c, until, err
}

// fakeThrottle records each failed client authentication counted.
type fakeThrottle struct {
	mu       sync.Mutex
	failures []string // "client@addr"
}

func (f *fakeThrottle) RecordClientFailure(_ context.Context, clientID, addr string, _ time.Time, _ time.Duration, _, _ func(int) time.Duration) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failures = append(f.failures, clientID+"@"+addr)
	return nil
}

func (f *fakeThrottle) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.failures)
}

// fakeSigner "signs" by wrapping the payload: header.payload.sig-ALG. It
// verifies only what it made, so an id_token_hint from elsewhere fails.
type fakeSigner struct{}

func (fakeSigner) SignAs(alg keys.Algorithm, payload []byte) (string, error) {
	return "e30." + base64.RawURLEncoding.EncodeToString(payload) + ".sig-" + string(alg), nil
}

func (fakeSigner) Verify(compact string) ([]byte, error) {
	parts := strings.Split(compact, ".")
	if len(parts) != 3 || parts[0] != "e30" || !strings.HasPrefix(parts[2], "sig-") {
		return nil, errors.New("fake signer: not signed here")
	}
	return base64.RawURLEncoding.DecodeString(parts[1])
}

func (fakeSigner) JWKS() []byte     { return []byte(`{"keys":[]}`) }
func (fakeSigner) JWKSETag() string { return `"fake"` }

// payloadOf decodes what fakeSigner signed.
func payloadOf(t *testing.T, compact string) []byte {
	t.Helper()
	b, err := fakeSigner{}.Verify(compact)
	if err != nil {
		t.Fatalf("payload of %q: %v", compact, err)
	}
	return b
}

type fakeUsers struct {
	mu      sync.Mutex
	m       map[int64]*user.User
	revoked []int64
}

func (f *fakeUsers) UserByID(_ context.Context, id int64) (*user.User, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if u, ok := f.m[id]; ok {
		cp := *u
		return &cp, nil
	}
	return nil, user.ErrNotFound
}

func (f *fakeUsers) RevokeInactiveUser(_ context.Context, id int64) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.revoked = append(f.revoked, id)
	return nil
}

// fakeTokens is a GrantStore in memory holding refresh grants and access
// tokens only: what the refresh and userinfo unit tests need. It decides no rule the real store decides
// beyond "a refresh token is live until rotated"; code and access-token
// operations are not faked, and a test that reaches them panics.
type fakeTokens struct {
	GrantStore // nil: the operations below are the only ones faked
	mu         sync.Mutex
	refresh    map[string]*session.RefreshGrant
	access     map[string]*session.AccessGrant
	rotated    []session.IssuedTokens
}

// addAccess stores a live access token of g.
func (f *fakeTokens) addAccess(token string, g session.Grant, ttl time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.access == nil {
		f.access = map[string]*session.AccessGrant{}
	}
	f.access[token] = &session.AccessGrant{Grant: g, ExpiresAt: time.Now().Add(ttl)}
}

func (f *fakeTokens) AccessGrant(_ context.Context, access string) (*session.AccessGrant, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	ag, ok := f.access[access]
	if !ok {
		return nil, session.ErrGrantInvalid
	}
	out := *ag
	return &out, nil
}

// addRefresh stores a live refresh token of g.
func (f *fakeTokens) addRefresh(token string, g session.Grant, ttl time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.refresh == nil {
		f.refresh = map[string]*session.RefreshGrant{}
	}
	now := time.Now()
	f.refresh[token] = &session.RefreshGrant{Grant: g, RefreshCreated: now, RefreshExpires: now.Add(ttl)}
}

func (f *fakeTokens) RefreshGrant(_ context.Context, refresh, clientID string, reuse time.Duration) (*session.RefreshGrant, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	rg, ok := f.refresh[refresh]
	if !ok {
		return nil, session.ErrGrantInvalid
	}
	out := *rg
	out.Presenter, out.Reuse = clientID, reuse
	return &out, nil
}

func (f *fakeTokens) RotateRefresh(_ context.Context, old *session.RefreshGrant, t session.IssuedTokens) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for k, rg := range f.refresh {
		if rg.ID == old.ID {
			delete(f.refresh, k)
		}
	}
	f.rotated = append(f.rotated, t)
	return nil
}

// fakeStore is the Store New takes, made of the narrow ports. A port a test
// leaves nil panics when used: the unit under test needed a port it was not
// supposed to.
type fakeStore struct {
	SessionStore
	AuthRequestStore
	ConsentStore
	TokenRecords
	ThrottleStore
}

// fakeConsents keeps consents in memory.
type fakeConsents struct {
	mu sync.Mutex
	m  map[string][]string // userID/clientID
}

func consentKey(userID int64, clientID string) string {
	return strconv.FormatInt(userID, 10) + "/" + clientID
}

func (f *fakeConsents) ConsentScopes(_ context.Context, userID int64, clientID string) ([]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.m[consentKey(userID, clientID)], nil
}

func (f *fakeConsents) GrantConsent(_ context.Context, userID int64, clientID string, scopes []string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.m == nil {
		f.m = map[string][]string{}
	}
	k := consentKey(userID, clientID)
	f.m[k] = append(f.m[k], scopes...)
	return nil
}

// unit is a whole Provider on fakes, with the fakes at hand, for tests that
// cross units (the claim table's agreement of ID token, userinfo and
// introspection). A test of one unit builds that unit alone with its
// constructor and only its own fakes (the *_unit_test.go files).
type unit struct {
	p        *Provider
	clients  *fakeClients
	users    *fakeUsers
	tokens   *fakeTokens
	throttle *fakeThrottle
	consents *fakeConsents
	records  *fakeRecords
	now      time.Time
}

// unitUsers: an active artist and an active assistant.
func unitUsersMap() map[int64]*user.User {
	one := int64(1)
	return map[int64]*user.User{
		2: {ID: 2, Username: "luna_artist", Role: user.RoleArtist, ArtistID: &one, ArtistName: "Luna Martinez", Active: true,
			Name: "Luna Martinez", Birthdate: "1992-07-30", Email: "luna@studio.example", EmailVerified: true, Phone: "555-0199", Instagram: "lunatattoos"},
		4: {ID: 4, Username: "front_desk", Role: user.RoleAssistant, Name: "Sam Rivera", Active: true},
	}
}

// newFakeClients holds the unit clients: unitApp, unitWeb, unitPinned,
// unitMachine and unitOff, secrets hashed with unitHashKey.
func newFakeClients(t *testing.T) *fakeClients {
	t.Helper()
	cs := map[string]*client.Client{}
	for _, c := range []*client.Client{
		{ID: unitApp, Name: "App", Public: true, FirstParty: true, RedirectURIs: []string{unitAppCB},
			GrantTypes: []string{client.GrantAuthorizationCode, client.GrantRefreshToken},
			Scopes:     []string{"openid", "profile", "offline_access"}, AuthMethod: client.AuthNone},
		{ID: unitWeb, Name: "Web", RedirectURIs: []string{unitWebCB, "https://web.example/other"}, PostLogoutRedirectURIs: []string{unitWebSignedOut},
			GrantTypes: []string{client.GrantAuthorizationCode, client.GrantRefreshToken},
			Scopes:     []string{"openid", "profile", "email", "offline_access"}, AuthMethod: client.AuthSecretBasic},
		{ID: unitPinned, Name: "Pinned", RedirectURIs: []string{"https://pinned.example/cb"},
			GrantTypes: []string{client.GrantAuthorizationCode}, Scopes: []string{"openid"},
			AuthMethod: client.AuthSecretPost, AuthMethodPinned: true},
		{ID: unitMachine, Name: "Machine", GrantTypes: []string{client.GrantClientCredentials},
			Scopes: []string{"profile"}, AuthMethod: client.AuthSecretBasic},
		{ID: unitOff, Name: "Off", RedirectURIs: []string{"https://off.example/cb"},
			GrantTypes: []string{client.GrantAuthorizationCode}, Scopes: []string{"openid"}, AuthMethod: client.AuthSecretBasic},
	} {
		c.Enabled, c.Source = c.ID != unitOff, "cli"
		c.Normalize()
		if err := c.Validate(); err != nil {
			t.Fatalf("client %s: %v", c.ID, err)
		}
		if !c.Public {
			c.SetSecret(unitHashKey, unitSecret)
		}
		cs[c.ID] = c
	}
	return &fakeClients{m: cs, locks: map[string]time.Time{}}
}

// unitConfig is the unit tests' Config, on the clock *now.
func unitConfig(now *time.Time) Config {
	return Config{Issuer: unitIssuer, CodeTTL: time.Minute, AccessTTL: time.Hour, IDTokenTTL: time.Hour,
		RefreshTTL: 24 * time.Hour, SessionTTL: time.Hour, Now: func() time.Time { return *now }}
}

func newUnit(t *testing.T) *unit {
	t.Helper()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	u := &unit{
		clients:  newFakeClients(t),
		users:    &fakeUsers{m: unitUsersMap()},
		tokens:   &fakeTokens{},
		throttle: &fakeThrottle{},
		consents: &fakeConsents{},
		records:  &fakeRecords{m: map[string]*session.TokenRecord{}},
		now:      now,
	}
	p, err := New(unitConfig(&u.now), u.clients, u.tokens, u.users, fakeStore{ConsentStore: u.consents, ThrottleStore: u.throttle, TokenRecords: u.records}, fakeSigner{})
	if err != nil {
		t.Fatal(err)
	}
	u.p = p
	return u
}

// idToken mints an ID token for user id as the unit's provider would, for
// id_token_hint cases.
func (u *unit) idToken(t *testing.T, userID int64, clientID string) string {
	t.Helper()
	tok, err := mintIDToken(unitConfig(&u.now), fakeSigner{}, idTokenInput{user: u.users.m[userID], clientID: clientID, scopes: []string{"openid"}, sid: "sid-1"})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

var _ Store = fakeStore{}

// fakeRecords answers TokenRecord from a map and records revocations.
type fakeRecords struct {
	mu      sync.Mutex
	m       map[string]*session.TokenRecord
	revoked []string
}

func (f *fakeRecords) TokenRecord(_ context.Context, token, _ string) (*session.TokenRecord, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if r, ok := f.m[token]; ok {
		cp := *r
		return &cp, nil
	}
	return nil, nil
}

func (f *fakeRecords) RevokeAccessToken(_ context.Context, token string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.revoked = append(f.revoked, "access:"+token)
	return nil
}

func (f *fakeRecords) RevokeGrant(_ context.Context, grantID, _ string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.revoked = append(f.revoked, "grant:"+grantID)
	return nil
}

func (f *fakeRecords) RevokeSessionTokens(_ context.Context, sid string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.revoked = append(f.revoked, "session:"+sid)
	return nil
}

// fakeAudit records the events a unit audits.
type fakeAudit struct {
	mu     sync.Mutex
	events []audit.Event
}

func (f *fakeAudit) Record(_ context.Context, ev audit.Event) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.events = append(f.events, ev)
	return nil
}

// fakeCodes is the code half of a GrantStore in memory: IssueCode,
// RedeemCode (one redemption, then *session.ReplayedError), IssueTokens and
// RevokeGrant, recording what was issued and revoked.
type fakeCodes struct {
	mu      sync.Mutex
	codes   map[string]*session.CodeGrant
	used    map[string]bool
	issued  []session.IssuedTokens
	revoked []string // grant ids
}

func (f *fakeCodes) IssueCode(_ context.Context, code string, cg session.CodeGrant, _ time.Duration) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.codes == nil {
		f.codes, f.used = map[string]*session.CodeGrant{}, map[string]bool{}
	}
	f.codes[code] = &cg
	return nil
}

func (f *fakeCodes) RedeemCode(_ context.Context, code string, accept func(*session.CodeGrant) error) (*session.CodeGrant, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	cg, ok := f.codes[code]
	switch {
	case !ok:
		return nil, session.ErrGrantInvalid
	case f.used[code]:
		return nil, &session.ReplayedError{GrantID: cg.ID}
	}
	cp := *cg
	if err := accept(&cp); err != nil {
		return nil, err
	}
	f.used[code] = true
	return &cp, nil
}

func (f *fakeCodes) IssueTokens(_ context.Context, _ session.Grant, t session.IssuedTokens) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.issued = append(f.issued, t)
	return nil
}

func (f *fakeCodes) RevokeGrant(_ context.Context, grantID, _ string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.revoked = append(f.revoked, grantID)
	return nil
}

// fakeMetrics counts issued tokens by grant type.
type fakeMetrics struct {
	mu sync.Mutex
	n  map[string]int
}

func (f *fakeMetrics) TokenIssued(grantType string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.n == nil {
		f.n = map[string]int{}
	}
	f.n[grantType]++
}

// fakeAuthRequests keeps pending requests in memory, bound to the browser
// hash, with the store's answers: session.ErrAuthRequestNotFound for
// unknown, expired, another browser's, or a second delete.
type fakeAuthRequests struct {
	mu  sync.Mutex
	now func() time.Time
	m   map[string]*fakeAuthRequest // by id hash
}

type fakeAuthRequest struct {
	browser  string
	data     []byte
	loginSID string
	expires  time.Time
}

func (f *fakeAuthRequests) SaveAuthRequest(_ context.Context, idHash, browserHash []byte, data []byte, loginSID string, expires time.Time, _ int) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.m == nil {
		f.m = map[string]*fakeAuthRequest{}
	}
	f.m[string(idHash)] = &fakeAuthRequest{browser: string(browserHash), data: data, loginSID: loginSID, expires: expires}
	return nil
}

func (f *fakeAuthRequests) live(idHash, browserHash []byte) (*fakeAuthRequest, error) {
	r, ok := f.m[string(idHash)]
	if !ok || r.browser != string(browserHash) || !f.now().Before(r.expires) {
		return nil, session.ErrAuthRequestNotFound
	}
	return r, nil
}

func (f *fakeAuthRequests) AuthRequest(_ context.Context, idHash, browserHash []byte) ([]byte, string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	r, err := f.live(idHash, browserHash)
	if err != nil {
		return nil, "", err
	}
	return r.data, r.loginSID, nil
}

func (f *fakeAuthRequests) SetAuthRequestLogin(_ context.Context, idHash, browserHash []byte, sid string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	r, err := f.live(idHash, browserHash)
	if err != nil {
		return err
	}
	r.loginSID = sid
	return nil
}

func (f *fakeAuthRequests) DeleteAuthRequest(_ context.Context, idHash []byte) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.m[string(idHash)]; !ok {
		return session.ErrAuthRequestNotFound
	}
	delete(f.m, string(idHash))
	return nil
}

// fakeSessions keeps sessions in memory by token hash; inactive names the
// users whose sessions are answered with *session.InactiveUserError.
type fakeSessions struct {
	mu       sync.Mutex
	m        map[string]session.Session
	inactive map[int64]bool
	revoked  int
}

func (f *fakeSessions) CreateSession(_ context.Context, tokenHash []byte, s session.Session) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.m == nil {
		f.m = map[string]session.Session{}
	}
	f.m[string(tokenHash)] = s
	return nil
}

func (f *fakeSessions) SessionByTokenHash(_ context.Context, tokenHash []byte) (*session.Session, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s, ok := f.m[string(tokenHash)]
	switch {
	case !ok:
		return nil, session.ErrNotFound
	case f.inactive[s.UserID]:
		return nil, &session.InactiveUserError{UserID: s.UserID}
	}
	return &s, nil
}

func (f *fakeSessions) RevokeSession(_ context.Context, tokenHash []byte) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.m[string(tokenHash)]; ok {
		delete(f.m, string(tokenHash))
		f.revoked++
	}
	return nil
}
