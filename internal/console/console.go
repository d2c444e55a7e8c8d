// Package console is the studio console at /admin: server-rendered pages
// for admins, on the same services the CLI uses (one rule set, two front
// ends).
//
// # The framework
//
// Every console route goes through one gate (gate.go): the request must
// carry the inkpass browser session (Deps.Sessions) of an active user with
// role admin. Without a session the browser goes to /login?return=<path>;
// another role gets the 403 page. A POST must carry the form's CSRF token
// (bound to the browser and the session) and, when the session's last
// authentication is older than Deps.ReauthAfter, first passes the
// re-authentication page (password, plus a code when the admin has a
// second factor), which posts the same form again with the proof. Every
// audit event recorded while a console request is handled names the admin
// (audit.WithActor: "admin:<username>"), including those the services
// record themselves.
//
// # Adding a section
//
// A section is a file of this package that registers itself in init:
//
//	func init() {
//		registerSection(Section{Name: "Apps", Path: "/admin/apps", Order: 30, Routes: func(c *Console) {
//			c.Handle("GET /admin/apps", c.appsList)
//			c.Handle("POST /admin/apps/{id}/disable", c.appsDisable)
//		}})
//	}
//
// Handlers have the signature of Handler: they get the signed-in Admin
// (user, session, CSRF token). Patterns are net/http ServeMux patterns
// with a method, under /admin ("GET" also answers HEAD).
//
// Every POST is a change: the gate checks its CSRF token and the recent
// authentication before the handler runs, and r.Form is parsed (multipart
// too, for a file upload; files do not survive the re-authentication page,
// the admin picks them again). The fields csrf_token, reauth_password and
// reauth_code belong to the gate and are removed before the handler sees
// the form. Every form carries
//
//	<input type="hidden" name="csrf_token" value="{{.CSRF}}">
//
// A page is one template file, templates/console/<name>.html, defining
// "content" (the layout gives the title, navigation, skip link, notice and
// error boxes; the page's own data is .Data). Render it with
// c.Render(w, r, a, status, View{Name: "<name>", Title: ..., Data: ...}).
// Errors: c.Error (a page with a status) and c.ServerError (logged, 500).
// Changes: c.Record(r, audit.Event{...}) (the acting admin is filled in;
// services called with r.Context() name them too). After a change,
// redirect with c.Done(w, r, path, key): POST-redirect-GET, the section's
// Notices[key] shown once on the next page. What a section needs from
// storage is a small interface in Deps (a new field), implemented in a
// file of its own in internal/store and wired in newConsole in
// cmd/inkpass/wire.go. cmd/inkpass's TestConsole_OnlyAdmins walks
// RegisteredRoutes, so every new route is checked for the assistant's and
// artist's 403 and the anonymous login redirect without a new test.
package console

import (
	"cmp"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/inkpass/inkpass/internal/audit"
	"github.com/inkpass/inkpass/internal/session"
	"github.com/inkpass/inkpass/internal/user"
)

// Prefix is where the console is mounted.
const Prefix = "/admin"

// DefaultReauthAfter is how old a session's last authentication may be
// before a change asks for the password again.
const DefaultReauthAfter = 5 * time.Minute

// Studio is the studio's name, logo and accent, as on the login pages.
type Studio struct {
	Name    string
	LogoURL string
	// ThemeURL is the accent colour's stylesheet on inkpass's origin, or "".
	ThemeURL string
}

// Deps is everything the console needs; cmd/inkpass builds it.
type Deps struct {
	Sessions Sessions
	// Reauth records a re-authentication on the session.
	Reauth SessionRecorder
	Users  Users
	// MFA is the second factor; nil when there is none.
	MFA   SecondFactors
	Store Store
	// Links makes password-reset and invitation links; nil hides those
	// actions (the page says they are not available).
	Links Links
	Audit audit.Recorder
	// WeakHash reports whether a stored hash is weaker than the policy
	// (password.Hasher.NeedsRehash): the "legacy hash" filter and count.
	WeakHash func(hash string) bool
	// CSRFKey signs the forms' tokens (at least 32 bytes; it must survive
	// restarts).
	CSRFKey []byte
	// ReauthAfter: 0 is DefaultReauthAfter.
	ReauthAfter time.Duration
	Studio      Studio
	Logger      *slog.Logger
	// Now is the clock (tests); nil is time.Now.
	Now func() time.Time

	// The sections of ports_sections.go; a nil one shows its section as
	// not available.
	Clients  Clients
	Keys     SigningKeys
	Access   Access
	Activity Activity
	Branding Branding
}

// Admin is the signed-in admin of a console request.
type Admin struct {
	User    *user.User
	Session *session.Session
	// CSRF is the token every form of the page must carry as csrf_token.
	CSRF string
}

// Actor is how audit events name this admin.
func (a *Admin) Actor() string { return "admin:" + a.User.Username }

// Handler answers a console request for a signed-in admin.
type Handler func(w http.ResponseWriter, r *http.Request, a *Admin)

// Route is one registered route.
type Route struct {
	// Method is GET or POST; Pattern the path pattern ("/admin/people/{id}").
	Method, Pattern string
}

