package web

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/inkpass/inkpass/internal/branding"
)

// brandingSource is the part of branding.Service the pages use: the look in
// effect (cached in the service: a page view normally reads nothing) and
// the uploaded logo.
type brandingSource interface {
	Current(ctx context.Context) branding.Settings
	Logo(ctx context.Context) (branding.Logo, error)
}

// studio is the branding a page shows now: the studio's settings (the
// console's, over the config's) when a branding service is wired, else the
// fixed Deps.Studio. Every page's data takes its Studio from here, so a
// change shows on the next page view.
func (s *server) studio(ctx context.Context) Studio {
	if s.Branding == nil {
		return s.Studio
	}
	return StudioFrom(s.Branding.Current(ctx))
}

// StudioFrom is the page branding for settings b: what every template's
// .Studio holds. Invitation and other pages get theirs from server.studio.
func StudioFrom(b branding.Settings) Studio {
	href, label := b.Support()
	return Studio{
		Name:         b.Name,
		LogoURL:      b.LogoSrc(),
		ThemeURL:     b.ThemeSrc(),
		SupportHref:  href,
		SupportLabel: label,
	}
}

// The cache lifetimes of the branding assets: a year for a URL whose ?v=
// names the version being served (a change gets a new URL), and a
// revalidation on every use otherwise.
const (
	cacheVersioned = "public, max-age=31536000, immutable"
	cacheCurrent   = "no-cache"
)

// brandingLogo serves the uploaded logo with the type sniffed at upload
// (PNG, JPEG or WebP, never anything a browser would run), nosniff, and a
// CSP that lets it do nothing even when opened on its own. 404 when there
// is none.
func (s *server) brandingLogo(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	if s.Branding == nil {
		h.Set("Cache-Control", "no-store")
		http.Error(w, "no logo", http.StatusNotFound)
		return
	}
	l, err := s.Branding.Logo(r.Context())
	switch {
	case errors.Is(err, branding.ErrNoLogo):
		h.Set("Cache-Control", "no-store")
		http.Error(w, "no logo", http.StatusNotFound)
		return
	case err != nil:
		s.log.ErrorContext(r.Context(), "load logo", "err", err)
		h.Set("Cache-Control", "no-store")
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	switch l.ContentType {
	case branding.TypePNG, branding.TypeJPEG, branding.TypeWebP:
	default:
		// The store's CHECK allows no other; refuse rather than serve an
		// unknown type if a row was ever written around it.
		s.log.ErrorContext(r.Context(), "stored logo has an unexpected type", "content_type", l.ContentType)
		h.Set("Cache-Control", "no-store")
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	version := strconv.FormatInt(l.Version, 10)
	h.Set("Content-Type", l.ContentType)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	h.Set("Content-Disposition", "inline")
	h.Set("ETag", `"logo-`+version+`"`)
	if r.URL.Query().Get("v") == version {
		h.Set("Cache-Control", cacheVersioned)
	} else {
		h.Set("Cache-Control", cacheCurrent)
	}
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(l.Data))
}

// brandingTheme serves the stylesheet that puts the accent colour in
// effect. The pages' CSP allows styles from our own origin only (no inline
// style), so the colour comes as a small generated file, linked with a
// versioned URL.
func (s *server) brandingTheme(w http.ResponseWriter, r *http.Request) {
	var b branding.Settings
	if s.Branding != nil {
		b = s.Branding.Current(r.Context())
	}
	css := b.ThemeCSS()
	h := w.Header()
	h.Set("Content-Type", "text/css; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	v := strings.TrimPrefix(b.ThemeSrc(), branding.ThemePath+"?v=")
	if v != "" && r.URL.Query().Get("v") == v {
		h.Set("Cache-Control", cacheVersioned)
	} else {
		h.Set("Cache-Control", cacheCurrent)
	}
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(css))
}
