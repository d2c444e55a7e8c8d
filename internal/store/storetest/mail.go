package storetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/inkpass/inkpass/internal/mail"
)

// MailOutbox is the email queue: Enqueue's insert (mail.Queue) and the
// worker's claims (mail.Spool), on the same data.
type MailOutbox interface {
	mail.Queue
	mail.Spool
}

func message(i int) mail.Message {
	return mail.Message{To: fmt.Sprintf("st%d@example.com", i), Subject: fmt.Sprintf("subject %d", i),
		Text: "text with a single-use link", HTML: "<p>html</p>", Kind: "invitation"}
}

func (e *env) queueMail(n int) {
	e.t.Helper()
	for i := range n {
		if err := e.Mail.QueueMail(e.ctx, message(i)); err != nil {
			e.t.Fatalf("QueueMail: %v", err)
		}
		// One second apart, so "oldest first" is observable.
		e.clock.Advance(time.Second)
	}
}

func (e *env) claimMail(limit int, lease time.Duration) []mail.Pending {
	e.t.Helper()
	ps, err := e.Mail.ClaimMail(e.ctx, limit, lease)
	if err != nil {
		e.t.Fatalf("ClaimMail: %v", err)
	}
	return ps
}

func runMail(t *testing.T, open Opener) {
	t.Run("QueueMail stores the message whole; ClaimMail returns it oldest first with its first attempt", func(t *testing.T) {
		e := newEnv(t, open)
		t0 := e.clock.Now()
		e.queueMail(2)
		ps := e.claimMail(1, time.Minute)
		if len(ps) != 1 || ps[0].Message != message(0) || ps[0].Attempt != 1 || ps[0].Claim == "" || !ps[0].CreatedAt.Equal(t0) {
			t.Fatalf("claimed %+v, want message 0, attempt 1, created %v", ps, t0)
		}
		if ps := e.claimMail(10, time.Minute); len(ps) != 1 || ps[0].Message != message(1) {
			t.Errorf("second claim %+v, want message 1 only", ps)
		}
		if ps := e.claimMail(10, time.Minute); len(ps) != 0 {
			t.Errorf("a claimed message was claimed again within its lease: %+v", ps)
		}
	})
	t.Run("a lease that ran out lets another worker claim; the first can no longer settle", func(t *testing.T) {
		e := newEnv(t, open)
		e.queueMail(1)
		first := e.claimMail(1, time.Minute)
		e.clock.Advance(time.Minute)
		second := e.claimMail(1, time.Minute)
		if len(first) != 1 || len(second) != 1 || second[0].ID != first[0].ID || second[0].Attempt != 2 || second[0].Claim == first[0].Claim {
			t.Fatalf("claims %+v then %+v: want the same message, attempt 2, a new claim", first, second)
		}
		if err := e.Mail.SettleMail(e.ctx, first[0], mail.Settlement{State: mail.Sent}); !errors.Is(err, mail.ErrClaimLost) {
			t.Errorf("settling with a lost claim = %v, want ErrClaimLost", err)
		}
		if err := e.Mail.SettleMail(e.ctx, second[0], mail.Settlement{State: mail.Sent}); err != nil {
			t.Fatalf("SettleMail: %v", err)
		}
		if err := e.Mail.SettleMail(e.ctx, second[0], mail.Settlement{State: mail.Failed}); !errors.Is(err, mail.ErrClaimLost) {
			t.Errorf("settling a sent message again = %v, want ErrClaimLost", err)
		}
		e.clock.Advance(time.Hour)
		if ps := e.claimMail(10, time.Minute); len(ps) != 0 {
			t.Errorf("a sent message was claimed again: %+v", ps)
		}
	})
	t.Run("Retry frees the claim and makes the message due at RetryAt; Failed ends it", func(t *testing.T) {
		e := newEnv(t, open)
		e.queueMail(1)
		p := e.claimMail(1, time.Hour)[0]
		at := e.clock.Now().Add(5 * time.Minute)
		if err := e.Mail.SettleMail(e.ctx, p, mail.Settlement{State: mail.Retry, RetryAt: at, Reason: "451 later"}); err != nil {
			t.Fatal(err)
		}
		e.clock.Advance(5*time.Minute - time.Second)
		if ps := e.claimMail(1, time.Minute); len(ps) != 0 {
			t.Fatalf("claimed before RetryAt: %+v", ps)
		}
		e.clock.Advance(time.Second)
		ps := e.claimMail(1, time.Minute)
		if len(ps) != 1 || ps[0].Attempt != 2 {
			t.Fatalf("at RetryAt claimed %+v, want attempt 2", ps)
		}
		if err := e.Mail.SettleMail(e.ctx, ps[0], mail.Settlement{State: mail.Failed, Reason: "451 later"}); err != nil {
			t.Fatal(err)
		}
		e.clock.Advance(24 * time.Hour)
		if ps := e.claimMail(1, time.Minute); len(ps) != 0 {
			t.Errorf("a failed message was claimed again: %+v", ps)
		}
	})
	t.Run("concurrent claims never hand one message to two workers", func(t *testing.T) {
		e := newEnv(t, open)
		const n = 6
		e.queueMail(n)
		var mu sync.Mutex
		seen := map[int64]int{}
		var wg sync.WaitGroup
		for range 2 * n {
			wg.Go(func() {
				ps, err := e.Mail.ClaimMail(e.ctx, 1, time.Hour)
				if err != nil {
					t.Errorf("ClaimMail: %v", err)
					return
				}
				mu.Lock()
				defer mu.Unlock()
				for _, p := range ps {
					seen[p.ID]++
				}
			})
		}
		wg.Wait()
		total := 0
		for id, c := range seen {
			total += c
			if c != 1 {
				t.Errorf("message %d claimed %d times", id, c)
			}
		}
		if total != n {
			t.Errorf("%d claims of %d messages, want each claimed once", total, n)
		}
	})
	t.Run("PruneMail deletes messages done before the cut, never a queued one", func(t *testing.T) {
		e := newEnv(t, open)
		e.queueMail(3)
		ps := e.claimMail(2, time.Minute)
		if len(ps) != 2 {
			t.Fatalf("claimed %d", len(ps))
		}
		done := e.clock.Now()
		if err := e.Mail.SettleMail(e.ctx, ps[0], mail.Settlement{State: mail.Sent}); err != nil {
			t.Fatal(err)
		}
		if err := e.Mail.SettleMail(e.ctx, ps[1], mail.Settlement{State: mail.Failed, Reason: "550"}); err != nil {
			t.Fatal(err)
		}
		if n, err := e.Mail.PruneMail(e.ctx, done); err != nil || n != 0 {
			t.Errorf("PruneMail(done) = %d, %v; want 0 (done at, not before)", n, err)
		}
		if n, err := e.Mail.PruneMail(e.ctx, done.Add(365*24*time.Hour)); err != nil || n != 2 {
			t.Errorf("PruneMail(later) = %d, %v; want the 2 done", n, err)
		}
		if ps := e.claimMail(10, time.Minute); len(ps) != 1 || ps[0].Message != message(2) {
			t.Errorf("after pruning, the queued message is %+v", ps)
		}
	})
}
