package oidc

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/inkpass/inkpass/internal/client"
	"github.com/inkpass/inkpass/internal/reqlog"
	"github.com/inkpass/inkpass/internal/session"
)

// AuthRequest is a validated authorization request, kept server-side while
// the user signs in.
type AuthRequest struct {
	ClientID            string   `json:"client_id"`
	ClientName          string   `json:"client_name"`
	FirstParty          bool     `json:"first_party"`
	RedirectURI         string   `json:"redirect_uri"`
	ResponseMode        string   `json:"response_mode"`
	Scopes              []string `json:"scopes"`
	State               string   `json:"state,omitempty"`
	Nonce               string   `json:"nonce,omitempty"`
	CodeChallenge       string   `json:"code_challenge,omitempty"`
	CodeChallengeMethod string   `json:"code_challenge_method,omitempty"`
	Prompt              []string `json:"prompt,omitempty"`
	MaxAge              *int64   `json:"max_age,omitempty"`
	LoginHint           string   `json:"login_hint,omitempty"`
	IDTokenHint         string   `json:"-"`
	// HintSubject is the sub of a valid id_token_hint, or the sub value the
	// claims parameter demands: the session must be that user's.
	HintSubject string `json:"hint_subject,omitempty"`
	// Claims is the claims parameter (OIDC Core §5.5); nil when it names
	// no claim inkpass releases to this client.
	Claims    *ClaimsRequest `json:"claims,omitempty"`
	CreatedAt time.Time      `json:"created_at"`

	// ACRValues are the acr_values the client asked for that inkpass knows
	// (ACRPassword, ACRMFA), in its order; others are ignored (OIDC Core
	// §3.1.2.1: acr_values is voluntary).
	ACRValues []string `json:"acr_values,omitempty"`
	// RequireMFA: the client is registered to always need a second factor
	// (require_mfa).
	RequireMFA bool `json:"require_mfa,omitempty"`

	// LoginSID is the sid of the browser session that satisfied this
	// request's login step (prompt, max_age, id_token_hint); "" until one
	// has. It is kept in a column of its own, set only by inkpass.
	LoginSID string `json:"-"`
}

// LoginDoneBy reports whether session s is the one that satisfied req's login
// step: only then may s answer later steps (consent) of req.
func (r *AuthRequest) LoginDoneBy(s *session.Session) bool {
	return s != nil && r.LoginSID != "" && r.LoginSID == s.SID
}

// AllowsUser reports whether req may be answered for user userID: always,
// unless an id_token_hint (or the claims parameter's sub) names someone else
// (OIDC Core §3.1.2.1: then the answer is login_required, never another
// user's code).
func (r *AuthRequest) AllowsUser(userID int64) bool {
	return r.HintSubject == "" || subjectIs(r.HintSubject, userID, r.ClientID)
}

// ExtraClaims are the claims req asks for by name (the claims parameter)
// that its scopes do not release: the user approves them one by one.
func (r *AuthRequest) ExtraClaims() []string {
	var out []string
	for _, c := range r.Claims.names() {
		if !scopesRelease(r.Scopes, c) {
			out = append(out, c)
		}
	}
	return out
}

// WantsMFA reports whether req needs a second factor whoever signs in: the
// client is registered so (require_mfa) or asked for ACRMFA in acr_values.
func (r *AuthRequest) WantsMFA() bool {
	return r.RequireMFA || slices.Contains(r.ACRValues, ACRMFA)
}

// HasPrompt reports whether prompt included v.
func (r *AuthRequest) HasPrompt(v string) bool { return slices.Contains(r.Prompt, v) }

// Response modes (OAuth 2.0 Multiple Response Types, Form Post Response Mode).
const (
	ModeQuery    = "query"
	ModeFormPost = "form_post"
)

var (
	// RFC 7636 §4.2: the S256 challenge is base64url of 32 bytes.
	challengePattern = regexp.MustCompile(`^[A-Za-z0-9_-]{43}$`)
	// RFC 7636 §4.1: 43-128 unreserved characters.
	verifierPattern = regexp.MustCompile(`^[A-Za-z0-9._~-]{43,128}$`)
)

