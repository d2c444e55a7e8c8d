package main

import (
	"context"
	"errors"
	"net/http"
	"net/url"
)

// worker is one simulated client. setup runs before the clock starts (a
// login to get a refresh token, say); op is one measured operation.
type worker interface {
	kind() string
	setup(ctx context.Context) error
	op(ctx context.Context) error
}

// Scopes the flows ask for: refresh needs offline_access (OIDC Core §11), and
// every ID token carries the profile claims, as a studio app's would.
const (
	scopeRefresh  = "openid profile offline_access"
	scopeUserInfo = "openid profile"
	scopeLogin    = "openid profile"
)

// mixedKinds are the operations of the mixed scenario, one per worker in
// turn.
var mixedKinds = []string{scDiscovery, scJWKS, scClientCredentials, scRefresh, scUserInfo, scLogin}

func newWorker(l *loader, scenario string, i int) worker {
	switch scenario {
	case scDiscovery:
		return &getWorker{l: l, name: scDiscovery, path: "/.well-known/openid-configuration"}
	case scJWKS:
		return &getWorker{l: l, name: scJWKS, path: "/jwks"}
	case scClientCredentials:
		return &ccWorker{l: l}
	case scRefresh:
		return &refreshWorker{l: l, addr: browserAddr(l.cfg.clientAddrs, i)}
	case scUserInfo:
		return &userInfoWorker{l: l, addr: browserAddr(l.cfg.clientAddrs, i)}
	case scLogin:
		return &loginWorker{l: l, addr: browserAddr(l.cfg.clientAddrs, i)}
	case scLoginBurst:
		return &burstWorker{l: l, addr: browserAddr(l.cfg.clientAddrs, i)}
	case scMixed:
		return newWorker(l, mixedKinds[i%len(mixedKinds)], i)
	}
	panic("unknown scenario " + scenario) // parseFlags checked it
}

// getWorker fetches a public document, as a relying party's library does.
type getWorker struct {
	l          *loader
	name, path string
}

func (w *getWorker) kind() string                { return w.name }
func (w *getWorker) setup(context.Context) error { return nil }
func (w *getWorker) op(ctx context.Context) error {
	a, err := w.l.get(ctx, w.l.client, w.l.endpoint(w.path), nil)
	if err != nil {
		return err
	}
	if a.status != http.StatusOK || len(a.body) == 0 {
		return &httpError{what: "GET " + w.path, status: a.status, body: string(a.body)}
	}
	return nil
}

// ccWorker is a machine client: one client_credentials grant per operation,
// authenticated with HTTP Basic (RFC 6749 §4.4).
type ccWorker struct{ l *loader }

func (w *ccWorker) kind() string                { return scClientCredentials }
func (w *ccWorker) setup(context.Context) error { return nil }
func (w *ccWorker) op(ctx context.Context) error {
	_, err := w.l.token(ctx, url.Values{"grant_type": {"client_credentials"}, "scope": {"profile"}},
		w.l.cfg.clientID, w.l.cfg.clientSecret, "client_credentials")
	return err
}

// refreshWorker holds one refresh token and rotates it on every operation
// (RFC 9700 §4.14.2): each answer's refresh_token is the next request's.
type refreshWorker struct {
	l       *loader
	addr    string // its browser's X-Forwarded-For
	refresh string
}

func (w *refreshWorker) kind() string { return scRefresh }

func (w *refreshWorker) setup(ctx context.Context) error {
	t, err := w.l.login(ctx, scopeRefresh, w.addr)
	if err != nil {
		return err
	}
	if t.RefreshToken == "" {
		return errors.New("the login gave no refresh token (does the client allow refresh_token and offline_access?)")
	}
	w.refresh = t.RefreshToken
	return nil
}

func (w *refreshWorker) op(ctx context.Context) error {
	if w.refresh == "" {
		// The last rotation failed, so the grant may be burned: start over.
		// That login is inside the measured window and makes the op slow.
		if err := w.setup(ctx); err != nil {
			return err
		}
	}
	t, err := w.l.token(ctx, url.Values{
		"grant_type":    {"refresh_token"},
		"refresh_token": {w.refresh},
		"client_id":     {w.l.cfg.publicClientID},
	}, "", "", "refresh")
	w.refresh = ""
	if err != nil {
		return err
	}
	if t.RefreshToken == "" {
		return errors.New("refresh: the answer has no new refresh_token")
	}
	if t.IDToken == "" {
		return errors.New("refresh: the answer has no id_token")
	}
	w.refresh = t.RefreshToken
	return nil
}

// userInfoWorker signs in once and then reads /userinfo with its access
// token (OIDC Core §5.3).
type userInfoWorker struct {
	l      *loader
	addr   string // its browser's X-Forwarded-For
	header http.Header
}

func (w *userInfoWorker) kind() string { return scUserInfo }

func (w *userInfoWorker) setup(ctx context.Context) error {
	t, err := w.l.login(ctx, scopeUserInfo, w.addr)
	if err != nil {
		return err
	}
	w.header = http.Header{"Authorization": {"Bearer " + t.AccessToken}}
	return nil
}

func (w *userInfoWorker) op(ctx context.Context) error {
	a, err := w.l.get(ctx, w.l.client, w.l.endpoint("/userinfo"), w.header)
	if err != nil {
		return err
	}
	if a.status != http.StatusOK {
		return &httpError{what: "GET /userinfo", status: a.status, body: string(a.body)}
	}
	return nil
}

// loginWorker runs the whole browserless code flow per operation, each time
// as a new browser (no session cookie, so the password is checked).
type loginWorker struct {
	l    *loader
	addr string // its browsers' X-Forwarded-For
}

func (w *loginWorker) kind() string                { return scLogin }
func (w *loginWorker) setup(context.Context) error { return nil }
func (w *loginWorker) op(ctx context.Context) error {
	_, err := w.l.login(ctx, scopeLogin, w.addr)
	return err
}

// burstWorker reaches the login form during setup, so that every worker
// posts its password at the same moment: the operation is the POST, the
// redirect with the code, and the code exchange. It runs once. With fewer
// users than workers, the posts go out as users come free (see userPool).
type burstWorker struct {
	l    *loader
	addr string // its browser's X-Forwarded-For
	p    *pendingLogin
}

func (w *burstWorker) kind() string { return scLoginBurst }

func (w *burstWorker) setup(ctx context.Context) error {
	p, err := w.l.startLogin(ctx, scopeLogin, w.addr)
	w.p = p
	return err
}

func (w *burstWorker) op(ctx context.Context) error {
	_, err := w.l.finishLogin(ctx, w.p)
	return err
}
