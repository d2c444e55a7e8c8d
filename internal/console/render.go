package console

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/inkpass/inkpass/internal/user"
	"github.com/inkpass/inkpass/templates"
)

// renderer holds the console's pages, parsed once at start-up.
type renderer struct {
	pages map[string]*template.Template
	// version is each stylesheet's content hash, so a new release is
	// fetched at once (web serves /static/ with a day-long cache).
	version map[string]string
}

func newRenderer() (*renderer, error) {
	r := &renderer{pages: map[string]*template.Template{}, version: map[string]string{}}
	staticVersion := r.version
	for _, name := range []string{"inkpass.css", "console.css"} {
		b, err := fs.ReadFile(templates.FS, "static/"+name)
		if err != nil {
			return nil, fmt.Errorf("console: %w", err)
		}
		sum := sha256.Sum256(b)
		staticVersion[name] = hex.EncodeToString(sum[:6])
	}
	base, err := template.New("layout.html").Funcs(r.funcs()).ParseFS(templates.FS, "console/layout.html")
	if err != nil {
		return nil, fmt.Errorf("console: parse layout: %w", err)
	}
	files, err := fs.Glob(templates.FS, "console/*.html")
	if err != nil {
		return nil, err
	}
	for _, f := range files {
		name := strings.TrimSuffix(strings.TrimPrefix(f, "console/"), ".html")
		if name == "layout" {
			continue
		}
		t, err := base.Clone()
		if err == nil {
			t, err = t.ParseFS(templates.FS, f)
		}
		if err != nil {
			return nil, fmt.Errorf("console: parse page %s: %w", name, err)
		}
		if t.Lookup("content") == nil {
			return nil, fmt.Errorf("console: page %s does not define \"content\"", name)
		}
		r.pages[name] = t
	}
	for _, need := range []string{"error", "reauth"} {
		if r.pages[need] == nil {
			return nil, fmt.Errorf("console: templates/console/%s.html is missing", need)
		}
	}
	return r, nil
}

func (r *renderer) funcs() template.FuncMap {
	return template.FuncMap{
		"staticURL": func(name string) string { return "/static/" + name + "?v=" + r.version[name] },
		"studioName": func(s Studio) string {
			if n := strings.TrimSpace(s.Name); n != "" {
				return n
			}
			return "inkpass"
		},
		// logoURL: as on the login pages, only an https URL or a local path.
		"logoURL": func(s Studio) string {
			u, err := url.Parse(strings.TrimSpace(s.LogoURL))
			switch {
			case err != nil || s.LogoURL == "":
				return ""
			case u.Scheme == "" && u.Host == "" && strings.HasPrefix(u.Path, "/") && !strings.HasPrefix(u.Path, "//"):
				return u.String()
			case u.Scheme == "https" && u.Host != "":
				return u.String()
			}
			return ""
		},
		// when is a time in UTC, to the minute; "never" for none.
		"when": func(t any) string {
			switch v := t.(type) {
			case time.Time:
				if v.IsZero() {
					return "never"
				}
				return v.UTC().Format("2006-01-02 15:04") + " UTC"
			case *time.Time:
				if v == nil || v.IsZero() {
					return "never"
				}
				return v.UTC().Format("2006-01-02 15:04") + " UTC"
			}
			return ""
		},
		"itoa": func(n int64) string { return strconv.FormatInt(n, 10) },
		// dict builds a map for a sub-template: dict "Key" value ...
		"dict": func(kv ...any) (map[string]any, error) {
			if len(kv)%2 != 0 {
				return nil, fmt.Errorf("dict: odd number of arguments")
			}
			m := make(map[string]any, len(kv)/2)
			for i := 0; i < len(kv); i += 2 {
				k, ok := kv[i].(string)
				if !ok {
					return nil, fmt.Errorf("dict: key %v is not a string", kv[i])
				}
				m[k] = kv[i+1]
			}
			return m, nil
		},
	}
}

// View is one console page to render.
type View struct {
	// Name is the template, templates/console/<Name>.html.
	Name string
	// Title is the page's heading and <title>.
	Title string
	// Notice and Error are shown above the content (Notice defaults to
	// the ?done= notice of the request).
	Notice, Error string
	// Data is the page's own data, .Data in its template.
	Data any
}

// pageData is what the layout receives.
type pageData struct {
	View
	Studio Studio
	// Admin is the signed-in admin's username; empty on a page shown
	// before the gate knew (then there is no navigation).
	Admin string
	CSRF  string
	Nav   []navItem
}

type navItem struct {
	Name, Path string
	Current    bool
}

// Render writes v with status. The page is executed into a buffer first:
// a template error is a 500 and a log line, never half a page.
func (c *Console) Render(w http.ResponseWriter, r *http.Request, a *Admin, status int, v View) {
	t, ok := c.pages.pages[v.Name]
	if !ok {
		c.log.ErrorContext(r.Context(), "console: no such page", "page", v.Name)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	if v.Notice == "" {
		v.Notice = c.notices[r.URL.Query().Get("done")]
	}
	d := pageData{View: v, Studio: c.d.Studio}
	if c.d.Branding != nil {
		// The studio's look as the admin last set it, like the login pages.
		look := c.d.Branding.Current(r.Context())
		d.Studio = Studio{Name: look.Name, LogoURL: look.LogoSrc(), ThemeURL: look.ThemeSrc()}
	}
	if a != nil && a.User.Role == user.RoleAdmin && a.CSRF != "" {
		d.Admin, d.CSRF = a.User.Username, a.CSRF
		for _, s := range c.nav {
			cur := r.URL.Path == s.Path || s.Path != Prefix && strings.HasPrefix(r.URL.Path, s.Path+"/")
			d.Nav = append(d.Nav, navItem{Name: s.Name, Path: s.Path, Current: cur})
		}
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", d); err != nil {
		c.log.ErrorContext(r.Context(), "console: render", "page", v.Name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	setHeaders(h)
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// ErrorView is the error page's data.
type ErrorView struct {
	Status  int
	Message string
}

// Error shows the console's error page with status; a may be nil.
func (c *Console) Error(w http.ResponseWriter, r *http.Request, a *Admin, status int, title, message string) {
	c.Render(w, r, a, status, View{Name: "error", Title: title, Data: ErrorView{Status: status, Message: message}})
}

// ServerError logs err (what was being done) and shows a 500 page that
// says nothing about it.
func (c *Console) ServerError(w http.ResponseWriter, r *http.Request, a *Admin, what string, err error) {
	c.log.ErrorContext(r.Context(), "console: "+what, "err", err)
	c.Error(w, r, a, http.StatusInternalServerError, "Something went wrong",
		"inkpass could not finish this. Try again; if it keeps failing, the server's log says why.")
}

// Done ends a change: 303 to path (a console path) with the notice key
// (a Section's Notices), shown once there.
func (c *Console) Done(w http.ResponseWriter, r *http.Request, path, notice string) {
	if notice != "" {
		sep := "?"
		if strings.Contains(path, "?") {
			sep = "&"
		}
		path += sep + "done=" + url.QueryEscape(notice)
	}
	http.Redirect(w, r, path, http.StatusSeeOther)
}