// Limits on values that are echoed back or stored, so a request cannot make
// inkpass store megabytes.
const (
	maxStateLen = 2048
	maxNonceLen = 512
	maxHintLen  = 4096
	// maxStoredLoginHint: a longer login_hint cannot be a username (64
	// characters of up to 4 bytes), so it is not kept.
	maxStoredLoginHint = 256
)

// MaxPendingPerBrowser is how many pending authorization requests one browser
// may hold; saving one more forgets the oldest. Twenty covers a person with
// many tabs of many apps; a script replaying /authorize with one cookie
// cannot grow the table beyond it.
const MaxPendingPerBrowser = 20

// Authorizer is the authorization endpoint: it validates requests
// (ParseAuthorize), decides whether a session answers one (NeedsLogin), and
// answers one with a code or an error (Grant, ErrorResponse). It needs the
// clients, the key set's verification of id_token_hint, the users and the
// store's IssueCode; the requests kept while the user signs in are
// PendingRequests'.
type Authorizer struct {
	cfg     Config
	clients clientGetter
	hints   hintVerifier
	users   UserFinder
	codes   codeIssuer
}

// clientGetter finds a client, enabled or not (ClientStore.Get).
type clientGetter interface {
	Get(ctx context.Context, id string) (*client.Client, error)
}

// NewAuthorizer validates requests against clients and hints, and issues
// codes for users into codes.
func NewAuthorizer(cfg Config, clients clientGetter, hints hintVerifier, users UserFinder, codes codeIssuer) *Authorizer {
	return &Authorizer{cfg: cfg.withDefaults(), clients: clients, hints: hints, users: users, codes: codes}
}

// single returns the one value of a parameter; OAuth 2.0 §3.1 forbids a
// parameter given twice.
func single(form url.Values, name string) (string, error) {
	v := form[name]
	switch len(v) {
	case 0:
		return "", nil
	case 1:
		return v[0], nil
	}
	return "", fmt.Errorf("parameter %s is given more than once", name)
}

