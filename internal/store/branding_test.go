package store_test

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/png"
	"path/filepath"
	"testing"

	"github.com/inkpass/inkpass/internal/audit"
	"github.com/inkpass/inkpass/internal/branding"
	"github.com/inkpass/inkpass/internal/store"
)

func TestBranding_Store(t *testing.T) {
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "inkpass.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()

	rec, err := db.LoadBranding(ctx)
	if err != nil || rec != (branding.Record{}) {
		t.Fatalf("a fresh database's branding = %+v, %v; want the empty row", rec, err)
	}
	if _, err := db.LoadLogo(ctx); !errors.Is(err, branding.ErrNoLogo) {
		t.Fatalf("LoadLogo on a fresh database = %v; want ErrNoLogo", err)
	}

	t.Run("a save bumps the version and audits in the same transaction", func(t *testing.T) {
		got, err := db.SaveBranding(ctx, branding.Record{Name: "Lotus", AccentColor: "#1e90ff", SupportContact: "mailto:h@l.example"}, "ana", "settings: name Lotus")
		if err != nil {
			t.Fatal(err)
		}
		if got.Name != "Lotus" || got.Version != 1 || got.UpdatedBy != "ana" || got.UpdatedAt.IsZero() || got.HasLogo {
			t.Fatalf("SaveBranding = %+v", got)
		}
		if v, err := db.BrandingVersion(ctx); err != nil || v != 1 {
			t.Fatalf("BrandingVersion = %d, %v; want 1", v, err)
		}
		events, err := db.AuditEvents(ctx, audit.Filter{Kind: audit.BrandingChanged})
		if err != nil || len(events) != 1 || events[0].Username != "ana" || events[0].Detail != "settings: name Lotus" || events[0].UserID != 0 {
			t.Fatalf("audit = %+v, %v", events, err)
		}
	})

	var buf bytes.Buffer
	if err := png.Encode(&buf, image.NewGray(image.Rect(0, 0, 20, 20))); err != nil {
		t.Fatal(err)
	}
	t.Run("a logo is stored whole with its version, and removed once", func(t *testing.T) {
		got, err := db.SaveLogo(ctx, branding.Logo{ContentType: branding.TypePNG, Data: buf.Bytes(), Width: 20, Height: 20}, "ana", "logo set")
		if err != nil {
			t.Fatal(err)
		}
		if !got.HasLogo || got.LogoVersion != 1 || got.Version != 2 || got.Name != "Lotus" {
			t.Fatalf("SaveLogo = %+v", got)
		}
		l, err := db.LoadLogo(ctx)
		if err != nil || l.Version != 1 || !bytes.Equal(l.Data, buf.Bytes()) || l.ContentType != branding.TypePNG {
			t.Fatalf("LoadLogo = %s v%d, %v", l.ContentType, l.Version, err)
		}
		got, err = db.DeleteLogo(ctx, "ben")
		if err != nil || got.HasLogo || got.LogoVersion != 2 || got.Version != 3 {
			t.Fatalf("DeleteLogo = %+v, %v", got, err)
		}
		got, err = db.DeleteLogo(ctx, "ben")
		if err != nil || got.Version != 3 {
			t.Fatalf("DeleteLogo with none = %+v, %v; want nothing changed", got, err)
		}
		events, _ := db.AuditEvents(ctx, audit.Filter{Kind: audit.BrandingChanged})
		if len(events) != 3 {
			t.Fatalf("%d events; want 3 (save, logo set, logo removed once)", len(events))
		}
	})

	t.Run("the table refuses a type the checks would never pass, and nothing is half-written", func(t *testing.T) {
		_, err := db.SaveLogo(ctx, branding.Logo{ContentType: "image/svg+xml", Data: []byte("<svg/>"), Width: 20, Height: 20}, "mallory", "logo set")
		if err == nil {
			t.Fatal("the store took an SVG")
		}
		rec, _ := db.LoadBranding(ctx)
		if rec.Version != 3 || rec.HasLogo {
			t.Fatalf("after a refused logo the row is %+v; want version 3 and no logo", rec)
		}
		events, _ := db.AuditEvents(ctx, audit.Filter{Kind: audit.BrandingChanged})
		if len(events) != 3 {
			t.Fatalf("%d events after a refused logo; want 3", len(events))
		}
	})
}
