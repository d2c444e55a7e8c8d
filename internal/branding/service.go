package branding

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Record is the stored row: the admin's overrides ("" for "use the
// default") and the versions.
type Record struct {
	Name, AccentColor, SupportContact string
	// Version is bumped by every change, LogoVersion by every logo upload
	// or removal; HasLogo says a logo is stored.
	Version, LogoVersion int64
	HasLogo              bool
	UpdatedAt            time.Time
	UpdatedBy            string
}

// Repo is the storage the Service needs; internal/store implements it.
// Every write runs in one transaction with its audit event
// (audit.BrandingChanged, the actor as the event's username, detail in
// words), and bumps Version.
type Repo interface {
	// BrandingVersion is the stored Version: the cheap read that tells a
	// process whether another one changed the settings.
	BrandingVersion(ctx context.Context) (int64, error)
	LoadBranding(ctx context.Context) (Record, error)
	// SaveBranding stores the three overrides of r and returns the row.
	SaveBranding(ctx context.Context, r Record, actor, detail string) (Record, error)
	// SaveLogo stores l (replacing any logo), bumps LogoVersion, and
	// returns the row.
	SaveLogo(ctx context.Context, l Logo, actor, detail string) (Record, error)
	// DeleteLogo removes the logo and bumps LogoVersion; with no logo it
	// changes and audits nothing and returns the row as it is.
	DeleteLogo(ctx context.Context, actor string) (Record, error)
	// LoadLogo returns the stored logo with its version, or ErrNoLogo.
	LoadLogo(ctx context.Context) (Logo, error)
}

// Defaults are the config file's values, in effect where the database sets
// nothing.
type Defaults struct {
	Name           string // studio_name; required
	AccentColor    string // branding.accent_color
	SupportContact string // branding.support_contact
	LogoURL        string // logo_url
}

// Options tune a Service; zero values take the defaults.
type Options struct {
	// Recheck is how long Current trusts its cache before it asks the
	// database (one small read) whether another process changed the
	// settings; DefaultRecheck when zero. Changes made through this
	// Service show at once.
	Recheck time.Duration
	Now     func() time.Time
	Logger  *slog.Logger
}

// DefaultRecheck bounds how long another process's change takes to show.
const DefaultRecheck = 5 * time.Second

// Service reads and changes the studio's look. It is safe for concurrent
// use.
type Service struct {
	repo     Repo
	defaults Defaults
	recheck  time.Duration
	now      func() time.Time
	log      *slog.Logger

	cur     atomic.Pointer[snapshot]
	refresh sync.Mutex // one reload at a time; others keep the old snapshot
	logo    atomic.Pointer[Logo]
	// write serialises this process's changes, so each one's audit detail
	// is computed against the row it replaces.
	write sync.Mutex
}

type snapshot struct {
	rec     Record
	checked time.Time
}

