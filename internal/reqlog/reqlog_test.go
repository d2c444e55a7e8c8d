package reqlog_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/inkpass/inkpass/internal/reqlog"
)

func TestEvent(t *testing.T) {
	var out bytes.Buffer
	log := slog.New(slog.NewTextHandler(&out, nil))

	t.Run("on a request's line", func(t *testing.T) {
		out.Reset()
		ctx, line := reqlog.Start(context.Background(), "0123456789abcdef", "(unmatched)")
		reqlog.Event(ctx, log, "token issued", slog.String("client_id", "reports"))
		if out.Len() != 0 {
			t.Errorf("logged a line of its own: %q", out.String())
		}
		var got []string
		for _, a := range line.Attrs() {
			got = append(got, a.String())
		}
		if want := "event=token issued client_id=reports"; strings.Join(got, " ") != want {
			t.Errorf("line attrs = %q, want %q", got, want)
		}
		if reqlog.From(ctx) != line || line.ID != "0123456789abcdef" {
			t.Error("From does not return the started line")
		}
	})

	t.Run("outside a request", func(t *testing.T) {
		out.Reset()
		reqlog.Event(context.Background(), log, "token issued", slog.String("client_id", "reports"))
		if s := out.String(); !strings.Contains(s, `msg="token issued" client_id=reports`) {
			t.Errorf("logged %q, want a line of its own", s)
		}
	})
}