// ParseAuthorize validates an authorization request in the order RFC 6749
// §4.1.2.1 demands: client_id, then redirect_uri, each failure shown on our
// own page; only then may errors go back to the client, with its state.
func (p *Authorizer) ParseAuthorize(r *http.Request) (*AuthRequest, *Error) {
	if err := r.ParseForm(); err != nil {
		return nil, errInvalidRequest("the request could not be read").withCause(err).noRedirect()
	}
	form := r.Form
	if r.Method == http.MethodPost {
		// OIDC Core §3.1.2.1: POST sends the parameters form-encoded in the
		// body; mixing in the query string would let either override.
		form = r.PostForm
	}
	clientID, err := single(form, "client_id")
	if err != nil {
		return nil, errInvalidRequest("%v", err).noRedirect()
	}
	if clientID == "" {
		return nil, errInvalidRequest("client_id is missing").noRedirect()
	}
	c, err := p.clients.Get(r.Context(), clientID)
	if errors.Is(err, client.ErrNotFound) || (err == nil && !c.Enabled) {
		// The page says so in our own words: a client_id of the attacker's
		// choosing is never shown on the studio's sign-in page, where it
		// could pose as a message from the studio. The log gets it quoted
		// and cut short.
		return nil, errInvalidRequest("this link names an unknown application: it is not registered with this sign-in service").
			withCause(fmt.Errorf("unknown client_id %s", quoteShort(clientID, 64))).noRedirect()
	}
	if err != nil {
		return nil, errServer(err).noRedirect()
	}
	redirectURI, err := single(form, "redirect_uri")
	if err != nil {
		return nil, errInvalidRequest("%v", err).noRedirect()
	}
	switch {
	case redirectURI == "" && openIDRequest(form):
		// OIDC Core §3.1.2.1 makes it required; RFC 6749 §3.1.2.3's
		// default to the one registered URI is for plain OAuth only.
		return nil, errInvalidRequest("redirect_uri is missing: an OpenID Connect request must name it").noRedirect()
	case redirectURI == "" && len(c.RedirectURIs) == 1:
		redirectURI = c.RedirectURIs[0]
	case redirectURI == "":
		return nil, errInvalidRequest("redirect_uri is missing").noRedirect()
	case !c.HasRedirectURI(redirectURI):
		return nil, errInvalidRequest("redirect_uri is not registered for this application").noRedirect()
	}

	// From here on, errors are redirected to the client with its state.
	// They go back in the response mode and with the state the request
	// asked for, whatever else is wrong with it, so both are read first.
	req := &AuthRequest{ClientID: c.ID, ClientName: c.Name, FirstParty: c.FirstParty, RequireMFA: c.RequireMFA, RedirectURI: redirectURI,
		ResponseMode: ModeQuery, CreatedAt: p.cfg.Now()}
	if modes := form["response_mode"]; len(modes) == 1 && modes[0] == ModeFormPost {
		req.ResponseMode = ModeFormPost
	}
	if states := form["state"]; len(states) == 1 && len(states[0]) <= maxStateLen {
		req.State = states[0]
	}
	if ro := form["request"]; len(ro) == 1 && ro[0] != "" {
		// Request objects are refused below; the refusal still reaches the
		// client the way the object asked (see requestObjectDelivery).
		if mode, state, ok := requestObjectDelivery(ro[0]); ok {
			if mode == ModeFormPost || mode == ModeQuery {
				req.ResponseMode = mode
			}
			if state != "" && len(state) <= maxStateLen {
				req.State = state
			}
		}
		return req, newErr("request_not_supported", http.StatusBadRequest, "request objects are not supported")
	}
	for name, v := range form {
		if len(v) > 1 {
			return req, errInvalidRequest("parameter %s is given more than once", name)
		}
	}
	get := form.Get
	if len(get("state")) > maxStateLen {
		return req, errInvalidRequest("state is longer than %d characters", maxStateLen)
	}
	switch mode := get("response_mode"); mode {
	case "", ModeQuery, ModeFormPost:
	default:
		return req, errInvalidRequest("response_mode %q is not supported (query or form_post)", mode)
	}
	if get("request_uri") != "" {
		return req, newErr("request_uri_not_supported", http.StatusBadRequest, "request_uri is not supported")
	}
	switch rt := get("response_type"); rt {
	case "code":
	case "":
		return req, errInvalidRequest("response_type is missing")
	default:
		return req, errUnsupportedResponseType("only response_type=code is supported")
	}
	if !c.AllowsGrant(client.GrantAuthorizationCode) {
		return req, errUnauthorizedClient("this application may not use the authorization code flow")
	}

	// Unknown scope values are dropped (OIDC Core §3.1.2.1); the token
	// response's scope says what was granted. A scope inkpass knows but the
	// client is not registered for is still refused: the admin restricted
	// it on purpose, and an error says so where a silent drop would not.
	scopes := client.KnownScopes(uniqueFields(get("scope")))
	if !slices.Contains(scopes, "openid") {
		return req, errInvalidScope("scope must include openid")
	}
	if !c.AllowsScope(scopes) {
		return req, errInvalidScope("scope includes a value this application may not request")
	}
	req.Scopes = scopes

	challenge, method := get("code_challenge"), get("code_challenge_method")
	switch {
	case challenge == "" && method != "":
		return req, errInvalidRequest("code_challenge_method without code_challenge")
	case challenge == "" && c.Public:
		return req, errInvalidRequest("PKCE is required for public clients: send code_challenge with code_challenge_method=S256")
	case challenge != "" && method != "S256":
		// RFC 7636 makes "plain" the default when the method is absent;
		// RFC 9700 §2.1.1 says use S256, so an absent method is refused too.
		return req, errInvalidRequest("code_challenge_method must be S256")
	case challenge != "" && !challengePattern.MatchString(challenge):
		return req, errInvalidRequest("code_challenge must be the base64url SHA-256 of the verifier (43 characters)")
	}
	req.CodeChallenge, req.CodeChallengeMethod = challenge, method

	req.Nonce = get("nonce")
	if len(req.Nonce) > maxNonceLen {
		return req, errInvalidRequest("nonce is longer than %d characters", maxNonceLen)
	}
	prompts := uniqueFields(get("prompt"))
	for _, v := range prompts {
		switch v {
		case "none", "login", "consent", "select_account":
		default:
			return req, errInvalidRequest("prompt value %q is not supported", v)
		}
	}
	if slices.Contains(prompts, "none") && len(prompts) > 1 {
		return req, errInvalidRequest("prompt=none cannot be combined with other values")
	}
	req.Prompt = prompts
	if ma := get("max_age"); ma != "" {
		n, err := strconv.ParseInt(ma, 10, 64)
		if err != nil || n < 0 {
			return req, errInvalidRequest("max_age must be a non-negative number of seconds")
		}
		req.MaxAge = &n
	}
	for _, v := range uniqueFields(get("acr_values")) {
		if v == ACRPassword || v == ACRMFA {
			req.ACRValues = append(req.ACRValues, v)
		}
	}
	req.LoginHint, req.IDTokenHint = get("login_hint"), get("id_token_hint")
	if len(req.LoginHint) > maxHintLen || len(req.IDTokenHint) > maxHintLen {
		return req, errInvalidRequest("login_hint or id_token_hint is too long")
	}
	if req.IDTokenHint != "" {
		hint, err := parseIDTokenHint(p.hints, p.cfg.Issuer, req.IDTokenHint)
		if err != nil {
			return req, errInvalidRequest("id_token_hint is not an ID token issued here").withCause(err)
		}
		// Only who it names is kept; the token itself is not stored.
		req.HintSubject, req.IDTokenHint = hint.Subject, ""
	}
	if raw := get("claims"); raw != "" {
		if len(raw) > maxClaimsLen {
			return req, errInvalidRequest("claims is longer than %d bytes", maxClaimsLen)
		}
		cr, sub, err := parseClaimsRequest(raw, func(scope string) bool { return c.AllowsScope([]string{scope}) })
		if err != nil {
			return req, errInvalidRequest("%v (OpenID Connect Core §5.5)", err)
		}
		if sub != "" {
			// §5.5.1: a sub value must be answered for that user only;
			// the id_token_hint rules already do exactly that.
			if req.HintSubject != "" && req.HintSubject != sub {
				return req, errInvalidRequest("the claims parameter's sub and id_token_hint name different users")
			}
			req.HintSubject = sub
		}
		req.Claims = cr
	}
	if len(req.LoginHint) > maxStoredLoginHint {
		// Only a prefill for the username field: not worth storing.
		req.LoginHint = ""
	}
	return req, nil
}

