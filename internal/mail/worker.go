package mail

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/inkpass/inkpass/internal/audit"
)

// Pending is one queued message a worker has claimed.
type Pending struct {
	ID int64
	// Claim is the claim's own token: settling the message needs it, so a
	// worker whose lease ran out cannot settle what another has claimed.
	Claim   string
	Message Message
	// Attempt counts this delivery: 1 for the first.
	Attempt   int
	CreatedAt time.Time
}

// State is what became of an attempt.
type State string

// The states a claimed message is settled in.
const (
	Sent   State = "sent"
	Retry  State = "queued"
	Failed State = "failed"
)

// Settlement is the outcome of one attempt.
type Settlement struct {
	State State
	// RetryAt is when a Retry is due again.
	RetryAt time.Time
	// Reason is the failure in words (the server's reply), never a body.
	Reason string
}

// ErrClaimLost is SettleMail's answer when the message's claim is no longer
// the caller's: its lease ran out and another worker claimed it (or settled
// it). Nothing was changed.
var ErrClaimLost = errors.New("the message's claim has passed to another worker")

// Spool is the store's side of the worker; store.DB implements it, and the
// conformance suite (internal/store/storetest) holds every backend to this
// contract.
//
// ClaimMail returns up to limit queued messages that are due (their next
// attempt has come) and not under another claim's lease, oldest due first,
// and in the same atomic statement gives each a new claim token, a lease
// until now+lease, and counts the attempt. Two workers, in one process or
// on two servers over one database, never hold the same message while a
// lease runs; a worker that dies mid-delivery leaves the message to be
// claimed again once its lease has passed. Finding nothing due writes
// nothing.
//
// SettleMail records the outcome of p's attempt, if p.Claim is still the
// message's claim (ErrClaimLost otherwise, changing nothing): Sent and
// Failed end the message (its bodies, which carry single-use links, are
// blanked; the row stays as a record until PruneMail); Retry frees the
// claim and makes it due at RetryAt.
//
// PruneMail deletes the messages sent or given up before `before`, never a
// queued one, and returns how many.
type Spool interface {
	ClaimMail(ctx context.Context, limit int, lease time.Duration) ([]Pending, error)
	SettleMail(ctx context.Context, p Pending, s Settlement) error
	PruneMail(ctx context.Context, before time.Time) (int64, error)
}

// Transport delivers one message now; *Sender implements it. A
// *PermanentError means a retry would not help.
type Transport interface {
	Send(ctx context.Context, m Message) error
}

// WorkerOptions configure a Worker; zero fields take the defaults below.
type WorkerOptions struct {
	Now    func() time.Time
	Logger *slog.Logger
	// Audit records every message given up (audit.MailFailed).
	Audit audit.Recorder
	// Wake is signalled when this process queued a message, so it goes out
	// at once; messages queued by another process (the CLI) wait for Poll.
	Wake <-chan struct{}
	// Poll is how often the queue is checked without a wake-up (15 s).
	Poll time.Duration
	// Backoff is the wait after each failed attempt; a message is tried
	// len(Backoff)+1 times at most (DefaultBackoff: six attempts over
	// about nine hours).
	Backoff []time.Duration
	// MaxAge gives a message up once its next attempt would come later than
	// this after it was queued (24 h): the links inside expire, and a
	// reset link arriving a day late helps nobody.
	MaxAge time.Duration
	// Lease is how long a claimed message is this worker's (5 min): longer
	// than one delivery can take, since another server sends it again after.
	Lease time.Duration
	// Keep is how long sent and given-up messages stay as a record (7 days).
	Keep time.Duration
}

// DefaultBackoff is WorkerOptions.Backoff's default.
var DefaultBackoff = []time.Duration{time.Minute, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour, 6 * time.Hour}

// Worker delivers queued messages until its context ends.
type Worker struct {
	spool Spool
	send  Transport
	opts  WorkerOptions
	log   *slog.Logger
}

// NewWorker returns a worker; call Run (or Drain).
func NewWorker(spool Spool, send Transport, opts WorkerOptions) *Worker {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Audit == nil {
		opts.Audit = audit.Discard{}
	}
	if opts.Poll <= 0 {
		opts.Poll = 15 * time.Second
	}
	if opts.Backoff == nil {
		opts.Backoff = DefaultBackoff
	}
	if opts.MaxAge <= 0 {
		opts.MaxAge = 24 * time.Hour
	}
	if opts.Lease <= 0 {
		opts.Lease = 5 * time.Minute
	}
	if opts.Keep <= 0 {
		opts.Keep = 7 * 24 * time.Hour
	}
	return &Worker{spool: spool, send: send, opts: opts, log: opts.Logger}
}