// Section is one area of the console: its place in the navigation and its
// routes.
type Section struct {
	// Name is the navigation's label; Path where it links.
	Name, Path string
	// Order sorts the navigation (dashboard 0, people 10, artists 20, ...).
	Order int
	// Routes registers the section's handlers with c.Handle.
	Routes func(c *Console)
	// Notices are the messages c.Done may name, by key: shown once on
	// the page a change redirects to (?done=key).
	Notices map[string]string
}

var (
	sectionsMu sync.Mutex
	sections   []Section
)

// registerSection adds a section; each section file calls it from init.
func registerSection(s Section) {
	sectionsMu.Lock()
	defer sectionsMu.Unlock()
	sections = append(sections, s)
}

// Console is the console's handler.
type Console struct {
	d      Deps
	mux    *http.ServeMux
	routes []Route
	nav    []Section
	// notices are every section's Notices.
	notices map[string]string
	pages   *renderer
	log     *slog.Logger
}

// New builds the console with every registered section.
func New(d Deps) (*Console, error) {
	if d.Sessions == nil || d.Reauth == nil || d.Users == nil || d.Store == nil || len(d.CSRFKey) < 32 {
		return nil, errors.New("console: sessions, reauth, users, store and a 32-byte CSRF key are required")
	}
	if d.ReauthAfter <= 0 {
		d.ReauthAfter = DefaultReauthAfter
	}
	if d.Audit == nil {
		d.Audit = audit.Discard{}
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.WeakHash == nil {
		d.WeakHash = func(string) bool { return false }
	}
	pages, err := newRenderer()
	if err != nil {
		return nil, err
	}
	c := &Console{d: d, mux: http.NewServeMux(), pages: pages, log: d.Logger}
	sectionsMu.Lock()
	c.nav = slices.Clone(sections)
	sectionsMu.Unlock()
	slices.SortStableFunc(c.nav, func(a, b Section) int { return cmp.Compare(a.Order, b.Order) })
	c.notices = map[string]string{}
	for _, s := range c.nav {
		for k, v := range s.Notices {
			c.notices[k] = v
		}
		if s.Routes != nil {
			s.Routes(c)
		}
	}
	c.mux.HandleFunc("/", c.notFound)
	return c, nil
}

// Handle registers h for pattern, "METHOD /admin/path" (GET or POST),
// behind the gate.
func (c *Console) Handle(pattern string, h Handler) {
	method, path, ok := cutPattern(pattern)
	if !ok {
		panic("console: pattern must be \"GET /admin/...\" or \"POST /admin/...\": " + pattern)
	}
	c.routes = append(c.routes, Route{Method: method, Pattern: path})
	c.mux.Handle(pattern, c.gate(h))
}

// availableIf wraps the handlers of a section whose port (see Deps) may
// be nil: without it, every route of the section answers 404 with title
// and why instead of each handler checking for itself.
func (c *Console) availableIf(ok bool, title, why string) func(Handler) Handler {
	return func(h Handler) Handler {
		if ok {
			return h
		}
		return func(w http.ResponseWriter, r *http.Request, a *Admin) {
			c.Error(w, r, a, http.StatusNotFound, title, why)
		}
	}
}

func cutPattern(p string) (method, path string, ok bool) {
	for _, m := range []string{http.MethodGet, http.MethodPost} {
		if rest, found := strings.CutPrefix(p, m+" "); found {
			return m, rest, rest == Prefix || strings.HasPrefix(rest, Prefix+"/")
		}
	}
	return "", "", false
}

// Routes lists every registered route (the authorization tests walk it).
func (c *Console) Routes() []Route { return slices.Clone(c.routes) }

// RegisteredRoutes lists the routes every registered section adds, without
// building a console: what a test outside this package walks to check that
// every route is behind the gate.
func RegisteredRoutes() []Route {
	c := &Console{mux: http.NewServeMux()}
	sectionsMu.Lock()
	defer sectionsMu.Unlock()
	for _, s := range sections {
		if s.Routes != nil {
			s.Routes(c)
		}
	}
	return c.routes
}

// ServeHTTP answers every request under /admin.
func (c *Console) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	setHeaders(w.Header())
	c.mux.ServeHTTP(w, r)
}

// notFound answers an unknown console address: the gate first, so that
// nobody but an admin learns which addresses exist.
func (c *Console) notFound(w http.ResponseWriter, r *http.Request) {
	c.gate(func(w http.ResponseWriter, r *http.Request, a *Admin) {
		c.Error(w, r, a, http.StatusNotFound, "Page not found", "There is nothing at this address in the console.")
	}).ServeHTTP(w, r)
}

// Record appends an audit event naming the acting admin; losing one is
// logged, never fatal to the change it describes.
func (c *Console) Record(r *http.Request, e audit.Event) {
	if e.Actor == "" {
		e.Actor = audit.ActorFrom(r.Context())
	}
	if err := c.d.Audit.Record(r.Context(), e); err != nil {
		c.log.ErrorContext(r.Context(), "audit", "kind", string(e.Kind), "err", err)
	}
}
