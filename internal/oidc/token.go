package oidc

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/inkpass/inkpass/internal/client"
	"github.com/inkpass/inkpass/internal/reqlog"
	"github.com/inkpass/inkpass/internal/session"
	"github.com/inkpass/inkpass/internal/user"
)

// tokenResponse is RFC 6749 §5.1 plus OIDC Core §3.1.3.3's id_token.
type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int64  `json:"expires_in"`
	RefreshToken string `json:"refresh_token,omitempty"`
	Scope        string `json:"scope,omitempty"`
	IDToken      string `json:"id_token,omitempty"`
}

// TokenEndpoint is POST /token: it authenticates the client, checks the
// request's shape and dispatches on grant_type to one grant of grants
// (grant_code.go, grant_refresh.go, grant_client_credentials.go). It holds no
// store itself: each grant holds the part of GrantStore it uses.
type TokenEndpoint struct {
	cfg    Config
	auth   clientAuthenticator
	grants map[string]grant
}

// grant is one grant type at the token endpoint (RFC 6749 §4): it turns the
// request of a client already authenticated and allowed the grant type into
// tokens, or an OAuth error.
type grant interface {
	exchange(ctx context.Context, c *client.Client, form url.Values) (*tokenResponse, *Error)
}

// tokenGrantStore is the part of GrantStore the token endpoint's grants use:
// all of it but IssueCode (the Authorizer's) and AccessGrant (UserInfo's).
type tokenGrantStore interface {
	codeRedeemer
	refreshRotator
	grantRevoker
}

// NewTokenEndpoint serves the three grant types inkpass implements over
// store, minting ID tokens for users found in users with signer.
func NewTokenEndpoint(cfg Config, auth clientAuthenticator, store tokenGrantStore, users UserFinder, signer tokenSigner) *TokenEndpoint {
	cfg = cfg.withDefaults()
	m := newTokenMinter(cfg, users, signer, store)
	return &TokenEndpoint{cfg: cfg, auth: auth, grants: map[string]grant{
		client.GrantAuthorizationCode: newCodeGrant(cfg, store, users, m),
		client.GrantRefreshToken:      newRefreshGrant(cfg, store, users, m),
		client.GrantClientCredentials: newClientCredentialsGrant(cfg, store, m),
	}}
}

// TokenHandler serves POST /token.
func (p *TokenEndpoint) TokenHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		resp, c, oerr := p.token(r)
		if oerr != nil {
			writeTokenError(p.cfg.Logger, w, r, c, oerr)
			return
		}
		writeJSON(w, http.StatusOK, resp, true)
	})
}

// token runs one token request and returns the answer or an OAuth error; the
// client is returned when it was authenticated, for the log.
func (p *TokenEndpoint) token(r *http.Request) (*tokenResponse, *client.Client, *Error) {
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/x-www-form-urlencoded" {
		return nil, nil, errInvalidRequest("the body must be application/x-www-form-urlencoded")
	}
	if err := r.ParseForm(); err != nil {
		return nil, nil, errInvalidRequest("the body could not be read").withCause(err)
	}
	if len(r.URL.RawQuery) > 0 {
		// RFC 6749 §3.2: parameters travel in the body; credentials in a URL
		// end up in logs.
		return nil, nil, errInvalidRequest("token parameters must be sent in the request body, not the URL")
	}
	form := r.PostForm
	for name, v := range form {
		if len(v) > 1 {
			return nil, nil, errInvalidRequest("parameter %s is given more than once", name)
		}
	}
	c, _, oerr := p.auth.authenticateClient(r.Context(), r, form)
	if oerr != nil {
		return nil, nil, oerr
	}
	grantType := form.Get("grant_type")
	g, ok := p.grants[grantType]
	switch {
	case grantType == "":
		return nil, c, errInvalidRequest("grant_type is missing")
	case !ok:
		return nil, c, errUnsupportedGrantType("grant_type %q is not supported", grantType)
	case !c.AllowsGrant(grantType):
		return nil, c, errUnauthorizedClient("this client may not use grant_type %s", grantType)
	}
	resp, oerr := g.exchange(r.Context(), c, form)
	if oerr == nil {
		p.cfg.Metrics.TokenIssued(grantType)
		reqlog.Event(r.Context(), p.cfg.Logger, "token issued", slog.String("client_id", c.ID), slog.String("grant_type", grantType))
	}
	return resp, c, oerr
}

// tokenMinter is what every grant shares once its store has said yes: the
// token response, with an ID token for a user grant with openid, and the
// answer to a store's refusal (grantFailure).
type tokenMinter struct {
	cfg     Config
	users   UserFinder
	signer  tokenSigner
	revoker grantRevoker
}

func newTokenMinter(cfg Config, users UserFinder, signer tokenSigner, revoker grantRevoker) *tokenMinter {
	return &tokenMinter{cfg: cfg.withDefaults(), users: users, signer: signer, revoker: revoker}
}

