package backchannel

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/inkpass/inkpass/internal/keys"
)

// EventLogout is the events member of every logout token (§2.4).
const EventLogout = "http://schemas.openid.net/event/backchannel-logout"

// TokenType is the logout token's typ header (§2.4: explicit typing keeps a
// logout token from being accepted as an ID token, and back).
const TokenType = "logout+jwt"

// Notice is one logout token to deliver: client ClientID took part in
// session SID of user Subject.
type Notice struct {
	ID       int64
	ClientID string
	// URI is the client's backchannel_logout_uri as registered now; empty
	// when the client was removed, disabled or no longer has one.
	URI          string
	SID, Subject string
	// Alg is the client's id_token_signed_response_alg: relying parties
	// check a logout token's alg as they check their ID tokens'. RS256 when
	// empty.
	Alg keys.Algorithm
	// Attempt counts this delivery: 1 for the first.
	Attempt int
}

// Outbox is the store's queue of notices. The store queues them itself, in
// the transaction that ends sessions (RevokeSession, deactivation, password
// change, RevokeInactiveUser; RevokeClientAccess for one client), one per
// enabled client with a back-channel URI that took part in the session, so a
// session ends with its notices or not at all. Claim returns up to limit due
// notices and pushes their next attempt lease into the future, counting the
// attempt (Notice.Attempt), in one transaction, so that two servers on one
// database never both deliver one, and a crash mid-delivery retries it after
// the lease. Delete drops a notice (delivered, refused, or given up); Retry
// schedules its next attempt.
type Outbox interface {
	ClaimLogoutNotices(ctx context.Context, limit int, lease time.Duration) ([]Notice, error)
	DeleteLogoutNotice(ctx context.Context, id int64) error
	RetryLogoutNotice(ctx context.Context, id int64, at time.Time) error
}

// Signer signs a payload with the active key of alg under a typ header;
// keys.Set implements it.
type Signer interface {
	SignTyped(alg keys.Algorithm, typ string, payload []byte) (string, error)
}

// Options configure a Worker; zero fields take the defaults below.
type Options struct {
	Issuer string
	// Client sends the POSTs; NewHTTPClient when nil.
	Client *http.Client
	Now    func() time.Time
	Logger *slog.Logger
	// Wake is signalled when this process queued notices, so they go out at
	// once; notices queued by another process (the CLI) wait for Poll.
	Wake <-chan struct{}
	// Poll is how often the outbox is checked without a wake-up (5 s).
	Poll time.Duration
	// Backoff is the wait after each failed attempt; a notice is tried
	// len(Backoff)+1 times in all (5 s, 15 s, 30 s, 60 s: five attempts
	// over about two minutes).
	Backoff []time.Duration
	// TokenTTL is the logout token's lifetime (2 minutes: §2.4 asks for a
	// short one).
	TokenTTL time.Duration
	// Concurrency bounds the deliveries in flight (4).
	Concurrency int
}

// DefaultBackoff is Options.Backoff's default.
var DefaultBackoff = []time.Duration{5 * time.Second, 15 * time.Second, 30 * time.Second, time.Minute}

// Worker delivers the outbox's notices until its context ends.
type Worker struct {
	out    Outbox
	signer Signer
	opts   Options
	log    *slog.Logger
}

