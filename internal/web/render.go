package web

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"maps"
	"mime"
	"net/http"
	"net/url"
	"path"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/inkpass/inkpass/templates"
)

// formPostOnload is the exact text of the onload handler in form_post.html, the
// only script any page runs. Its hash goes into that page's script-src with
// 'unsafe-hashes' (CSP Level 3 §8.3), which lets this one event handler run and
// nothing else. newRenderer checks that the template still carries this text.
const formPostOnload = "document.forms[0].submit()"

// renderer holds every page, parsed once at start-up, and the static assets.
type renderer struct {
	pages  map[string]*template.Template // page name -> layout + that page
	static map[string]staticAsset        // path below static/ -> file
	// formPostScript is the script-src of the form_post page.
	formPostScript string
}

type staticAsset struct {
	body        []byte
	etag        string // strong, from the content's SHA-256
	contentType string
}

// newRenderer parses every page in templates.FS. It fails when a template does
// not parse, when a required page (see pageSamples) is missing, or when a page
// cannot execute with its own data type, so a broken template stops start-up
// instead of a request.
func newRenderer() (*renderer, error) {
	return newRendererFS(templates.FS)
}

func newRendererFS(fsys fs.FS) (*renderer, error) {
	static, err := loadStaticAssets(fsys)
	if err != nil {
		return nil, fmt.Errorf("load static assets: %w", err)
	}
	sum := sha256.Sum256([]byte(formPostOnload))
	r := &renderer{
		pages:          make(map[string]*template.Template),
		static:         static,
		formPostScript: "'unsafe-hashes' 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'",
	}

	base, err := template.New("layout.html").Funcs(r.funcs()).ParseFS(fsys, "layout.html")
	if err != nil {
		return nil, fmt.Errorf("parse layout: %w", err)
	}
	files, err := fs.Glob(fsys, "*.html")
	if err != nil {
		return nil, fmt.Errorf("list templates: %w", err)
	}
	for _, file := range files {
		if file == "layout.html" {
			continue
		}
		name := strings.TrimSuffix(file, ".html")
		t, err := base.Clone()
		if err == nil {
			t, err = t.ParseFS(fsys, file)
		}
		if err != nil {
			return nil, fmt.Errorf("parse page %s: %w", name, err)
		}
		for _, def := range []string{"title", "content"} {
			if t.Lookup(def) == nil {
				return nil, fmt.Errorf("parse page %s: %s does not define %q", name, file, def)
			}
		}
		r.pages[name] = t
	}

	// Execute every required page now, with a full sample and with the zero
	// value, so that both branches of each {{with}} and {{if}} resolve their
	// fields against the real data type.
	var errs []error
	for _, name := range slices.Sorted(maps.Keys(pageSamples)) {
		t, ok := r.pages[name]
		if !ok {
			errs = append(errs, fmt.Errorf("required page %s: templates/%s.html is missing", name, name))
			continue
		}
		sample := pageSamples[name]
		zero := reflect.Zero(reflect.TypeOf(sample)).Interface()
		for _, data := range []any{sample, zero} {
			if err := t.ExecuteTemplate(io.Discard, "layout", data); err != nil {
				errs = append(errs, fmt.Errorf("required page %s: %w", name, err))
			}
		}
	}
	if t, ok := r.pages[pageFormPost]; ok {
		var buf bytes.Buffer
		if err := t.ExecuteTemplate(&buf, "layout", pageSamples[pageFormPost]); err == nil &&
			!bytes.Contains(buf.Bytes(), []byte(`onload="`+formPostOnload+`"`)) {
			errs = append(errs, fmt.Errorf("required page %s: onload handler is not %q, so the CSP hash would not match", pageFormPost, formPostOnload))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return r, nil
}

func (r *renderer) funcs() template.FuncMap {
	return template.FuncMap{
		// studioName is the name at the top of every page and in its title.
		"studioName": func(s Studio) string {
			if name := strings.TrimSpace(s.Name); name != "" {
				return name
			}
			return "inkpass"
		},
		// logoURL is the studio's logo, or "" (no image) unless it is an https
		// URL or a path on our own origin: html/template turns other schemes
		// into "#ZgotmplZ", and the CSP's img-src blocks plain http elsewhere,
		// either of which would show a broken image.
		"logoURL": func(s Studio) string {
			u, err := url.Parse(strings.TrimSpace(s.LogoURL))
			switch {
			case err != nil || s.LogoURL == "":
				return ""
			case u.Scheme == "" && u.Host == "" && strings.HasPrefix(u.Path, "/"):
				return u.String()
			case u.Scheme == "https" && u.Host != "":
				return u.String()
			}
			return ""
		},
		// staticURL links to a static asset with a content version, so a new
		// release is fetched at once despite the day-long Cache-Control.
		"staticURL": func(name string) (string, error) {
			f, ok := r.static[name]
			if !ok {
				return "", fmt.Errorf("no static asset %q", name)
			}
			return "/static/" + name + "?v=" + strings.Trim(f.etag, `"`)[:12], nil
		},
		"humanWait": humanWait,
	}
}

// humanWait says how long to wait in words: "1 second", "45 seconds",
// "2 minutes", rounding up so the user never retries too early.
func humanWait(seconds int) string {
	unit, n := "second", seconds
	switch {
	case seconds >= 90*60:
		unit, n = "hour", (seconds+3599)/3600
	case seconds >= 60:
		unit, n = "minute", (seconds+59)/60
	}
	if n == 1 {
		return "1 " + unit
	}
	return strconv.Itoa(n) + " " + unit + "s"
}

// render writes page with data and status. data must be the page's own struct
// (LoginPage for "login", ...), by value or by pointer.
//
// The page is executed into a buffer first. If that fails, or page is unknown,
// or data has the wrong type, the client gets a plain 500 "internal error" and
// render returns the cause for the caller to log; otherwise it returns nil.
// (An error while writing to the client is not reported: it only means the
// client went away.)
//
// Every page gets a strict Content-Security-Policy. formActionOrigins widen its
// form-action beyond 'self': Chromium applies form-action to every redirect that
// follows a form submission, so a page whose POST answers with a 302 to a
// client's redirect URI (login, consent) must list that redirect URI here. A
// full URL may be passed; only its origin is used (scheme alone for a
// non-http(s) URI such as com.example.app:/cb). Values that are not URLs are
// dropped. For a FormPostPage the RedirectURI is added automatically.
func (r *renderer) render(w http.ResponseWriter, status int, page string, data any, formActionOrigins ...string) error {
	t, ok := r.pages[page]
	if !ok {
		r.fail(w)
		return fmt.Errorf("render %s: no such page", page)
	}
	if sample, ok := pageSamples[page]; ok {
		want := reflect.TypeOf(sample)
		got := reflect.TypeOf(data)
		if got != want && (got == nil || got.Kind() != reflect.Pointer || got.Elem() != want) {
			r.fail(w)
			return fmt.Errorf("render %s: data is %v, want %v", page, got, want)
		}
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", data); err != nil {
		r.fail(w)
		return fmt.Errorf("render %s: %w", page, err)
	}

	switch p := data.(type) {
	case FormPostPage:
		formActionOrigins = append(formActionOrigins, p.RedirectURI)
	case *FormPostPage:
		formActionOrigins = append(formActionOrigins, p.RedirectURI)
	}
	var scriptSrc string
	if page == pageFormPost {
		scriptSrc = r.formPostScript
	}
	if passkeyCeremony(data) {
		// static/webauthn.js, the passkey ceremony: a file of our own,
		// no inline script or handler; pages without one allow none.
		scriptSrc = "'self'"
	}

	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	// Pages carry CSRF tokens, codes and state: never cache them (RFC 9111 §5.2.2.5).
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Content-Security-Policy", r.csp(scriptSrc, formActionOrigins))
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
	return nil
}

// passkeyCeremony reports whether data is a page that runs a passkey
// ceremony (and so loads static/webauthn.js).
func passkeyCeremony(data any) bool {
	switch p := data.(type) {
	case LoginPage:
		return p.PasskeyOptions != ""
	case *LoginPage:
		return p.PasskeyOptions != ""
	case FactorPage:
		return p.PasskeyOptions != ""
	case *FactorPage:
		return p.PasskeyOptions != ""
	case AccountPage:
		return p.PasskeyCreate != ""
	case *AccountPage:
		return p.PasskeyCreate != ""
	}
	return false
}

// fail answers a request whose page could not be rendered. It says nothing
// about why: the cause goes to the log, not to the browser.
func (r *renderer) fail(w http.ResponseWriter) {
	w.Header().Set("Cache-Control", "no-store")
	http.Error(w, "internal error", http.StatusInternalServerError)
}

// csp builds the Content-Security-Policy for one response. Everything is
// denied except our own stylesheet, images (studio logos may live elsewhere),
// form submissions to ourselves and to formActionOrigins, and, when scriptSrc
// is set, the script sources it names.
func (r *renderer) csp(scriptSrc string, formActionOrigins []string) string {
	var b strings.Builder
	b.WriteString("default-src 'none'")
	if scriptSrc != "" {
		b.WriteString("; script-src ")
		b.WriteString(scriptSrc)
	}
	b.WriteString("; style-src 'self'; img-src 'self' https: data:; form-action 'self'")
	seen := make(map[string]bool)
	for _, o := range formActionOrigins {
		src, ok := cspFormActionSource(o)
		if !ok || seen[src] {
			continue
		}
		seen[src] = true
		b.WriteByte(' ')
		b.WriteString(src)
	}
	b.WriteString("; frame-ancestors 'none'; base-uri 'none'")
	return b.String()
}

// cspFormActionSource turns a redirect URI or origin into a CSP source expression
// (CSP Level 3 §2.3.1): "https://app.example:8443" for http(s), "scheme:" for a
// private-use scheme (RFC 8252 §7.1). It refuses anything that could widen the
// policy beyond one origin or break out of the directive (wildcards, spaces,
// semicolons, commas, http(s) without a host) and schemes that are no redirect
// target (javascript:, data:, ...).
func cspFormActionSource(s string) (string, bool) {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil || u.Scheme == "" {
		return "", false
	}
	scheme := strings.ToLower(u.Scheme)
	for i, c := range scheme {
		ok := c >= 'a' && c <= 'z' || i > 0 && (c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.')
		if !ok {
			return "", false
		}
	}
	if u.Host == "" {
		switch scheme {
		case "http", "https", "javascript", "data", "blob", "file", "filesystem", "about", "vbscript", "ws", "wss":
			return "", false
		}
		return scheme + ":", true
	}
	for _, c := range u.Host {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			c == '.' || c == '-' || c == ':' || c == '[' || c == ']'
		if !ok {
			return "", false
		}
	}
	return scheme + "://" + u.Host, true
}

// staticHandler serves the files below templates/static/. Mount it at
// "/static/" without stripping the prefix (stripping it works too). Answers
// carry Cache-Control: public, max-age=86400 and a strong ETag, and a matching
// If-None-Match gets 304. Only GET and HEAD are allowed; there is no directory
// listing.
func (r *renderer) staticHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.Method != http.MethodGet && req.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		name := strings.TrimPrefix(req.URL.Path, "/static/")
		name = strings.TrimPrefix(name, "/")
		f, ok := r.static[name]
		if !ok {
			http.NotFound(w, req)
			return
		}
		h := w.Header()
		h.Set("Content-Type", f.contentType)
		h.Set("Cache-Control", "public, max-age=86400")
		h.Set("ETag", f.etag)
		h.Set("X-Content-Type-Options", "nosniff")
		http.ServeContent(w, req, name, time.Time{}, bytes.NewReader(f.body))
	})
}

// assetTypes pins the types of the assets we ship, whatever the system's
// mime.types says.
var assetTypes = map[string]string{
	".css":  "text/css; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".svg":  "image/svg+xml",
	".png":  "image/png",
	".ico":  "image/x-icon",
	".txt":  "text/plain; charset=utf-8",
	".webp": "image/webp",
}

// loadStaticAssets reads every file below static/ into memory, with its ETag.
func loadStaticAssets(fsys fs.FS) (map[string]staticAsset, error) {
	files := make(map[string]staticAsset)
	err := fs.WalkDir(fsys, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(body)
		ctype := assetTypes[path.Ext(p)]
		if ctype == "" {
			ctype = mime.TypeByExtension(path.Ext(p))
		}
		if ctype == "" {
			ctype = "application/octet-stream"
		}
		files[strings.TrimPrefix(p, "static/")] = staticAsset{
			body:        body,
			etag:        `"` + hex.EncodeToString(sum[:16]) + `"`,
			contentType: ctype,
		}
		return nil
	})
	return files, err
}
