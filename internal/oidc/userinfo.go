package oidc

import (
	"context"
	"log/slog"
	"mime"
	"net/http"
	"slices"
	"strings"

	"github.com/inkpass/inkpass/internal/reqlog"
	"github.com/inkpass/inkpass/internal/session"
)

// UserInfo is the userinfo endpoint: it reads the access token's grant and
// the user as they are now, nothing else.
type UserInfo struct {
	log    *slog.Logger
	grants accessGrants
	users  UserFinder
}

// accessGrants finds a live access token's grant (GrantStore.AccessGrant).
type accessGrants interface {
	AccessGrant(ctx context.Context, access string) (*session.AccessGrant, error)
}

// NewUserInfo serves userinfo from grants and users.
func NewUserInfo(cfg Config, grants accessGrants, users UserFinder) *UserInfo {
	return &UserInfo{log: cfg.withDefaults().Logger, grants: grants, users: users}
}

// UserInfoHandler serves GET and POST /userinfo (OIDC Core §5.3): sub and the
// claims of the token's scopes and of its grant's claims parameter (the
// userinfo member), read from the database as it is now.
func (p *UserInfo) UserInfoHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		claims, e := p.userInfo(r)
		if e != nil {
			reqlog.Event(r.Context(), p.log, "userinfo refused", slog.Any("err", e))
			writeBearerError(w, e)
			return
		}
		writeJSON(w, http.StatusOK, claims, true)
	})
}

func (p *UserInfo) userInfo(r *http.Request) (*claims, *Error) {
	token, e := bearerToken(r)
	if e != nil {
		return nil, e
	}
	ag, err := p.grants.AccessGrant(r.Context(), token)
	if err != nil {
		return nil, errInvalidToken("the access token is invalid, expired or revoked").withCause(err)
	}
	scopes := strings.Fields(ag.Scope)
	if ag.UserID == 0 {
		return nil, errInvalidToken("the access token belongs to no user")
	}
	if !slices.Contains(scopes, "openid") {
		return nil, errInsufficientScope("userinfo needs the openid scope")
	}
	u, oerr := activeUser(r.Context(), p.users, p.log, ag.UserID)
	if oerr != nil {
		return nil, errInvalidToken("the access token is invalid, expired or revoked")
	}
	return userClaims(u, ag.ClientID, scopes, decodeClaimsRequest(ag.Extension.Get(extClaims)).UserInfo), nil
}

// bearerToken reads the token from the Authorization header or, for POST, a
// form body (RFC 6750 §2.1, §2.2); never from the query string, and never from
// two places at once.
func bearerToken(r *http.Request) (string, *Error) {
	var fromHeader, fromBody string
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, tok, ok := strings.Cut(h, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(tok) == "" {
			return "", errInvalidRequest("the Authorization header must be: Bearer <token>")
		}
		fromHeader = strings.TrimSpace(tok)
	}
	if r.Method == http.MethodPost {
		if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == "application/x-www-form-urlencoded" {
			if err := r.ParseForm(); err != nil {
				return "", errInvalidRequest("the body could not be read")
			}
			if v := r.PostForm["access_token"]; len(v) > 1 {
				return "", errInvalidRequest("access_token is given more than once")
			} else if len(v) == 1 {
				fromBody = v[0]
			}
		}
	}
	switch {
	case fromHeader != "" && fromBody != "":
		return "", errInvalidRequest("send the access token in one place only")
	case fromHeader != "":
		return fromHeader, nil
	case fromBody != "":
		return fromBody, nil
	}
	// RFC 6750 §3.1: no credentials at all gets a bare challenge.
	return "", &Error{Status: http.StatusUnauthorized}
}

// writeBearerError answers per RFC 6750 §3.
func writeBearerError(w http.ResponseWriter, e *Error) {
	challenge := `Bearer realm="inkpass"`
	if e.Code != "" {
		challenge += `, error="` + e.Code + `", error_description="` + strings.ReplaceAll(e.Description, `"`, `'`) + `"`
	}
	w.Header().Set("WWW-Authenticate", challenge)
	if e.Code == "" {
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(e.Status)
		return
	}
	writeJSON(w, e.Status, errorBody(e), true)
}
