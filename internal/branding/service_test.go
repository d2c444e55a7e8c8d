package branding_test

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/png"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/inkpass/inkpass/internal/audit"
	"github.com/inkpass/inkpass/internal/branding"
	"github.com/inkpass/inkpass/internal/store"
)

// countingRepo is a real store with every read counted, so a test can say
// how many database reads page views cost.
type countingRepo struct {
	*store.DB
	versions, loads, logos atomic.Int64
}

func (c *countingRepo) BrandingVersion(ctx context.Context) (int64, error) {
	c.versions.Add(1)
	return c.DB.BrandingVersion(ctx)
}

func (c *countingRepo) LoadBranding(ctx context.Context) (branding.Record, error) {
	c.loads.Add(1)
	return c.DB.LoadBranding(ctx)
}

func (c *countingRepo) LoadLogo(ctx context.Context) (branding.Logo, error) {
	c.logos.Add(1)
	return c.DB.LoadLogo(ctx)
}

// clock is a test clock that moves only when told.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time          { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

func openDB(t *testing.T, path string) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

var defaults = branding.Defaults{Name: "Tattoo Studio", SupportContact: "help@studio.example"}

func newService(t *testing.T, db *store.DB, clk *clock) (*branding.Service, *countingRepo) {
	t.Helper()
	repo := &countingRepo{DB: db}
	svc, err := branding.New(repo, defaults, branding.Options{Recheck: 5 * time.Second, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	return svc, repo
}

func logoPNG(t *testing.T) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, image.NewGray(image.Rect(0, 0, 32, 32))); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestService_DefaultsWithNothingStored(t *testing.T) {
	db := openDB(t, filepath.Join(t.TempDir(), "inkpass.db"))
	svc, _ := newService(t, db, &clock{t: time.Unix(1e9, 0)})
	got := svc.Current(context.Background())
	if got.Name != "Tattoo Studio" || got.AccentColor != "" || got.SupportContact != "mailto:help@studio.example" || got.HasLogo {
		t.Fatalf("Current = %+v; want the config's defaults and no logo", got)
	}
	if got.Accent() != branding.DefaultAccent || got.LogoSrc() != "" || got.ThemeSrc() != "" {
		t.Fatalf("Current links: accent %s, logo %q, theme %q", got.Accent(), got.LogoSrc(), got.ThemeSrc())
	}
}

func TestNew_RefusesBadDefaults(t *testing.T) {
	db := openDB(t, filepath.Join(t.TempDir(), "inkpass.db"))
	_, err := branding.New(db, branding.Defaults{Name: "Lotus", AccentColor: "crimson", SupportContact: "http://x.example"}, branding.Options{})
	if err == nil || !strings.Contains(err.Error(), "branding.accent_color") || !strings.Contains(err.Error(), "branding.support_contact") {
		t.Fatalf("New = %v; want both bad options named", err)
	}
}

// A page view reads nothing from the database while the cache is fresh,
// and one small read (the version) when it is due a check.
func TestService_CurrentCostsNoReadsWhileFresh(t *testing.T) {
	db := openDB(t, filepath.Join(t.TempDir(), "inkpass.db"))
	clk := &clock{t: time.Unix(1e9, 0)}
	svc, repo := newService(t, db, clk)
	ctx := context.Background()
	for range 1000 {
		svc.Current(ctx)
	}
	if v, l := repo.versions.Load(), repo.loads.Load(); v != 0 || l != 1 {
		t.Fatalf("1000 page views: %d version reads and %d loads; want 0 and 1", v, l)
	}
	clk.Advance(6 * time.Second)
	for range 1000 {
		svc.Current(ctx)
	}
	if v, l := repo.versions.Load(), repo.loads.Load(); v != 1 || l != 1 {
		t.Fatalf("after the recheck interval: %d version reads and %d loads; want 1 and 1 (nothing changed)", v, l)
	}
}

// Concurrent page views on a cold cache load the row once.
func TestService_CurrentLoadsOnceUnderConcurrency(t *testing.T) {
	db := openDB(t, filepath.Join(t.TempDir(), "inkpass.db"))
	svc, repo := newService(t, db, &clock{t: time.Unix(1e9, 0)})
	var wg sync.WaitGroup
	for range 32 {
		wg.Go(func() {
			for range 50 {
				if got := svc.Current(context.Background()); got.Name != "Tattoo Studio" {
					t.Errorf("Current.Name = %q", got.Name)
					return
				}
			}
		})
	}
	wg.Wait()
	if l := repo.loads.Load(); l != 1 {
		t.Fatalf("%d loads; want 1", l)
	}
}

func TestService_UpdateShowsAtOnceAndIsAudited(t *testing.T) {
	db := openDB(t, filepath.Join(t.TempDir(), "inkpass.db"))
	clk := &clock{t: time.Unix(1e9, 0)}
	svc, repo := newService(t, db, clk)
	ctx := context.Background()
	before := svc.Current(ctx)

	err := svc.Update(ctx, branding.Settings{Name: "Lotus Tattoo", AccentColor: "#1E90FF", SupportContact: "https://lotus.example/help"}, "ana")
	if err != nil {
		t.Fatal(err)
	}
	got := svc.Current(ctx) // no clock move: the change must not wait for the recheck
	if got.Name != "Lotus Tattoo" || got.AccentColor != "#1e90ff" || got.SupportContact != "https://lotus.example/help" {
		t.Fatalf("Current after Update = %+v", got)
	}
	if got.Version <= before.Version || got.UpdatedBy != "ana" || got.UpdatedAt.IsZero() {
		t.Fatalf("Current after Update: version %d (was %d), by %q at %v", got.Version, before.Version, got.UpdatedBy, got.UpdatedAt)
	}
	if l := repo.loads.Load(); l > 2 {
		t.Fatalf("%d loads; the update itself returns the row, want at most 2", l)
	}

	// Back to the config's name and contact: "" means the default.
	if err := svc.Update(ctx, branding.Settings{AccentColor: "#1e90ff"}, "ben"); err != nil {
		t.Fatal(err)
	}
	got = svc.Current(ctx)
	if got.Name != "Tattoo Studio" || got.SupportContact != "mailto:help@studio.example" || got.AccentColor != "#1e90ff" {
		t.Fatalf("Current after clearing = %+v; want the defaults back with the accent kept", got)
	}
	stored, err := svc.Stored(ctx)
	if err != nil || stored.Name != "" || stored.AccentColor != "#1e90ff" {
		t.Fatalf("Stored = %+v, %v; want the overrides only", stored, err)
	}

	events, err := db.AuditEvents(ctx, audit.Filter{Kind: audit.BrandingChanged})
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != 2 {
		t.Fatalf("%d branding_changed events; want 2: %+v", len(events), events)
	}
	if events[1].Username != "ana" || !strings.Contains(events[1].Detail, "name Lotus Tattoo") || !strings.Contains(events[1].Detail, "accent_color #1e90ff") {
		t.Errorf("first event = %+v; want ana and what changed", events[1])
	}
	if events[0].Username != "ben" || !strings.Contains(events[0].Detail, "name default") || strings.Contains(events[0].Detail, "accent_color") {
		t.Errorf("second event = %+v; want ben, the name back to default and the accent unchanged", events[0])
	}
}

func TestService_UpdateRefusesBadValuesAndStoresNothing(t *testing.T) {
	db := openDB(t, filepath.Join(t.TempDir(), "inkpass.db"))
	svc, _ := newService(t, db, &clock{t: time.Unix(1e9, 0)})
	ctx := context.Background()
	err := svc.Update(ctx, branding.Settings{Name: "Lotus", AccentColor: "#fff", SupportContact: "javascript:alert(1)"}, "ana")
	var ve *branding.ValidationError
	if !errors.As(err, &ve) || len(ve.Fields) != 2 {
		t.Fatalf("Update = %v; want a ValidationError on accent_color and support_contact", err)
	}
	if got := svc.Current(ctx); got.Name != "Tattoo Studio" || got.Version != 0 {
		t.Fatalf("Current after a refused update = %+v; want nothing stored", got)
	}
	if err := svc.Update(ctx, branding.Settings{Name: "Lotus"}, " "); err == nil {
		t.Fatal("Update without an actor succeeded")
	}
	events, err := db.AuditEvents(ctx, audit.Filter{Kind: audit.BrandingChanged})
	if err != nil || len(events) != 0 {
		t.Fatalf("events = %+v, %v; want none", events, err)
	}
}

// Another process (a second handle on the same file, as the CLI or a second
// server would be) changes the settings: this one shows the change once its
// recheck interval has passed, with one version read and one load.
func TestService_SeesAnotherProcessChange(t *testing.T) {
	path := filepath.Join(t.TempDir(), "inkpass.db")
	clk := &clock{t: time.Unix(1e9, 0)}
	svc, repo := newService(t, openDB(t, path), clk)
	other, _ := newService(t, openDB(t, path), clk)
	ctx := context.Background()
	if got := svc.Current(ctx); got.Name != "Tattoo Studio" {
		t.Fatalf("Current = %+v", got)
	}
	if err := other.Update(ctx, branding.Settings{Name: "Lotus Tattoo"}, "ana"); err != nil {
		t.Fatal(err)
	}
	if err := other.SetLogo(ctx, logoPNG(t), "ana"); err != nil {
		t.Fatal(err)
	}
	clk.Advance(6 * time.Second)
	got := svc.Current(ctx)
	if got.Name != "Lotus Tattoo" || !got.HasLogo || got.LogoVersion != 1 {
		t.Fatalf("Current after another process's change = %+v; want the new name and the logo", got)
	}
	if v, l := repo.versions.Load(), repo.loads.Load(); v != 1 || l != 2 {
		t.Fatalf("%d version reads and %d loads; want 1 and 2", v, l)
	}
	l, err := svc.Logo(ctx)
	if err != nil || l.ContentType != branding.TypePNG || l.Version != 1 {
		t.Fatalf("Logo = %s v%d, %v", l.ContentType, l.Version, err)
	}
}

func TestService_Logo(t *testing.T) {
	db := openDB(t, filepath.Join(t.TempDir(), "inkpass.db"))
	svc, repo := newService(t, db, &clock{t: time.Unix(1e9, 0)})
	ctx := context.Background()
	if _, err := svc.Logo(ctx); !errors.Is(err, branding.ErrNoLogo) {
		t.Fatalf("Logo with none = %v; want ErrNoLogo", err)
	}
	if err := svc.SetLogo(ctx, []byte(`<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`), "ana"); err == nil {
		t.Fatal("SetLogo took an SVG")
	}
	if got := svc.Current(ctx); got.HasLogo {
		t.Fatal("a refused logo shows")
	}
	data := logoPNG(t)
	if err := svc.SetLogo(ctx, data, "ana"); err != nil {
		t.Fatal(err)
	}
	cur := svc.Current(ctx)
	if !cur.HasLogo || cur.LogoSrc() != "/branding/logo?v=1" {
		t.Fatalf("after SetLogo: HasLogo %v, LogoSrc %q", cur.HasLogo, cur.LogoSrc())
	}
	for range 10 {
		l, err := svc.Logo(ctx)
		if err != nil || !bytes.Equal(l.Data, data) || l.ContentType != branding.TypePNG || l.Width != 32 {
			t.Fatalf("Logo = %s %d×%d, %v", l.ContentType, l.Width, l.Height, err)
		}
	}
	if n := repo.logos.Load(); n != 1 {
		t.Fatalf("10 logo requests read the blob %d times; want 1", n)
	}
	if err := svc.SetLogo(ctx, data, "ana"); err != nil {
		t.Fatal(err)
	}
	if cur := svc.Current(ctx); cur.LogoSrc() != "/branding/logo?v=2" {
		t.Fatalf("a new upload's LogoSrc = %q; want v=2", cur.LogoSrc())
	}
	if err := svc.RemoveLogo(ctx, "ben"); err != nil {
		t.Fatal(err)
	}
	if cur := svc.Current(ctx); cur.HasLogo || cur.LogoSrc() != "" {
		t.Fatalf("after RemoveLogo: %+v", cur)
	}
	if _, err := svc.Logo(ctx); !errors.Is(err, branding.ErrNoLogo) {
		t.Fatalf("Logo after removal = %v; want ErrNoLogo", err)
	}
	if err := svc.RemoveLogo(ctx, "ben"); err != nil {
		t.Fatalf("removing no logo: %v", err)
	}
	events, err := db.AuditEvents(ctx, audit.Filter{Kind: audit.BrandingChanged})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range events {
		got = append(got, e.Username+": "+e.Detail)
	}
	want := []string{"ben: logo removed", "ana: logo set: image/png 32×32", "ana: logo set: image/png 32×32"}
	if len(got) != len(want) {
		t.Fatalf("events = %q; want %q", got, want)
	}
	for i := range want {
		if !strings.HasPrefix(got[i], want[i]) {
			t.Fatalf("events = %q; want %q", got, want)
		}
	}
}

// BenchmarkService_Current is what every page view pays for the look: no
// database read while the cache is fresh (the count is reported).
func BenchmarkService_Current(b *testing.B) {
	db, err := store.Open(context.Background(), filepath.Join(b.TempDir(), "inkpass.db"), store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	repo := &countingRepo{DB: db}
	svc, err := branding.New(repo, defaults, branding.Options{})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	svc.Current(ctx)
	b.ReportAllocs()
	for b.Loop() {
		svc.Current(ctx)
	}
	b.ReportMetric(float64(repo.versions.Load()+repo.loads.Load()), "db-reads")
}

// gateRepo holds one LoadBranding, once armed, after it has read the row
// and before it returns it: a reload that read just before an Update.
type gateRepo struct {
	*store.DB
	armed  atomic.Bool
	loaded chan struct{}
	gate   chan struct{}
}

func (g *gateRepo) LoadBranding(ctx context.Context) (branding.Record, error) {
	r, err := g.DB.LoadBranding(ctx)
	if g.armed.CompareAndSwap(true, false) {
		close(g.loaded)
		<-g.gate
	}
	return r, err
}

// A reload that read the row before this process's Update committed must
// not put the older row back in the cache after it.
func TestService_SlowReloadDoesNotUndoAnUpdate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "inkpass.db")
	clk := &clock{t: time.Unix(1e9, 0)}
	repo := &gateRepo{DB: openDB(t, path), loaded: make(chan struct{}), gate: make(chan struct{})}
	svc, err := branding.New(repo, defaults, branding.Options{Recheck: 5 * time.Second, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	other, _ := newService(t, openDB(t, path), clk)
	ctx := context.Background()
	svc.Current(ctx)
	if err := other.Update(ctx, branding.Settings{Name: "From the other process"}, "ben"); err != nil {
		t.Fatal(err)
	}
	clk.Advance(6 * time.Second)
	repo.armed.Store(true)
	done := make(chan branding.Settings)
	go func() { done <- svc.Current(ctx) }()
	<-repo.loaded // the reload has read version 1
	if err := svc.Update(ctx, branding.Settings{Name: "From this process"}, "ana"); err != nil {
		t.Fatal(err)
	}
	close(repo.gate)
	<-done
	if got := svc.Current(ctx); got.Name != "From this process" {
		t.Fatalf("Current = %q (version %d); the slow reload put the older row back", got.Name, got.Version)
	}
}
