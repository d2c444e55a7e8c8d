package main

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"html"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
)

// The browserless authorization code flow with PKCE (RFC 7636), as a browser
// would walk it: GET /authorize, follow inkpass's redirects to its login page,
// read the form and its csrf_token, POST the credentials, follow the 303 to the
// redirect URI (never requested: the code is read from the Location header),
// and exchange the code at /token. A consent page, should one appear, is
// approved.

// pendingLogin is a browser that has reached the login form.
type pendingLogin struct {
	browser  *http.Client // its own cookie jar, like a real browser
	verifier string
	state    string
	action   string // the login form's absolute URL
	csrf     string
	code     string // set when the flow reached the redirect URI
}

func randomToken() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// s256 is RFC 7636 §4.2's code_challenge for verifier.
func s256(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// newBrowser is a browser with its own cookie jar; addr, when set, is the
// client address it claims in X-Forwarded-For.
func (l *loader) newBrowser(addr string) *http.Client {
	jar, _ := cookiejar.New(nil) // never fails without options
	var tr http.RoundTripper = l.tr
	if addr != "" {
		tr = forwardedFor{base: l.tr, addr: addr}
	}
	return &http.Client{
		Transport:     tr,
		Jar:           jar,
		Timeout:       l.cfg.timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// startLogin sends a new browser from addr to /authorize and follows it to
// the login form.
func (l *loader) startLogin(ctx context.Context, scope, addr string) (*pendingLogin, error) {
	p := &pendingLogin{browser: l.newBrowser(addr), verifier: randomToken(), state: randomToken()[:16]}
	q := url.Values{
		"response_type":         {"code"},
		"client_id":             {l.cfg.publicClientID},
		"redirect_uri":          {l.cfg.redirectURI},
		"scope":                 {scope},
		"state":                 {p.state},
		"nonce":                 {randomToken()[:16]},
		"code_challenge":        {s256(p.verifier)},
		"code_challenge_method": {"S256"},
	}
	if err := l.follow(ctx, p, http.MethodGet, l.endpoint("/authorize?"+q.Encode()), nil, false); err != nil {
		return nil, err
	}
	return p, nil
}

// finishLogin posts the credentials of a user no other login holds, follows
// to the code, and exchanges it.
func (l *loader) finishLogin(ctx context.Context, p *pendingLogin) (*tokenResponse, error) {
	if p.code == "" {
		username, err := l.users.take(ctx)
		if err != nil {
			return nil, err
		}
		form := url.Values{"csrf_token": {p.csrf}, "username": {username}, "password": {l.cfg.password}}
		err = l.follow(ctx, p, http.MethodPost, p.action, form, true)
		l.users.put(username)
		if err != nil {
			return nil, err
		}
		if p.code == "" {
			return nil, errors.New("login: the flow ended without a code")
		}
	}
	return l.token(ctx, url.Values{
		"grant_type":    {"authorization_code"},
		"code":          {p.code},
		"redirect_uri":  {l.cfg.redirectURI},
		"client_id":     {l.cfg.publicClientID},
		"code_verifier": {p.verifier},
	}, "", "", "code exchange")
}

// login is the whole flow.
func (l *loader) login(ctx context.Context, scope, addr string) (*tokenResponse, error) {
	p, err := l.startLogin(ctx, scope, addr)
	if err != nil {
		return nil, err
	}
	return l.finishLogin(ctx, p)
}

const maxHops = 6

// follow walks the browser from one request until it reaches the redirect
// URI (p.code is set), or, when !submitted, the login form (p.action and
// p.csrf are set). A login form after the credentials were posted is a failed
// login.
func (l *loader) follow(ctx context.Context, p *pendingLogin, method, target string, form url.Values, submitted bool) error {
	for range maxHops {
		var a *answer
		var err error
		if method == http.MethodPost {
			a, err = l.postForm(ctx, p.browser, target, form, "", "")
		} else {
			a, err = l.get(ctx, p.browser, target, nil)
		}
		if err != nil {
			return err
		}
		where := pathOf(target)
		switch {
		case a.status == http.StatusFound || a.status == http.StatusSeeOther:
			next, err := resolve(target, a.header.Get("Location"))
			if err != nil {
				return fmt.Errorf("%s %s: bad Location: %w", method, where, err)
			}
			if l.isRedirectURI(next) {
				return p.takeCode(next)
			}
			if !l.isServerHost(next.Host) {
				return fmt.Errorf("%s %s: redirected off the server to %s", method, where, next.Host)
			}
			method, target, form = http.MethodGet, next.String(), nil
		case a.status == http.StatusOK:
			f, ok := parseForm(a.body)
			switch {
			case ok && f.names["password"] && !submitted:
				action, err := resolveAction(target, f.action)
				if err != nil {
					return fmt.Errorf("%s %s: bad form action: %w", method, where, err)
				}
				p.action, p.csrf = action.String(), f.hidden["csrf_token"]
				if p.csrf == "" {
					return fmt.Errorf("%s %s: the login form has no csrf_token", method, where)
				}
				return nil
			case ok && f.names["password"]:
				return fmt.Errorf("%s %s: the login form came back (wrong credentials?)", method, where)
			case ok && f.names["decision"]:
				action, err := resolveAction(target, f.action)
				if err != nil {
					return fmt.Errorf("%s %s: bad form action: %w", method, where, err)
				}
				method, target = http.MethodPost, action.String()
				form = url.Values{"csrf_token": {f.hidden["csrf_token"]}, "decision": {"approve"}}
			default:
				return fmt.Errorf("%s %s: a page with no login or consent form", method, where)
			}
		default:
			return &httpError{what: method + " " + where, status: a.status, body: string(a.body)}
		}
	}
	return fmt.Errorf("login: more than %d hops", maxHops)
}

func pathOf(target string) string {
	if u, err := url.Parse(target); err == nil {
		return u.Path
	}
	return "?"
}

func resolve(base, ref string) (*url.URL, error) {
	if ref == "" {
		return nil, errors.New("empty")
	}
	b, err := url.Parse(base)
	if err != nil {
		return nil, err
	}
	r, err := url.Parse(ref)
	if err != nil {
		return nil, err
	}
	return b.ResolveReference(r), nil
}

func (l *loader) isRedirectURI(u *url.URL) bool {
	want, err := url.Parse(l.cfg.redirectURI)
	return err == nil && u.Scheme == want.Scheme && u.Host == want.Host && u.Path == want.Path
}

// takeCode reads the authorization response (RFC 6749 §4.1.2) off the
// redirect.
func (p *pendingLogin) takeCode(u *url.URL) error {
	q := u.Query()
	if e := q.Get("error"); e != "" {
		return fmt.Errorf("authorization error %s: %s", e, q.Get("error_description"))
	}
	if q.Get("state") != p.state {
		return errors.New("authorization response: state does not match")
	}
	if p.code = q.Get("code"); p.code == "" {
		return errors.New("authorization response: no code")
	}
	return nil
}

// htmlForm is the first form of a page: where it posts, its hidden values and
// the names of all its fields and buttons.
type htmlForm struct {
	action string
	hidden map[string]string
	names  map[string]bool
}

var (
	formRE  = regexp.MustCompile(`(?is)<form\b([^>]*)>(.*?)</form>`)
	fieldRE = regexp.MustCompile(`(?is)<(?:input|button|select|textarea)\b[^>]*>`)
	attrRE  = regexp.MustCompile(`(?is)\b(action|name|value|type)\s*=\s*"([^"]*)"`)
)

func attrs(tag string) map[string]string {
	out := map[string]string{}
	for _, m := range attrRE.FindAllStringSubmatch(tag, -1) {
		k := strings.ToLower(m[1])
		if _, dup := out[k]; !dup {
			out[k] = html.UnescapeString(m[2])
		}
	}
	return out
}

func parseForm(body []byte) (htmlForm, bool) {
	m := formRE.FindSubmatch(body)
	if m == nil {
		return htmlForm{}, false
	}
	f := htmlForm{action: attrs(string(m[1]))["action"], hidden: map[string]string{}, names: map[string]bool{}}
	for _, tag := range fieldRE.FindAll(m[2], -1) {
		a := attrs(string(tag))
		name := a["name"]
		if name == "" {
			continue
		}
		f.names[name] = true
		if strings.EqualFold(a["type"], "hidden") {
			f.hidden[name] = a["value"]
		}
	}
	return f, true
}

// resolveAction is a form's target: its action, or the page itself when the
// action is empty (HTML §4.10.21.3).
func resolveAction(page, action string) (*url.URL, error) {
	if action == "" {
		return url.Parse(page)
	}
	return resolve(page, action)
}
