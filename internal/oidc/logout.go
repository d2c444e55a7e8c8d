package oidc

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"

	"github.com/inkpass/inkpass/internal/client"
	"github.com/inkpass/inkpass/internal/session"
)

// PathEndSession is the RP-initiated logout endpoint.
const PathEndSession = "/logout"

// LogoutEndpoint is RP-Initiated Logout: it validates a logout request
// against the clients and the key set (ParseLogout), and ends a session with
// the tokens issued under it (Logout).
type LogoutEndpoint struct {
	cfg      Config
	clients  clientGetter
	hints    hintVerifier
	sessions sessionEnder
	tokens   sessionTokenRevoker
}

// sessionEnder signs a browser out (Sessions.EndSession).
type sessionEnder interface {
	EndSession(ctx context.Context, cookie string) error
}

// sessionTokenRevoker revokes what was issued under a session
// (Store.RevokeSessionTokens).
type sessionTokenRevoker interface {
	RevokeSessionTokens(ctx context.Context, sid string) error
}

// NewLogoutEndpoint validates logout requests against clients and hints,
// and logs out through sessions and tokens.
func NewLogoutEndpoint(cfg Config, clients clientGetter, hints hintVerifier, sessions sessionEnder, tokens sessionTokenRevoker) *LogoutEndpoint {
	return &LogoutEndpoint{cfg: cfg.withDefaults(), clients: clients, hints: hints, sessions: sessions, tokens: tokens}
}

// LogoutRequest is a validated RP-Initiated Logout 1.0 request.
type LogoutRequest struct {
	ClientID   string
	ClientName string
	// RedirectURI is the post_logout_redirect_uri, already checked against
	// the client's registered list; empty means "show the signed-out page".
	RedirectURI string
	State       string
	// HintSubject and HintSID come from a valid id_token_hint: proof that the
	// relying party, not a third-party page, asked for the logout.
	HintSubject string
	HintSID     string
}

// Params are the logout parameters to carry through a confirmation form.
func (l *LogoutRequest) Params() url.Values {
	v := url.Values{}
	if l.ClientID != "" {
		v.Set("client_id", l.ClientID)
	}
	if l.RedirectURI != "" {
		v.Set("post_logout_redirect_uri", l.RedirectURI)
	}
	if l.State != "" {
		v.Set("state", l.State)
	}
	return v
}

// ProvenFor reports whether the request carries an id_token_hint issued
// under session s itself (its sid), which makes a confirmation step
// unnecessary. A hint from an earlier, ended session of the same user proves
// nothing about this one: whoever kept it could sign the user out at will.
func (l *LogoutRequest) ProvenFor(s *session.Session) bool {
	return s != nil && l.HintSID != "" && l.HintSID == s.SID &&
		subjectIs(l.HintSubject, s.UserID, l.ClientID)
}

// RedirectURL is where the browser goes after signing out, with state; empty
// when no valid post_logout_redirect_uri was given.
func (l *LogoutRequest) RedirectURL() string {
	if l.RedirectURI == "" {
		return ""
	}
	u, err := url.Parse(l.RedirectURI)
	if err != nil {
		return ""
	}
	if l.State != "" {
		q := u.Query()
		q.Set("state", l.State)
		u.RawQuery = q.Encode()
	}
	return u.String()
}

// ParseLogout validates a logout request. A post_logout_redirect_uri is kept
// only when it exactly matches one registered for the client named by
// client_id or by the hint's audience; otherwise the request is refused, so no
// logout ever redirects to an unvalidated URI.
func (p *LogoutEndpoint) ParseLogout(r *http.Request) (*LogoutRequest, *Error) {
	if err := r.ParseForm(); err != nil {
		return nil, errInvalidRequest("the request could not be read").noRedirect()
	}
	form := r.Form
	for _, name := range []string{"id_token_hint", "client_id", "post_logout_redirect_uri", "state"} {
		if len(form[name]) > 1 {
			return nil, errInvalidRequest("parameter %s is given more than once", name).noRedirect()
		}
	}
	l := &LogoutRequest{ClientID: form.Get("client_id"), State: form.Get("state")}
	if len(l.State) > maxStateLen {
		return nil, errInvalidRequest("state is too long").noRedirect()
	}
	if hint := form.Get("id_token_hint"); hint != "" {
		c, err := parseIDTokenHint(p.hints, p.cfg.Issuer, hint)
		if err != nil {
			return nil, errInvalidRequest("id_token_hint is not an ID token issued here").withCause(err).noRedirect()
		}
		auds := c.audiences()
		switch {
		case l.ClientID == "" && len(auds) == 1:
			l.ClientID = auds[0]
		case l.ClientID != "" && !slices.Contains(auds, l.ClientID):
			return nil, errInvalidRequest("client_id does not match the id_token_hint").noRedirect()
		}
		l.HintSubject, l.HintSID = c.Subject, c.SID
	}
	var c *client.Client
	if l.ClientID != "" {
		var err error
		c, err = p.clients.Get(r.Context(), l.ClientID)
		if errors.Is(err, client.ErrNotFound) {
			return nil, errInvalidRequest("unknown client_id").noRedirect()
		}
		if err != nil {
			return nil, errServer(err).noRedirect()
		}
		if !c.Enabled {
			// A disabled client is dead: its URIs are unknown and its ID
			// tokens prove nothing. The user is asked, then sees
			// inkpass's own signed-out page.
			return &LogoutRequest{}, nil
		}
		l.ClientName = c.Name
	}
	if uri := form.Get("post_logout_redirect_uri"); uri != "" {
		if c == nil {
			return nil, errInvalidRequest("post_logout_redirect_uri needs client_id or id_token_hint").noRedirect()
		}
		if !c.HasPostLogoutRedirectURI(uri) {
			return nil, errInvalidRequest("post_logout_redirect_uri is not registered for this application").noRedirect()
		}
		l.RedirectURI = uri
	}
	return l, nil
}

// Logout ends the browser session behind cookie and revokes the tokens
// issued under it.
func (p *LogoutEndpoint) Logout(ctx context.Context, cookie string, s *session.Session) error {
	if s != nil {
		if err := p.tokens.RevokeSessionTokens(ctx, s.SID); err != nil {
			return err
		}
	}
	return p.sessions.EndSession(ctx, cookie)
}
