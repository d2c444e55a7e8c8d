package oidc

import (
	"log/slog"
	"mime"
	"net/http"
	"strconv"

	"github.com/inkpass/inkpass/internal/audit"
	"github.com/inkpass/inkpass/internal/client"
	"github.com/inkpass/inkpass/internal/reqlog"
	"github.com/inkpass/inkpass/internal/session"
)

// Paths of RFC 7009 revocation and RFC 7662 introspection.
const (
	PathRevoke     = "/revoke"
	PathIntrospect = "/introspect"
)

// parseTokenForm reads a client-authenticated POST carrying token and
// token_type_hint, the shape both endpoints share.
func (p *Provider) parseTokenForm(r *http.Request) (*client.Client, string, string, *Error) {
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
	c, _, e := p.authenticateClient(r.Context(), r, form)
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
func (p *Provider) RevokeHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, token, hint, e := p.parseTokenForm(r)
		if e != nil {
			p.writeTokenError(w, r, c, e)
			return
		}
		ctx := r.Context()
		rec, err := p.sessions.TokenRecord(ctx, token, hint)
		if err != nil {
			p.writeTokenError(w, r, c, errServer(err))
			return
		}
		if rec != nil && rec.ClientID == c.ID {
			switch rec.Kind {
			case "refresh_token":
				err = p.sessions.RevokeGrant(ctx, rec.GrantID, "revoked by client")
			default:
				err = p.sessions.RevokeAccessToken(ctx, token)
			}
			if err != nil {
				p.writeTokenError(w, r, c, errServer(err))
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
// clients (resource servers). Expired, revoked, rotated and unknown tokens,
// and tokens of deactivated users, are all just {"active": false}.
func (p *Provider) IntrospectHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, token, hint, e := p.parseTokenForm(r)
		if e == nil && c.Public {
			e = errInvalidClient("public clients cannot introspect tokens")
		}
		if e != nil {
			p.writeTokenError(w, r, c, e)
			return
		}
		ans, err := p.introspect(r, token, hint)
		if err != nil {
			p.writeTokenError(w, r, c, errServer(err))
			return
		}
		writeJSON(w, http.StatusOK, ans, true)
	})
}

func (p *Provider) introspect(r *http.Request, token, hint string) (introspection, error) {
	rec, err := p.sessions.TokenRecord(r.Context(), token, hint)
	if err != nil || rec == nil || !rec.Active || !p.cfg.Now().Before(rec.ExpiresAt) {
		return introspection{}, err
	}
	ans := introspection{
		Active: true, Scope: rec.Scope, ClientID: rec.ClientID, Subject: rec.UserID,
		Expires: rec.ExpiresAt.Unix(), IssuedAt: rec.IssuedAt.Unix(), Issuer: p.cfg.Issuer,
		TokenType: tokenType(rec),
	}
	if rec.UserID != "" {
		u, oerr := p.activeUser(r.Context(), rec.UserID)
		if oerr != nil {
			if oerr.Status >= 500 {
				return introspection{}, oerr
			}
			return introspection{}, nil
		}
		ans.Username, ans.Role = u.Username, string(u.Role)
	}
	return ans, nil
}

func tokenType(rec *session.TokenRecord) string {
	if rec.Kind == "refresh_token" {
		return "refresh_token"
	}
	return "Bearer"
}