// NewHTTPClient is a client for logout deliveries: bounded in time, and it
// follows no redirect (a 3xx is a failed delivery: the token goes only to the
// registered URI).
func NewHTTPClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.ResponseHeaderTimeout = 10 * time.Second
	return &http.Client{
		Transport:     t,
		Timeout:       15 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// New returns a worker; call Run.
func New(out Outbox, signer Signer, opts Options) *Worker {
	if opts.Client == nil {
		opts.Client = NewHTTPClient()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Poll <= 0 {
		opts.Poll = 5 * time.Second
	}
	if opts.Backoff == nil {
		opts.Backoff = DefaultBackoff
	}
	if opts.TokenTTL <= 0 {
		opts.TokenTTL = 2 * time.Minute
	}
	if opts.Concurrency <= 0 {
		opts.Concurrency = 4
	}
	return &Worker{out: out, signer: signer, opts: opts, log: opts.Logger}
}

// lease is how long a claimed notice is someone's: longer than one delivery
// can take (NewHTTPClient's timeout).
const lease = time.Minute

// Run delivers notices until ctx ends, then waits for the deliveries in
// flight.
func (w *Worker) Run(ctx context.Context) {
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		next := w.drain(ctx)
		wait := w.opts.Poll
		if !next.IsZero() {
			wait = min(wait, max(next.Sub(w.opts.Now()), 0))
		}
		timer.Reset(wait)
		select {
		case <-ctx.Done():
			return
		case <-w.opts.Wake:
		case <-timer.C:
		}
	}
}

// drain delivers every due notice and returns the earliest retry it
// scheduled (zero if none).
func (w *Worker) drain(ctx context.Context) time.Time {
	var mu sync.Mutex
	var soonest time.Time
	for ctx.Err() == nil {
		batch := 4 * w.opts.Concurrency
		ns, err := w.out.ClaimLogoutNotices(ctx, batch, lease)
		if err != nil {
			if ctx.Err() == nil {
				w.log.Error("back-channel logout: read the outbox", "err", err)
			}
			break
		}
		var wg sync.WaitGroup
		sem := make(chan struct{}, w.opts.Concurrency)
		for _, n := range ns {
			sem <- struct{}{}
			wg.Go(func() {
				defer func() { <-sem }()
				if at := w.handle(ctx, n); !at.IsZero() {
					mu.Lock()
					if soonest.IsZero() || at.Before(soonest) {
						soonest = at
					}
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		if len(ns) < batch {
			break
		}
	}
	return soonest
}

// handle delivers one notice and records the outcome; it returns when the
// notice is due again, or zero when it is done with.
func (w *Worker) handle(ctx context.Context, n Notice) time.Time {
	log := w.log.With("client_id", n.ClientID, "attempt", n.Attempt)
	if n.URI == "" {
		log.Info("back-channel logout: dropped, the client no longer has a back-channel logout URI or is disabled")
		w.delete(ctx, log, n)
		return time.Time{}
	}
	err := w.Deliver(ctx, n)
	if err == nil {
		log.Info("back-channel logout delivered")
		w.delete(ctx, log, n)
		return time.Time{}
	}
	var perm *permanentError
	if errors.As(err, &perm) || n.Attempt > len(w.opts.Backoff) {
		log.Warn("back-channel logout failed; giving up", "err", err)
		w.delete(ctx, log, n)
		return time.Time{}
	}
	at := w.opts.Now().Add(w.opts.Backoff[n.Attempt-1])
	log.Warn("back-channel logout failed; will retry", "err", err, "retry_at", at)
	if err := w.out.RetryLogoutNotice(ctx, n.ID, at); err != nil {
		// The claim's lease brings it back anyway.
		log.Error("back-channel logout: reschedule", "err", err)
		return time.Time{}
	}
	return at
}

func (w *Worker) delete(ctx context.Context, log *slog.Logger, n Notice) {
	if err := w.out.DeleteLogoutNotice(ctx, n.ID); err != nil {
		log.Error("back-channel logout: remove from the outbox", "err", err)
	}
}

// permanentError is a refusal that a retry would not change.
type permanentError struct{ msg string }

func (e *permanentError) Error() string { return e.msg }

// maxResponse bounds how much of an answer is read: only the status counts.
const maxResponse = 4 << 10

// Deliver signs a logout token for n and POSTs it (§2.5). A 2xx answer is
// success (§2.8 says 200; 204 is common). A 4xx other than 408 and 429 is a
// permanent refusal (§2.8: 400 for a token it rejects); anything else, a
// redirect included, may be retried. Errors never contain the token.
func (w *Worker) Deliver(ctx context.Context, n Notice) error {
	tok, err := w.Token(n)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, n.URI, strings.NewReader(url.Values{"logout_token": {tok}}.Encode()))
	if err != nil {
		return &permanentError{fmt.Sprintf("bad back-channel logout URI: %v", err)}
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := w.opts.Client.Do(req)
	if err != nil {
		return fmt.Errorf("post logout token: %w", err)
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, maxResponse))
	resp.Body.Close()
	switch s := resp.StatusCode; {
	case s >= 200 && s < 300:
		return nil
	case s >= 400 && s < 500 && s != http.StatusRequestTimeout && s != http.StatusTooManyRequests:
		return &permanentError{fmt.Sprintf("the relying party refused the logout token: status %d", s)}
	default:
		return fmt.Errorf("post logout token: status %d", s)
	}
}

// claims is a logout token (§2.4): no nonce, an events member, and both sid
// and sub so that a client that keys its sessions by either can act on it.
type claims struct {
	Iss    string              `json:"iss"`
	Aud    string              `json:"aud"`
	Iat    int64               `json:"iat"`
	Exp    int64               `json:"exp"`
	Jti    string              `json:"jti"`
	Sub    string              `json:"sub,omitempty"`
	Sid    string              `json:"sid,omitempty"`
	Events map[string]struct{} `json:"events"`
}

// Token signs the logout token for n. Each attempt gets a fresh jti: a
// relying party that processed an attempt whose answer we lost may keep its
// jti to refuse replays, and a retry is not a replay.
func (w *Worker) Token(n Notice) (string, error) {
	now := w.opts.Now()
	jti := make([]byte, 16)
	rand.Read(jti)
	body, err := json.Marshal(claims{
		Iss: w.opts.Issuer, Aud: n.ClientID, Iat: now.Unix(), Exp: now.Add(w.opts.TokenTTL).Unix(),
		Jti: base64.RawURLEncoding.EncodeToString(jti), Sub: n.Subject, Sid: n.SID,
		Events: map[string]struct{}{EventLogout: {}},
	})
	if err != nil {
		return "", fmt.Errorf("logout token: %w", err)
	}
	alg := n.Alg
	if alg == "" {
		alg = keys.RS256
	}
	tok, err := w.signer.SignTyped(alg, TokenType, body)
	if err != nil {
		return "", fmt.Errorf("sign logout token: %w", err)
	}
	return tok, nil
}