// respond builds the token response; with the openid scope and a user it
// mints an ID token. The nonce belongs only to the ID token of the code
// exchange (OIDC Core §12.2). u is the grant's user when the caller has
// already loaded it, nil otherwise.
func (m *tokenMinter) respond(ctx context.Context, c *client.Client, g session.Grant, t session.IssuedTokens, withNonce bool, u *user.User) (*tokenResponse, *Error) {
	resp := &tokenResponse{
		AccessToken:  t.Access,
		TokenType:    "Bearer",
		ExpiresIn:    int64(t.AccessTTL / time.Second),
		RefreshToken: t.Refresh,
		Scope:        t.Scope,
	}
	scopes := strings.Fields(t.Scope)
	if g.UserID == 0 || !slices.Contains(scopes, "openid") {
		return resp, nil
	}
	if u == nil {
		var oerr *Error
		if u, oerr = activeUser(ctx, m.users, m.cfg.Logger, g.UserID); oerr != nil {
			return nil, oerr
		}
	}
	ext := g.Extension
	if ext == nil {
		ext = url.Values{}
	}
	in := idTokenInput{user: u, clientID: c.ID, alg: c.IDTokenAlg, scopes: scopes, claims: decodeClaimsRequest(ext.Get(extClaims)).IDToken,
		sid: g.SID, accessToken: t.Access}
	if at, err := strconv.ParseInt(ext.Get(extAuthTime), 10, 64); err == nil {
		in.authTime = time.Unix(at, 0)
	}
	in.amr = grantAMR(ext)
	if withNonce {
		in.nonce = ext.Get(extNonce)
	}
	idt, err := mintIDToken(m.cfg, m.signer, in)
	if err != nil {
		return nil, errServer(err)
	}
	resp.IDToken = idt
	return resp, nil
}

// hasScope reports whether the space-separated scope holds want.
func hasScope(scope, want string) bool {
	return slices.Contains(strings.Fields(scope), want)
}

// activeUser loads the token's user; a deactivated or vanished user makes the
// grant invalid (DESIGN: a deactivated user is out at once). The client hears
// only that the grant is invalid: what became of the account is not its
// business, and the reason goes to the log.
func activeUser(ctx context.Context, users UserFinder, log *slog.Logger, id int64) (*user.User, *Error) {
	if id == 0 {
		return nil, errInvalidGrant(deadGrant).withCause(errors.New("the grant has no user"))
	}
	u, err := users.UserByID(ctx, id)
	if errors.Is(err, user.ErrNotFound) {
		return nil, errInvalidGrant(deadGrant).withCause(err)
	}
	if err != nil {
		return nil, errServer(err)
	}
	if !u.Active {
		revokeInactive(ctx, users, log, u.ID)
		return nil, errInvalidGrant(deadGrant).withCause(errors.New("the user is deactivated"))
	}
	if !u.Role.Known() {
		return nil, errInvalidGrant(deadGrant).withCause(errors.New("the user's role is not one inkpass knows"))
	}
	return u, nil
}

// revokeInactive ends what a user found inactive still holds, so that
// re-activation starts clean; a failure is logged, and the request is
// refused either way.
func revokeInactive(ctx context.Context, users inactiveRevoker, log *slog.Logger, id int64) {
	if err := users.RevokeInactiveUser(ctx, id); err != nil {
		log.ErrorContext(ctx, "revoke inactive user", "user_id", id, "err", err)
	}
}

// deadGrant is what a client hears about a grant that is no longer good.
const deadGrant = "the grant is invalid, expired or revoked"

// writeTokenError answers per RFC 6749 §5.2, logging once at the level of
// whoever is at fault.
func writeTokenError(log *slog.Logger, w http.ResponseWriter, r *http.Request, c *client.Client, e *Error) {
	clientID := ""
	if c != nil {
		clientID = c.ID
	}
	if e.Status >= 500 {
		log.ErrorContext(r.Context(), "token request failed", "client_id", clientID, "err", e)
	} else {
		reqlog.Event(r.Context(), log, "token request refused", slog.String("client_id", clientID), slog.Any("err", e))
	}
	if e.BasicChallenge && e.Status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Basic realm="inkpass", charset="UTF-8"`)
	}
	e.SetRetryAfter(w.Header())
	writeJSON(w, e.Status, errorBody(e), true)
}

type errorJSON struct {
	Error       string `json:"error"`
	Description string `json:"error_description,omitempty"`
}

func errorBody(e *Error) errorJSON { return errorJSON{Error: e.Code, Description: e.Description} }

// writeJSON writes v; noStore adds the headers RFC 6749 §5.1 requires wherever
// tokens travel.
func writeJSON(w http.ResponseWriter, status int, v any, noStore bool) {
	body, err := json.Marshal(v)
	if err != nil {
		status, body = http.StatusInternalServerError, []byte(`{"error":"server_error"}`)
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	if noStore {
		h.Set("Cache-Control", "no-store")
		h.Set("Pragma", "no-cache")
	}
	w.WriteHeader(status)
	w.Write(body)
}
