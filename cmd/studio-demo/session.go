package main

import (
	"crypto/rand"
	"net/http"
	"sync"
	"time"
)

// pendingLogin is what /login remembers for /callback. It stays on the
// server: the browser holds only a random id for it, so the PKCE verifier
// never leaves the demo.
type pendingLogin struct {
	State    string
	Nonce    string
	Verifier string
}

// session is a signed-in browser.
type session struct {
	RawIDToken string // kept only as id_token_hint for sign-out
	CSRF       string // for the sign-out form
	Profile    profile
	// The two claim sets as received, indented for display.
	IDTokenClaims  string
	UserInfoClaims string
	UserInfoError  string // why userinfo could not be read, if it could not
}

// store is an in-memory map of values under random ids that expire after
// ttl. It holds at most max live values, so a client hammering /login
// cannot grow it without bound.
type store[T any] struct {
	ttl time.Duration
	max int
	now func() time.Time

	mu    sync.Mutex
	items map[string]storeItem[T]
}

type storeItem[T any] struct {
	value   T
	expires time.Time
}

func newStore[T any](ttl time.Duration, max int, now func() time.Time) *store[T] {
	return &store[T]{ttl: ttl, max: max, now: now, items: make(map[string]storeItem[T])}
}

// put stores v under a new random id. It returns false when the store is
// full of live values.
func (s *store[T]) put(v T) (string, bool) {
	id := rand.Text() // 128 random bits
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.items) >= s.max {
		for k, it := range s.items {
			if !now.Before(it.expires) {
				delete(s.items, k)
			}
		}
		if len(s.items) >= s.max {
			return "", false
		}
	}
	s.items[id] = storeItem[T]{value: v, expires: now.Add(s.ttl)}
	return id, true
}

// get returns the live value under id.
func (s *store[T]) get(id string) (T, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lookup(id, false)
}

// take returns the live value under id and removes it, so that it can be
// used once only.
func (s *store[T]) take(id string) (T, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lookup(id, true)
}

func (s *store[T]) delete(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.items, id)
}

// lookup must be called with s.mu held.
func (s *store[T]) lookup(id string, remove bool) (T, bool) {
	var zero T
	it, ok := s.items[id]
	if !ok {
		return zero, false
	}
	expired := !s.now().Before(it.expires)
	if remove || expired {
		delete(s.items, id)
	}
	if expired {
		return zero, false
	}
	return it.value, true
}

// cookieNames are the demo's cookies. On loopback, browsers send cookies
// to every port of 127.0.0.1, so inkpass on :8080 and the demo on :9090
// see each other's cookies: the names must not collide with inkpass's
// (inkpass_session, inkpass_browser). With https the __Host- prefix pins
// each cookie to this exact origin.
type cookieNames struct {
	session string // the signed-in session id
	login   string // the pending login id, from /login to /callback
	logout  string // the state sent to end_session_endpoint
	secure  bool
}

func newCookieNames(secure bool) cookieNames {
	if secure {
		return cookieNames{session: "__Host-studio_demo_session", login: "__Host-studio_demo_login", logout: "__Host-studio_demo_logout", secure: true}
	}
	return cookieNames{session: "studio_demo_session", login: "studio_demo_login", logout: "studio_demo_logout"}
}

// set writes an HttpOnly, SameSite=Lax cookie. Lax, not Strict: the
// callback is a top-level navigation from inkpass, another site, and must
// carry the login cookie.
func (c cookieNames) set(w http.ResponseWriter, name, value string, maxAge time.Duration) {
	http.SetCookie(w, &http.Cookie{
		Name:     name,
		Value:    value,
		Path:     "/",
		MaxAge:   int(maxAge / time.Second),
		HttpOnly: true,
		Secure:   c.secure,
		SameSite: http.SameSiteLaxMode,
	})
}

func (c cookieNames) clear(w http.ResponseWriter, name string) {
	c.set(w, name, "", -time.Second)
}

func cookieValue(r *http.Request, name string) string {
	ck, err := r.Cookie(name)
	if err != nil {
		return ""
	}
	return ck.Value
}
