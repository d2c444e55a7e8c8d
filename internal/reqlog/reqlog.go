// Package reqlog is the one log line each HTTP request ends with. The request
// log middleware starts it; handlers deeper down (the OIDC provider) add what
// happened to it, so that a token grant is one line with its route, status,
// duration and outcome rather than two lines to be joined by request id.
package reqlog

import (
	"context"
	"log/slog"
)

// Line is one request's log line while the request is served. A request is
// served on one goroutine, so a Line needs no lock.
type Line struct {
	// ID is the request id, also sent as X-Request-Id.
	ID string
	// Route is the matched route's pattern, never the path itself (which
	// may hold codes or tokens in its query).
	Route string
	attrs []slog.Attr
}

type key struct{}

// Start attaches a new line to ctx.
func Start(ctx context.Context, id, route string) (context.Context, *Line) {
	l := &Line{ID: id, Route: route}
	return context.WithValue(ctx, key{}, l), l
}

// From returns the request's line, or nil outside a logged request.
func From(ctx context.Context) *Line {
	l, _ := ctx.Value(key{}).(*Line)
	return l
}

// Add appends attributes to the line.
func (l *Line) Add(attrs ...slog.Attr) { l.attrs = append(l.attrs, attrs...) }

// Attrs are the attributes added so far.
func (l *Line) Attrs() []slog.Attr { return l.attrs }

// Event records what happened on the request's line as an "event" attribute
// and its attributes; outside a logged request (a test calling a handler
// directly) it logs a line of its own at info level instead.
func Event(ctx context.Context, log *slog.Logger, msg string, attrs ...slog.Attr) {
	if l := From(ctx); l != nil {
		l.Add(slog.String("event", msg))
		l.Add(attrs...)
		return
	}
	log.LogAttrs(ctx, slog.LevelInfo, msg, attrs...)
}
