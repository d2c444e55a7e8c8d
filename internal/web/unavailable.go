package web

import (
	"errors"
	"net/http"
	"strconv"
	"time"
)

// retryable is a failure that passes by itself: the store's ErrBusy, a write
// that gave up on a database another process (the studio's app, a backup)
// kept locked for longer than the write budget, or its ErrFull, a write
// refused for lack of disk space (the store logs that one as an error).
type retryable interface{ RetryAfter() time.Duration }

// serverError answers a failure of inkpass's own, logging it once. A failure
// that passes by itself is not a fault to page anyone about: the browser gets
// 503, Retry-After and a page that says to try again, not "Something went
// wrong".
func (s *server) serverError(w http.ResponseWriter, r *http.Request, what string, err error) {
	var busy retryable
	if errors.As(err, &busy) {
		s.log.WarnContext(r.Context(), what+": temporarily unavailable", "err", err)
		s.busyPage(w, r, busy.RetryAfter())
		return
	}
	s.log.ErrorContext(r.Context(), what, "err", err)
	s.errorPage(w, r, http.StatusInternalServerError, "", "")
}

// busyPage is the 503 page for a database that stayed locked.
func (s *server) busyPage(w http.ResponseWriter, r *http.Request, retryAfter time.Duration) {
	secs := max(1, int((retryAfter+time.Second-1)/time.Second))
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	s.errorPage(w, r, http.StatusServiceUnavailable, "inkpass is busy",
		"inkpass is busy, try again in a moment. Nothing was changed.")
}
