package oidc

import (
	"context"
	"log/slog"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/inkpass/inkpass/internal/audit"
	"github.com/inkpass/inkpass/internal/client"
	"github.com/inkpass/inkpass/internal/reqlog"
	"github.com/inkpass/inkpass/internal/session"
)

// TokenRecords is the port of revocation, introspection and logout to the
// token records: Store lists the same methods, with their contracts, among
// its token-store parts. Each unit holds only its part: Introspection a
// tokenFinder, Revocation a tokenRevoker, LogoutEndpoint a
// sessionTokenRevoker.
type TokenRecords interface {
	TokenRecord(ctx context.Context, token, hint string) (*session.TokenRecord, error)
	RevokeAccessToken(ctx context.Context, token string) error
	RevokeGrant(ctx context.Context, grantID, reason string) error
	RevokeSessionTokens(ctx context.Context, sid string) error
}

// tokenFinder finds a token record by value (Store.TokenRecord).
type tokenFinder interface {
	TokenRecord(ctx context.Context, token, hint string) (*session.TokenRecord, error)
}

// tokenRevoker finds and revokes tokens (Store's contracts).
type tokenRevoker interface {
	tokenFinder
	RevokeAccessToken(ctx context.Context, token string) error
	RevokeGrant(ctx context.Context, grantID, reason string) error
}

// Revocation is RFC 7009's endpoint: an authenticated client revokes its
// own tokens.
type Revocation struct {
	log     *slog.Logger
	audit   audit.Recorder
	auth    clientAuthenticator
	records tokenRevoker
}

// NewRevocation revokes tokens in records for clients auth authenticates,
// auditing to cfg.Audit.
func NewRevocation(cfg Config, auth clientAuthenticator, records tokenRevoker) *Revocation {
	cfg = cfg.withDefaults()
	return &Revocation{log: cfg.Logger, audit: cfg.Audit, auth: auth, records: records}
}

// Introspection is RFC 7662's endpoint: what a token is, to a confidential
// client entitled to ask.
type Introspection struct {
	cfg     Config
	auth    clientAuthenticator
	records tokenFinder
	users   UserFinder
}

// NewIntrospection answers from records and users for clients auth
// authenticates.
func NewIntrospection(cfg Config, auth clientAuthenticator, records tokenFinder, users UserFinder) *Introspection {
	return &Introspection{cfg: cfg.withDefaults(), auth: auth, records: records, users: users}
}

// Paths of RFC 7009 revocation and RFC 7662 introspection.
const (
	PathRevoke     = "/revoke"
	PathIntrospect = "/introspect"
)

// parseTokenForm reads a client-authenticated POST carrying token and
// token_type_hint, the shape both endpoints share.
func parseTokenForm(auth clientAuthenticator, r *http.Request) (*client.Client, string, string, *Error) {
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/x-www-form-urlencoded" {
		return nil, "", "", errInvalidRequest("the body must be application/x-www-form-urlencoded")
	}
	if err := r.ParseForm(); err != nil {
		return nil, "", "", errInvalidRequest("the body could not be read")
	}
	form := r.PostForm
	for name, v := range form {
		if len(v) > 1 {
			return nil, "", "", errInvalidRequest("parameter %s is given more than once", name)
		}
	}
	c, _, e := auth.authenticateClient(r.Context(), r, form)
	if e != nil {
		return nil, "", "", e
	}
	token := form.Get("token")
	if token == "" {
		return c, "", "", errInvalidRequest("token is missing")
	}
	return c, token, form.Get("token_type_hint"), nil
}

