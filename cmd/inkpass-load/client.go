package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// maxBody bounds what the load generator reads of one answer.
const maxBody = 1 << 20

// errNotLoopback is returned by the dialer for any non-loopback address.
var errNotLoopback = errors.New("refusing to connect to an address that is not loopback")

// loopbackDialer is the second guard behind checkTarget: it refuses to
// connect anywhere but a loopback address, whatever a name resolved to.
func loopbackDialer() *net.Dialer {
	return &net.Dialer{
		Timeout:   5 * time.Second,
		KeepAlive: 30 * time.Second,
		Control: func(network, address string, _ syscall.RawConn) error {
			host, _, err := net.SplitHostPort(address)
			if err != nil {
				return err
			}
			if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
				return fmt.Errorf("%w: %s", errNotLoopback, address)
			}
			return nil
		},
	}
}

// newTransport is the one keep-alive transport every worker shares; it keeps
// an idle connection per worker so that no request pays for a handshake.
func newTransport(c int) *http.Transport {
	return &http.Transport{
		DialContext:         loopbackDialer().DialContext,
		MaxIdleConns:        c,
		MaxIdleConnsPerHost: c,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
		ForceAttemptHTTP2:   false,
		// A login burst may open a thousand connections at once.
		TLSHandshakeTimeout: 10 * time.Second,
	}
}

// loader holds what every worker shares.
type loader struct {
	cfg    *config
	tr     *http.Transport
	client *http.Client // no cookie jar, no redirects
	stats  *collector
	users  *userPool
	turn   atomic.Uint64 // which of cfg.bases the next endpoint is on
}

func newLoader(cfg *config, st *collector) *loader {
	tr := newTransport(cfg.c)
	return &loader{
		cfg: cfg,
		tr:  tr,
		client: &http.Client{
			Transport:     tr,
			Timeout:       cfg.timeout,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		stats: st,
		users: newUserPool(cfg.username, cfg.users),
	}
}

// endpoint resolves a path against the base URL. With several servers
// (replicas on one database) each call takes the next one in turn, as a
// round-robin load balancer would, so that consecutive steps of one flow (the
// login and the code exchange, one rotation and the next) land on different
// servers.
func (l *loader) endpoint(path string) string {
	bases := l.cfg.bases
	if len(bases) == 0 {
		return l.cfg.base.String() + path
	}
	return bases[(l.turn.Add(1)-1)%uint64(len(bases))].String() + path
}

// isServerHost says whether host (host:port) is one of the servers.
func (l *loader) isServerHost(host string) bool {
	if len(l.cfg.bases) == 0 {
		return host == l.cfg.base.Host
	}
	for _, b := range l.cfg.bases {
		if b.Host == host {
			return true
		}
	}
	return false
}

// answer is a response read whole, so the connection goes back to the pool.
type answer struct {
	status int
	header http.Header
	body   []byte
}

// httpError is a response the scenario did not expect.
type httpError struct {
	what   string
	status int
	body   string
}

func (e *httpError) Error() string {
	body := strings.Join(strings.Fields(e.body), " ")
	if len(body) > 160 {
		body = body[:160] + "…"
	}
	return fmt.Sprintf("%s: HTTP %d %s", e.what, e.status, body)
}

// do sends req with cl, counts its status, and reads the body.
func (l *loader) do(cl *http.Client, req *http.Request) (*answer, error) {
	resp, err := cl.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", req.Method, req.URL.Path, trimURLError(err))
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	l.stats.status(resp.StatusCode)
	if err != nil {
		return nil, fmt.Errorf("%s %s: read body: %w", req.Method, req.URL.Path, err)
	}
	return &answer{status: resp.StatusCode, header: resp.Header, body: body}, nil
}

// trimURLError drops the URL from a client error: it may carry a code.
func trimURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

func (l *loader) get(ctx context.Context, cl *http.Client, target string, hdr http.Header) (*answer, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return nil, err
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	return l.do(cl, req)
}

func (l *loader) postForm(ctx context.Context, cl *http.Client, target string, form url.Values, basicUser, basicPass string) (*answer, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if basicUser != "" {
		// RFC 6749 §2.3.1: form-urlencode both parts before base64.
		req.SetBasicAuth(url.QueryEscape(basicUser), url.QueryEscape(basicPass))
	}
	return l.do(cl, req)
}

// tokenResponse is RFC 6749 §5.1.
type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	IDToken      string `json:"id_token"`
	TokenType    string `json:"token_type"`
}

func (l *loader) token(ctx context.Context, form url.Values, basicUser, basicPass, what string) (*tokenResponse, error) {
	a, err := l.postForm(ctx, l.client, l.endpoint("/token"), form, basicUser, basicPass)
	if err != nil {
		return nil, err
	}
	if a.status != http.StatusOK {
		return nil, &httpError{what: what, status: a.status, body: string(a.body)}
	}
	var t tokenResponse
	if err := json.Unmarshal(a.body, &t); err != nil {
		return nil, fmt.Errorf("%s: decode token response: %w", what, err)
	}
	if t.AccessToken == "" {
		return nil, fmt.Errorf("%s: no access_token in the answer", what)
	}
	return &t, nil
}

// firstErrors keeps the first few distinct error messages.
type firstErrors struct {
	mu   sync.Mutex
	seen map[string]int
	list []string
}

const keepErrors = 5

func (f *firstErrors) add(err error) {
	msg := err.Error()
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.seen == nil {
		f.seen = map[string]int{}
	}
	if _, ok := f.seen[msg]; !ok && len(f.list) < keepErrors {
		f.list = append(f.list, msg)
	}
	f.seen[msg]++
}

func (f *firstErrors) snapshot() []errorCount {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]errorCount, 0, len(f.list))
	for _, m := range f.list {
		out = append(out, errorCount{Message: m, Count: f.seen[m]})
	}
	return out
}

type errorCount struct {
	Message string `json:"message"`
	Count   int    `json:"count"`
}