// openIDRequest reports whether the request's scope includes openid, in any
// of its values (a repeated scope is refused later, with a redirect).
func openIDRequest(form url.Values) bool {
	for _, v := range form["scope"] {
		if slices.Contains(strings.Fields(v), "openid") {
			return true
		}
	}
	return false
}

// maxRequestObjectLen bounds the request object requestObjectDelivery decodes.
const maxRequestObjectLen = 64 << 10

// requestObjectDelivery reads response_mode and state from the payload of a
// request object (OIDC Core §6.1), so that request_not_supported reaches the
// client the way the object asked: a client may put both only inside it (the
// OpenID Foundation's tests do). The signature, if any, is not checked, and
// need not be: the two values only choose how an error reaches a redirect
// URI already validated from the outer parameters, and they are no more
// trusted than those parameters, which anyone can write too. Nothing else in
// the object is read; a JWE or anything that does not decode gives ok=false.
func requestObjectDelivery(ro string) (mode, state string, ok bool) {
	if len(ro) > maxRequestObjectLen {
		return "", "", false
	}
	parts := strings.Split(ro, ".")
	if len(parts) != 3 {
		return "", "", false
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return "", "", false
	}
	var claims struct {
		ResponseMode any `json:"response_mode"`
		State        any `json:"state"`
	}
	if err := json.Unmarshal(payload, &claims); err != nil {
		return "", "", false
	}
	mode, _ = claims.ResponseMode.(string)
	state, _ = claims.State.(string)
	return mode, state, true
}

// quoteShort is s Go-quoted (so control characters and newlines cannot
// forge log lines), cut to at most n bytes of s first.
func quoteShort(s string, n int) string {
	if len(s) <= n {
		return strconv.Quote(s)
	}
	return strconv.Quote(s[:n]) + "..."
}