// RevokeHandler serves POST /revoke (RFC 7009). Revoking a refresh token
// revokes its whole grant, access tokens included; revoking an access token
// revokes that token. An unknown token, or one issued to another client, gets
// 200 all the same (§2.2): the answer tells nothing about other clients.
func (p *Revocation) RevokeHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, token, hint, e := parseTokenForm(p.auth, r)
		if e != nil {
			writeTokenError(p.log, w, r, c, e)
			return
		}
		ctx := r.Context()
		rec, err := p.records.TokenRecord(ctx, token, hint)
		if err != nil {
			writeTokenError(p.log, w, r, c, errServer(err))
			return
		}
		if rec != nil && rec.ClientID == c.ID {
			switch rec.Kind {
			case "refresh_token":
				err = p.records.RevokeGrant(ctx, rec.GrantID, "revoked by client")
			default:
				err = p.records.RevokeAccessToken(ctx, token)
			}
			if err != nil {
				writeTokenError(p.log, w, r, c, errServer(err))
				return
			}
			uid, _ := strconv.ParseInt(rec.UserID, 10, 64)
			if err := p.audit.Record(ctx, audit.Event{Kind: audit.TokenRevoked, UserID: uid, ClientID: c.ID, Detail: rec.Kind + " revoked by client"}); err != nil {
				p.log.ErrorContext(ctx, "audit", "err", err)
			}
			reqlog.Event(ctx, p.log, "token revoked", slog.String("client_id", c.ID), slog.String("kind", rec.Kind))
		}
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusOK)
	})
}

// introspection is RFC 7662 §2.2.
type introspection struct {
	Active    bool   `json:"active"`
	Scope     string `json:"scope,omitempty"`
	ClientID  string `json:"client_id,omitempty"`
	Subject   string `json:"sub,omitempty"`
	Username  string `json:"username,omitempty"`
	Role      string `json:"role,omitempty"`
	TokenType string `json:"token_type,omitempty"`
	Expires   int64  `json:"exp,omitempty"`
	IssuedAt  int64  `json:"iat,omitempty"`
	Issuer    string `json:"iss,omitempty"`
}

// IntrospectHandler serves POST /introspect for authenticated confidential
// clients. RFC 7662 §2.1 leaves it to the server which tokens a caller may
// learn about, and §4 warns against an endpoint that answers everyone about
// everything. inkpass answers:
//   - any confidential client, about its own access and refresh tokens;
//   - a client registered as a resource server (client.Client.Introspect),
//     also about other clients' access tokens, the tokens it is presented;
//   - nobody else: another client's token, and another client's refresh
//     token even to a resource server, is {"active": false}, exactly as an
//     unknown one.
//
// Expired, revoked, rotated and unknown tokens, tokens of deactivated users
// and of removed or disabled clients, are all just {"active": false}. The
// answer states only what the token's scope releases: username with
// profile, role with openid (see ScopeClaims).
func (p *Introspection) IntrospectHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, token, hint, e := parseTokenForm(p.auth, r)
		if e == nil && c.Public {
			e = errInvalidClient("public clients cannot introspect tokens")
		}
		if e != nil {
			writeTokenError(p.cfg.Logger, w, r, c, e)
			return
		}
		ans, err := p.introspect(r, c, token, hint)
		if err != nil {
			writeTokenError(p.cfg.Logger, w, r, c, errServer(err))
			return
		}
		writeJSON(w, http.StatusOK, ans, true)
	})
}

func (p *Introspection) introspect(r *http.Request, c *client.Client, token, hint string) (introspection, error) {
	rec, err := p.records.TokenRecord(r.Context(), token, hint)
	if err != nil || rec == nil || !rec.Active || !p.cfg.Now().Before(rec.ExpiresAt) {
		return introspection{}, err
	}
	if rec.ClientID != c.ID && (!c.Introspect || rec.Kind == "refresh_token") {
		return introspection{}, nil
	}
	ans := introspection{
		Active: true, Scope: rec.Scope, ClientID: rec.ClientID, Subject: rec.UserID,
		Expires: rec.ExpiresAt.Unix(), IssuedAt: rec.IssuedAt.Unix(), Issuer: p.cfg.Issuer,
		TokenType: tokenType(rec),
	}
	if rec.UserID != "" {
		u, oerr := activeUser(r.Context(), p.users, p.cfg.Logger, recordUserID(rec))
		if oerr != nil {
			if oerr.Status >= 500 {
				return introspection{}, oerr
			}
			return introspection{}, nil
		}
		scopes := strings.Fields(rec.Scope)
		cl := userClaims(u, rec.ClientID, scopes, nil)
		ans.Subject = cl.Sub
		ans.Username = cl.PreferredUsername // profile only
		if slices.Contains(scopes, "openid") {
			ans.Role = cl.Role
		}
	}
	return ans, nil
}

func tokenType(rec *session.TokenRecord) string {
	if rec.Kind == "refresh_token" {
		return "refresh_token"
	}
	return "Bearer"
}