// New checks the defaults (a bad accent_color or support_contact in the
// config file stops start-up) and returns the Service. It reads nothing yet.
func New(repo Repo, d Defaults, opts Options) (*Service, error) {
	if repo == nil {
		return nil, errors.New("branding: a repo is required")
	}
	name, err := NormalizeName(d.Name)
	var errs []error
	if err != nil {
		errs = append(errs, fmt.Errorf("studio_name: %w", err))
	} else if name == "" {
		errs = append(errs, errors.New("studio_name: must not be empty"))
	}
	d.Name = name
	if d.AccentColor, err = NormalizeAccent(d.AccentColor); err != nil {
		errs = append(errs, fmt.Errorf("branding.%w", err))
	}
	if d.SupportContact, err = NormalizeContact(d.SupportContact); err != nil {
		errs = append(errs, fmt.Errorf("branding.%w", err))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if opts.Recheck <= 0 {
		opts.Recheck = DefaultRecheck
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &Service{repo: repo, defaults: d, recheck: opts.Recheck, now: opts.Now, log: opts.Logger}, nil
}

// Defaults are the config's values, as New normalised them: what a field
// of Update left empty falls back to.
func (s *Service) Defaults() Settings {
	return s.settings(Record{})
}

// settings merges a stored row over the defaults.
func (s *Service) settings(r Record) Settings {
	pick := func(v, d string) string {
		if v != "" {
			return v
		}
		return d
	}
	return Settings{
		Name:           pick(r.Name, s.defaults.Name),
		AccentColor:    pick(r.AccentColor, s.defaults.AccentColor),
		SupportContact: pick(r.SupportContact, s.defaults.SupportContact),
		HasLogo:        r.HasLogo,
		LogoVersion:    r.LogoVersion,
		LogoURL:        s.defaults.LogoURL,
		Version:        r.Version,
		UpdatedAt:      r.UpdatedAt,
		UpdatedBy:      r.UpdatedBy,
	}
}

// Current is the look in effect. It is meant for every page view: within
// Recheck of the last look it reads nothing; after that, one caller checks
// the stored version (reloading the row only when it changed) while the
// others keep the values they had. When the database cannot be read it
// logs and answers with the last values it had, or the defaults.
func (s *Service) Current(ctx context.Context) Settings {
	snap := s.cur.Load()
	if snap != nil && s.now().Sub(snap.checked) < s.recheck {
		return s.settings(snap.rec)
	}
	if snap == nil {
		s.refresh.Lock()
	} else if !s.refresh.TryLock() {
		return s.settings(snap.rec)
	}
	defer s.refresh.Unlock()
	// Another caller may have reloaded while this one waited.
	if fresh := s.cur.Load(); fresh != nil && s.now().Sub(fresh.checked) < s.recheck {
		return s.settings(fresh.rec)
	}
	snap = s.cur.Load()
	next := s.publish(s.reload(ctx, snap))
	return s.settings(next.rec)
}

// publish makes next the cached snapshot unless the cache already holds a
// newer row (an Update that committed while a reload was reading), and
// returns what the cache holds. Versions only grow, so the newer one wins.
func (s *Service) publish(next *snapshot) *snapshot {
	for {
		cur := s.cur.Load()
		if cur != nil && cur.rec.Version > next.rec.Version {
			return cur
		}
		if s.cur.CompareAndSwap(cur, next) {
			return next
		}
	}
}

// reload answers a stale or missing snapshot: the version first, and the
// row only when it changed.
func (s *Service) reload(ctx context.Context, old *snapshot) *snapshot {
	now := s.now()
	if old != nil {
		v, err := s.repo.BrandingVersion(ctx)
		if err != nil {
			s.log.ErrorContext(ctx, "branding: check version", "err", err)
			return &snapshot{rec: old.rec, checked: now}
		}
		if v == old.rec.Version {
			return &snapshot{rec: old.rec, checked: now}
		}
	}
	rec, err := s.repo.LoadBranding(ctx)
	if err != nil {
		s.log.ErrorContext(ctx, "branding: load settings", "err", err)
		if old != nil {
			return &snapshot{rec: old.rec, checked: now}
		}
		return &snapshot{checked: now}
	}
	return &snapshot{rec: rec, checked: now}
}

// stored reads the row now, past the cache: the console's form and
// Update's change list start from what is in the database, which another
// process may have changed since this one's last look.
func (s *Service) stored(ctx context.Context) (Record, error) {
	rec, err := s.repo.LoadBranding(ctx)
	if err != nil {
		return Record{}, fmt.Errorf("load branding: %w", err)
	}
	return rec, nil
}

// Stored is the admin's overrides as stored: "" where the default is in
// effect. The console's Settings form shows these beside Defaults.
func (s *Service) Stored(ctx context.Context) (Settings, error) {
	rec, err := s.stored(ctx)
	if err != nil {
		return Settings{}, err
	}
	return Settings{
		Name: rec.Name, AccentColor: rec.AccentColor, SupportContact: rec.SupportContact,
		HasLogo: rec.HasLogo, LogoVersion: rec.LogoVersion, Version: rec.Version,
		UpdatedAt: rec.UpdatedAt, UpdatedBy: rec.UpdatedBy,
	}, nil
}

// Update stores the name, accent colour and support contact of in (the
// other fields are ignored); an empty field returns to the config's
// default. Every field is checked first (Normalize: all problems at once in
// a *ValidationError, nothing stored). The change is audited with actor,
// the admin's username, and shows on this process's next page view.
func (s *Service) Update(ctx context.Context, in Settings, actor string) error {
	in, err := Normalize(in)
	if err != nil {
		return err
	}
	if strings.TrimSpace(actor) == "" {
		return errors.New("update branding: an actor is required")
	}
	s.write.Lock()
	defer s.write.Unlock()
	old, err := s.stored(ctx)
	if err != nil {
		return fmt.Errorf("update branding: %w", err)
	}
	var changed []string
	note := func(field, from, to string) {
		if from != to {
			if to == "" {
				to = "default"
			}
			changed = append(changed, field+" "+to)
		}
	}
	note("name", old.Name, in.Name)
	note("accent_color", old.AccentColor, in.AccentColor)
	note("support_contact", old.SupportContact, in.SupportContact)
	if len(changed) == 0 {
		return nil
	}
	rec, err := s.repo.SaveBranding(ctx, Record{Name: in.Name, AccentColor: in.AccentColor, SupportContact: in.SupportContact},
		actor, "settings: "+strings.Join(changed, ", "))
	if err != nil {
		return fmt.Errorf("update branding: %w", err)
	}
	s.publish(&snapshot{rec: rec, checked: s.now()})
	return nil
}

// SetLogo checks data with CheckLogo (a *FieldError when it is refused,
// nothing stored) and stores it as the logo, audited with actor.
func (s *Service) SetLogo(ctx context.Context, data []byte, actor string) error {
	l, err := CheckLogo(data)
	if err != nil {
		return err
	}
	if strings.TrimSpace(actor) == "" {
		return errors.New("set logo: an actor is required")
	}
	s.write.Lock()
	defer s.write.Unlock()
	detail := fmt.Sprintf("logo set: %s %d×%d, %d bytes", l.ContentType, l.Width, l.Height, len(l.Data))
	rec, err := s.repo.SaveLogo(ctx, Logo{ContentType: l.ContentType, Data: append([]byte(nil), l.Data...), Width: l.Width, Height: l.Height}, actor, detail)
	if err != nil {
		return fmt.Errorf("set logo: %w", err)
	}
	s.publish(&snapshot{rec: rec, checked: s.now()})
	return nil
}

// RemoveLogo removes the uploaded logo (the config's logo_url shows again,
// if any), audited with actor. Removing no logo is not an error.
func (s *Service) RemoveLogo(ctx context.Context, actor string) error {
	if strings.TrimSpace(actor) == "" {
		return errors.New("remove logo: an actor is required")
	}
	s.write.Lock()
	defer s.write.Unlock()
	rec, err := s.repo.DeleteLogo(ctx, actor)
	if err != nil {
		return fmt.Errorf("remove logo: %w", err)
	}
	s.publish(&snapshot{rec: rec, checked: s.now()})
	s.logo.Store(nil)
	return nil
}

// Logo is the uploaded logo in effect (as Current sees it), or ErrNoLogo.
// It is kept in memory once read, until its version changes.
func (s *Service) Logo(ctx context.Context) (Logo, error) {
	cur := s.Current(ctx)
	if !cur.HasLogo {
		return Logo{}, ErrNoLogo
	}
	if l := s.logo.Load(); l != nil && l.Version == cur.LogoVersion {
		return *l, nil
	}
	l, err := s.repo.LoadLogo(ctx)
	if err != nil {
		return Logo{}, fmt.Errorf("load logo: %w", err)
	}
	s.logo.Store(&l)
	return l, nil
}