func uniqueFields(s string) []string {
	var out []string
	for _, f := range strings.Fields(s) {
		if !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	return out
}

// PendingRequests keeps authorization requests server-side, bound to the
// browser that made them, while the user walks the sign-in steps. It needs
// only the AuthRequestStore.
type PendingRequests struct {
	cfg   Config
	store AuthRequestStore
}

// NewPendingRequests keeps pending requests in store for
// cfg.AuthRequestTTL.
func NewPendingRequests(cfg Config, store AuthRequestStore) *PendingRequests {
	return &PendingRequests{cfg: cfg.withDefaults(), store: store}
}

// AuthRequestStore keeps pending authorization requests while the user signs
// in: the port of SaveAuthRequest, RecordLogin, LoadAuthRequest and
// FinishAuthRequest.
type AuthRequestStore interface {
	// SaveAuthRequest keeps a pending request until expires, bound to the
	// browser; the browser keeps its keep newest pending requests, older
	// ones are dropped in the same transaction.
	SaveAuthRequest(ctx context.Context, idHash, browserHash []byte, data []byte, loginSID string, expires time.Time, keep int) error
	// AuthRequest returns a live request made by this browser, with the sid
	// that satisfied its login step ("" if none), or
	// session.ErrAuthRequestNotFound (unknown, expired, other browser).
	AuthRequest(ctx context.Context, idHash, browserHash []byte) (data []byte, loginSID string, err error)
	// SetAuthRequestLogin records sid on this browser's live request, or
	// returns session.ErrAuthRequestNotFound.
	SetAuthRequestLogin(ctx context.Context, idHash, browserHash []byte, sid string) error
	// DeleteAuthRequest ends a request once answered; a second delete is
	// session.ErrAuthRequestNotFound, so a request is answered once.
	DeleteAuthRequest(ctx context.Context, idHash []byte) error
}

// SaveAuthRequest keeps req server-side, bound to the browser that made it,
// and returns the opaque id the login page carries.
func (p *PendingRequests) SaveAuthRequest(ctx context.Context, req *AuthRequest, browserID string) (string, error) {
	data, err := json.Marshal(req)
	if err != nil {
		return "", fmt.Errorf("save auth request: %w", err)
	}
	id := session.NewToken()
	err = p.store.SaveAuthRequest(ctx, session.Hash(id), session.Hash(browserID), data, req.LoginSID,
		p.cfg.Now().Add(p.cfg.AuthRequestTTL), MaxPendingPerBrowser)
	if err != nil {
		return "", err
	}
	return id, nil
}

// RecordLogin notes on this browser's pending request id that session s has
// satisfied its login step.
func (p *PendingRequests) RecordLogin(ctx context.Context, id, browserID string, req *AuthRequest, s *session.Session) error {
	if id == "" || browserID == "" {
		return ErrUnknownAuthRequest
	}
	err := p.store.SetAuthRequestLogin(ctx, session.Hash(id), session.Hash(browserID), s.SID)
	if errors.Is(err, session.ErrAuthRequestNotFound) {
		return ErrUnknownAuthRequest
	}
	if err != nil {
		return err
	}
	req.LoginSID = s.SID
	return nil
}

// ErrUnknownAuthRequest means the pending request is gone, expired, or belongs
// to another browser.
var ErrUnknownAuthRequest = errors.New("authorization request expired or unknown")

// LoadAuthRequest returns the pending request made by this browser.
func (p *PendingRequests) LoadAuthRequest(ctx context.Context, id, browserID string) (*AuthRequest, error) {
	if id == "" || browserID == "" {
		return nil, ErrUnknownAuthRequest
	}
	data, loginSID, err := p.store.AuthRequest(ctx, session.Hash(id), session.Hash(browserID))
	if errors.Is(err, session.ErrAuthRequestNotFound) {
		return nil, ErrUnknownAuthRequest
	}
	if err != nil {
		return nil, err
	}
	var req AuthRequest
	if err := json.Unmarshal(data, &req); err != nil {
		return nil, fmt.Errorf("load auth request: %w", err)
	}
	req.LoginSID = loginSID
	return &req, nil
}

// FinishAuthRequest deletes a pending request once it has been answered.
func (p *PendingRequests) FinishAuthRequest(ctx context.Context, id string) error {
	err := p.store.DeleteAuthRequest(ctx, session.Hash(id))
	if errors.Is(err, session.ErrAuthRequestNotFound) {
		return ErrUnknownAuthRequest
	}
	return err
}

// NeedsLogin reports whether req can be answered with session s, or needs the
// user to (re-)enter their password: no session, prompt=login, or a session
// older than max_age (OIDC Core §3.1.2.1).
func (p *Authorizer) NeedsLogin(req *AuthRequest, s *session.Session) bool {
	if s == nil {
		return true
	}
	if !req.AllowsUser(s.UserID) {
		return true
	}
	if req.HasPrompt("login") || req.HasPrompt("select_account") {
		// Always ask again: the login form's own POST answers the request
		// without asking this question, so there is no loop.
		return true
	}
	if req.MaxAge != nil && p.cfg.Now().Sub(s.AuthTime) > time.Duration(*req.MaxAge)*time.Second {
		return true
	}
	return false
}

// Response is where the browser goes next: a redirect URL, or for form_post
// the target and the fields of an auto-submitting form.
type Response struct {
	RedirectURI string
	Mode        string
	Params      url.Values
}

// URL is the redirect for query mode.
func (r *Response) URL() string {
	u, err := url.Parse(r.RedirectURI)
	if err != nil {
		return r.RedirectURI
	}
	q := u.Query()
	for k, v := range r.Params {
		q[k] = v
	}
	u.RawQuery = q.Encode()
	return u.String()
}

func (p *Authorizer) response(req *AuthRequest, params url.Values) *Response {
	if req.State != "" {
		params.Set("state", req.State)
	}
	// RFC 9207: tells the client which issuer answered, against mix-up attacks.
	params.Set("iss", p.cfg.Issuer)
	return &Response{RedirectURI: req.RedirectURI, Mode: req.ResponseMode, Params: params}
}

// ErrorResponse is the redirect that tells the client about e. Call it only
// for errors without NoRedirect.
func (p *Authorizer) ErrorResponse(req *AuthRequest, e *Error) *Response {
	params := url.Values{"error": {e.Code}}
	if e.Description != "" {
		params.Set("error_description", e.Description)
	}
	return p.response(req, params)
}

// Grant issues the authorization code for req to the user of session s and
// returns the response that carries it to the client.
func (p *Authorizer) Grant(ctx context.Context, req *AuthRequest, s *session.Session) (*Response, *Error) {
	u, err := p.users.UserByID(ctx, s.UserID)
	if err != nil {
		return nil, errServer(err)
	}
	if !u.Active || !u.Role.Known() || !req.AllowsUser(u.ID) {
		return nil, ErrLoginRequired()
	}
	// The session says how and when its user signed in; the code carries
	// that to every ID token of the grant, refreshed ones included.
	ext := url.Values{
		extGrantID:  {session.NewGrantID()},
		extSID:      {s.SID},
		extAuthTime: {strconv.FormatInt(s.AuthTime.Unix(), 10)},
	}
	if len(s.AMR) > 0 {
		ext.Set(extAMR, strings.Join(s.AMR, " "))
	}
	if req.Nonce != "" {
		ext.Set(extNonce, req.Nonce)
	}
	if req.Claims != nil {
		ext.Set(extClaims, encodeClaimsRequest(req.Claims))
	}
	code, err := issueCode(ctx, p.cfg, p.codes, session.CodeGrant{
		Grant: session.Grant{ID: ext.Get(extGrantID), ClientID: req.ClientID, UserID: u.ID, SID: s.SID,
			Scope: strings.Join(req.Scopes, " "), RedirectURI: req.RedirectURI, Extension: ext},
		Challenge: req.CodeChallenge, ChallengeMethod: req.CodeChallengeMethod,
	})
	if errors.Is(err, session.ErrNotFound) {
		// The session ended (logout, password change, deactivation) while
		// this request was being answered.
		return nil, ErrLoginRequired()
	}
	if err != nil {
		return nil, errServer(fmt.Errorf("issue code: %w", err))
	}
	reqlog.Event(ctx, p.cfg.Logger, "authorization code issued", slog.String("client_id", req.ClientID), slog.Int64("user_id", u.ID))
	return p.response(req, url.Values{"code": {code}}), nil
}

// Extension keys carried from the code to the tokens.
const (
	extGrantID  = session.ExtGrantID
	extSID      = session.ExtSID
	extAuthTime = "auth_time"
	extAMR      = "amr"
	extNonce    = "nonce"
)
