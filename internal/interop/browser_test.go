//go:build interop

package interop

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// portJar keeps cookies per host:port, as if each server had its own host
// name: Flask's, Apache's and inkpass's cookies on 127.0.0.1 never mix.
type portJar struct {
	mu   sync.Mutex
	jars map[string]*cookiejar.Jar
}

func (j *portJar) jar(u *url.URL) *cookiejar.Jar {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.jars == nil {
		j.jars = map[string]*cookiejar.Jar{}
	}
	if jar, ok := j.jars[u.Host]; ok {
		return jar
	}
	jar, _ := cookiejar.New(nil)
	j.jars[u.Host] = jar
	return jar
}

func (j *portJar) SetCookies(u *url.URL, cs []*http.Cookie) { j.jar(u).SetCookies(u, cs) }
func (j *portJar) Cookies(u *url.URL) []*http.Cookie        { return j.jar(u).Cookies(u) }

// browser follows redirects like a browser and fills in inkpass's login
// form (and its sign-out confirmation) when it meets them.
type browser struct {
	c          *http.Client
	jar        *portJar
	user, pass string
}

func newBrowser(user, pass string) *browser {
	jar := &portJar{}
	return &browser{user: user, pass: pass, jar: jar, c: &http.Client{
		Jar: jar, Timeout: 60 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// page is where a visit ended, and what happened on the way.
type page struct {
	status int
	url    *url.URL
	header http.Header
	body   []byte
	// loginForms counts the inkpass login forms submitted on the way;
	// atLogin is true when the visit stopped at one (a browser without a
	// password, or a refused one).
	loginForms int
	atLogin    bool
	// logoutConfirms counts inkpass sign-out confirmations submitted.
	logoutConfirms int
	hops           []string
}

func (p *page) String() string {
	return fmt.Sprintf("%d at %s (hops: %s) body %q", p.status, p.url, strings.Join(p.hops, " → "), trim(p.body, 400))
}

func (p *page) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(p.body, &m); err != nil {
		t.Fatalf("not JSON: %v; %s", err, p)
	}
	return m
}

func trim(b []byte, n int) string {
	if len(b) > n {
		return string(b[:n]) + "…"
	}
	return string(b)
}

var (
	loginForm           = regexp.MustCompile(`<form class="form" method="post" action="([^"]*)"`)
	csrfInput           = regexp.MustCompile(`<input type="hidden" name="csrf_token" value="([^"]*)">`)
	logoutForm          = regexp.MustCompile(`<form method="post" action="(/logout[^"]*)">\s*<input type="hidden" name="csrf_token" value="([^"]*)">`)
	cliFailure          = regexp.MustCompile(`^(inkpass \w+ \w+) .*: exit status \d+: (.*)$`)
	isRedirect          = map[int]bool{301: true, 302: true, 303: true, 307: true, 308: true}
	errTooManyRedirects = errors.New("more than 30 redirects")
)

func (b *browser) get(t *testing.T, u string) *page {
	t.Helper()
	p, err := b.visit(http.MethodGet, u, nil)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	return p
}

// visit requests u and follows redirects, submitting inkpass's forms.
func (b *browser) visit(method, rawURL string, form url.Values) (*page, error) {
	p := &page{}
	for range 30 {
		var body io.Reader
		if form != nil {
			body = strings.NewReader(form.Encode())
		}
		req, err := http.NewRequest(method, rawURL, body)
		if err != nil {
			return p, err
		}
		if form != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		req.Header.Set("Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8") // a browser's
		resp, err := b.c.Do(req)
		if err != nil {
			return p, err
		}
		data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		if err != nil {
			return p, err
		}
		p.status, p.url, p.header, p.body = resp.StatusCode, req.URL, resp.Header, data
		p.hops = append(p.hops, fmt.Sprintf("%s %s %d", method, shortURL(req.URL), resp.StatusCode))
		if isRedirect[resp.StatusCode] {
			loc, err := req.URL.Parse(resp.Header.Get("Location"))
			if err != nil {
				return p, fmt.Errorf("bad Location %q: %w", resp.Header.Get("Location"), err)
			}
			rawURL = loc.String()
			if resp.StatusCode != 307 && resp.StatusCode != 308 {
				method, form = http.MethodGet, nil
			}
			continue
		}
		if resp.StatusCode != http.StatusOK || "http://"+req.URL.Host != idp.base {
			return p, nil
		}
		if m := loginForm.FindSubmatch(data); m != nil && bytes.Contains(data, []byte(`name="password"`)) {
			if b.user == "" || p.loginForms > 0 {
				p.atLogin = true
				return p, nil
			}
			c := csrfInput.FindSubmatch(data)
			if c == nil {
				return p, fmt.Errorf("login form without csrf_token: %s", p)
			}
			next, err := req.URL.Parse(html.UnescapeString(string(m[1])))
			if err != nil {
				return p, err
			}
			p.loginForms++
			method, rawURL = http.MethodPost, next.String()
			form = url.Values{"username": {b.user}, "password": {b.pass}, "csrf_token": {html.UnescapeString(string(c[1]))}}
			continue
		}
		if m := logoutForm.FindSubmatch(data); m != nil && p.logoutConfirms == 0 {
			next, err := req.URL.Parse(html.UnescapeString(string(m[1])))
			if err != nil {
				return p, err
			}
			p.logoutConfirms++
			method, rawURL = http.MethodPost, next.String()
			form = url.Values{"csrf_token": {html.UnescapeString(string(m[2]))}}
			continue
		}
		return p, nil
	}
	return p, errTooManyRedirects
}

func shortURL(u *url.URL) string {
	s := u.Host + u.Path
	if len(s) > 60 {
		s = s[:60] + "…"
	}
	return s
}

// echoUpstream is the application behind a reverse-proxy relying party
// (mod_auth_openidc, oauth2-proxy): it answers every request with its path
// and its request headers as JSON, header names in lower case.
func echoUpstream(t *testing.T) (port int) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := map[string]string{}
		for k, v := range r.Header {
			h[strings.ToLower(k)] = strings.Join(v, ", ")
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"upstream": true, "path": r.URL.Path, "headers": h})
	}))
	t.Cleanup(srv.Close)
	return srv.Listener.Addr().(*net.TCPAddr).Port
}

// upstreamHeaders returns the headers the upstream saw, or fails the test
// when the page is not the upstream's answer.
func upstreamHeaders(t *testing.T, p *page) map[string]string {
	t.Helper()
	var m struct {
		Upstream bool              `json:"upstream"`
		Headers  map[string]string `json:"headers"`
	}
	if p.status != 200 || json.Unmarshal(p.body, &m) != nil || !m.Upstream {
		t.Fatalf("the request did not reach the upstream: %s", p)
	}
	return m.Headers
}