// pruneEvery is how often Run deletes old sent and given-up messages.
const pruneEvery = time.Hour

// Run delivers messages until ctx ends. A delivery in flight when ctx ends
// is finished and settled (bounded by the lease), so a shutdown neither cuts
// a message in half nor leaves it claimed; then Run returns.
func (w *Worker) Run(ctx context.Context) {
	timer := time.NewTimer(0)
	defer timer.Stop()
	var pruned time.Time
	for {
		next := w.Drain(ctx)
		if now := w.opts.Now(); ctx.Err() == nil && now.Sub(pruned) >= pruneEvery {
			w.prune(ctx)
			pruned = now
		}
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

// Drain delivers every message due now, one claim at a time (so that a
// shutdown leaves no message claimed but unsent), and returns the earliest
// retry it scheduled (zero if none).
func (w *Worker) Drain(ctx context.Context) time.Time {
	var soonest time.Time
	for ctx.Err() == nil {
		ps, err := w.spool.ClaimMail(ctx, 1, w.opts.Lease)
		if err != nil {
			if ctx.Err() == nil {
				w.log.Error("email: read the outbox", "err", err)
			}
			break
		}
		if len(ps) == 0 {
			break
		}
		for _, p := range ps {
			if at := w.deliver(ctx, p); !at.IsZero() && (soonest.IsZero() || at.Before(soonest)) {
				soonest = at
			}
		}
	}
	return soonest
}

// deliver sends one claimed message and settles it; it returns when the
// message is due again, or zero when it is done with.
func (w *Worker) deliver(ctx context.Context, p Pending) time.Time {
	log := w.log.With("mail_id", p.ID, "kind", p.Message.Kind, "attempt", p.Attempt)
	// Not cancelled by a shutdown: the lease bounds it, and a message half
	// sent would be sent again by whoever claims it next.
	sendCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), w.opts.Lease/2)
	err := w.send.Send(sendCtx, p.Message)
	cancel()
	settleCtx := context.WithoutCancel(ctx)
	if err == nil {
		log.Info("email sent")
		w.settle(settleCtx, log, p, Settlement{State: Sent})
		return time.Time{}
	}
	reason := oneLine(err.Error(), 300)
	now := w.opts.Now()
	var perm *PermanentError
	var retryAt time.Time
	if p.Attempt <= len(w.opts.Backoff) {
		retryAt = now.Add(w.opts.Backoff[p.Attempt-1])
	}
	if errors.As(err, &perm) || retryAt.IsZero() || retryAt.Sub(p.CreatedAt) > w.opts.MaxAge {
		log.Warn("email failed; giving up", "err", reason)
		if w.settle(settleCtx, log, p, Settlement{State: Failed, Reason: reason}) {
			why := fmt.Sprintf("after %d attempts", p.Attempt)
			if perm != nil {
				why = "refused for good"
			}
			e := audit.Event{Kind: audit.MailFailed,
				Detail: oneLine(fmt.Sprintf("%s email to %s given up %s: %s", p.Message.Kind, p.Message.To, why, reason), 500)}
			if err := w.opts.Audit.Record(settleCtx, e); err != nil {
				log.Error("email: record the failure in the audit trail", "err", err)
			}
		}
		return time.Time{}
	}
	log.Warn("email failed; will retry", "err", reason, "retry_at", retryAt)
	if !w.settle(settleCtx, log, p, Settlement{State: Retry, RetryAt: retryAt, Reason: reason}) {
		return time.Time{}
	}
	return retryAt
}

// settle records an outcome and reports whether it was recorded.
func (w *Worker) settle(ctx context.Context, log *slog.Logger, p Pending, s Settlement) bool {
	err := w.spool.SettleMail(ctx, p, s)
	switch {
	case errors.Is(err, ErrClaimLost):
		log.Warn("email: the claim ran out before the attempt ended; another worker has the message (it may arrive twice)", "state", string(s.State))
		return false
	case err != nil:
		// The lease brings the message back, to be sent again.
		log.Error("email: record the attempt", "err", err, "state", string(s.State))
		return false
	}
	return true
}

func (w *Worker) prune(ctx context.Context) {
	n, err := w.spool.PruneMail(ctx, w.opts.Now().Add(-w.opts.Keep))
	if err != nil {
		if ctx.Err() == nil {
			w.log.Error("email: prune old messages", "err", err)
		}
		return
	}
	if n > 0 {
		w.log.Info("email: pruned old messages", "count", n)
	}
}

// oneLine folds s onto one line of at most max bytes.
func oneLine(s string, limit int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > limit {
		s = s[:limit] + "…"
	}
	return s
}
