package console

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/inkpass/inkpass/internal/audit"
	"github.com/inkpass/inkpass/internal/client"
	"github.com/inkpass/inkpass/internal/keys"
)

// Apps: the OAuth clients, on client.Registry (the rules of `inkpass
// client`): list, register with every option the CLI has, show a secret
// once, rotate it, edit redirect URIs, disable, enable, remove.

func init() {
	registerSection(Section{Name: "Apps", Path: Prefix + "/apps", Order: 30, Routes: func(c *Console) {
		on := c.availableIf(c.d.Clients != nil, "Apps are not available", "This server was started without the client registry.")
		c.Handle("GET /admin/apps", on(c.appsList))
		c.Handle("GET /admin/apps/new", on(c.appNew))
		c.Handle("POST /admin/apps/new", on(c.appRegister))
		c.Handle("GET /admin/apps/{id}", on(c.appShow))
		c.Handle("POST /admin/apps/{id}/redirect-uris", on(c.appRedirects))
		c.Handle("POST /admin/apps/{id}/rotate-secret", on(c.appRotate))
		c.Handle("POST /admin/apps/{id}/disable", on(c.appEnable(false)))
		c.Handle("POST /admin/apps/{id}/enable", on(c.appEnable(true)))
		c.Handle("POST /admin/apps/{id}/remove", on(c.appRemove))
	}, Notices: map[string]string{
		"app-redirects": "The redirect URIs are saved.",
		"app-disabled":  "The app is disabled: its tokens are revoked and it can get no more.",
		"app-enabled":   "The app is enabled again. Its earlier tokens stay revoked.",
		"app-removed":   "The app is removed and its tokens are revoked.",
	}})
}

// AppsView is the list's data.
type AppsView struct {
	Apps []*client.Client
}

// AppForm is the registration form: what was typed, and the problems.
type AppForm struct {
	ID, Name               string
	Type                   string // "confidential" or "public"
	FirstParty, RequireMFA bool
	Introspect             bool
	RedirectURIs           string // one per line
	PostLogoutRedirectURIs string
	Grants, Scopes         []string
	AuthMethod             string
	BackchannelLogoutURI   string
	IDTokenAlg             string
	Errors                 map[string]string
	// Checked marks the chosen grant types and scopes (their names do
	// not overlap).
	Checked                 map[string]bool
	AllGrants, AllScopes    []string
	AllAuthMethods, AllAlgs []string
}

// AppView is one app's page.
type AppView struct {
	App *client.Client
	// RedirectURIs is the edit box's text: what is stored, or what was
	// typed when it was refused.
	RedirectURIs string
	RedirectErr  string
}

// AppSecretView is the page that shows a secret, once.
type AppSecretView struct {
	App    *client.Client
	Secret string
	New    bool // just registered, rather than rotated
}

func (c *Console) appsList(w http.ResponseWriter, r *http.Request, a *Admin) {
	list, err := c.d.Clients.List(r.Context())
	if err != nil {
		c.ServerError(w, r, a, "list clients", err)
		return
	}
	c.Render(w, r, a, http.StatusOK, View{Name: "apps", Title: "Apps", Data: AppsView{Apps: list}})
}

func newAppForm() AppForm {
	return AppForm{
		Type:           "confidential",
		Grants:         []string{client.GrantAuthorizationCode, client.GrantRefreshToken},
		Scopes:         slices.Clone(client.SupportedScopes),
		AuthMethod:     "",
		IDTokenAlg:     string(keys.RS256),
		Errors:         map[string]string{},
		AllGrants:      []string{client.GrantAuthorizationCode, client.GrantRefreshToken, client.GrantClientCredentials},
		AllScopes:      client.SupportedScopes,
		AllAuthMethods: []string{client.AuthSecretBasic, client.AuthSecretPost},
		AllAlgs:        []string{string(keys.RS256), string(keys.ES256), string(keys.EdDSA)},
	}
}

func (c *Console) appNew(w http.ResponseWriter, r *http.Request, a *Admin) {
	f := newAppForm()
	f.check()
	c.Render(w, r, a, http.StatusOK, View{Name: "app_new", Title: "Register an app", Data: f})
}

// check fills Checked from Grants and Scopes.
func (f *AppForm) check() {
	f.Checked = map[string]bool{}
	for _, v := range append(slices.Clone(f.Grants), f.Scopes...) {
		f.Checked[v] = true
	}
}

// lines splits a text box into its non-empty lines, trimmed.
func lines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

func (c *Console) appRegister(w http.ResponseWriter, r *http.Request, a *Admin) {
	f := newAppForm()
	f.ID, f.Name = strings.TrimSpace(r.PostFormValue("id")), strings.TrimSpace(r.PostFormValue("name"))
	f.Type = r.PostFormValue("type")
	f.FirstParty, f.RequireMFA, f.Introspect = r.PostFormValue("first_party") == "on", r.PostFormValue("require_mfa") == "on", r.PostFormValue("introspect") == "on"
	f.RedirectURIs, f.PostLogoutRedirectURIs = r.PostFormValue("redirect_uris"), r.PostFormValue("post_logout_redirect_uris")
	f.Grants, f.Scopes = r.PostForm["grant_types"], r.PostForm["scopes"]
	f.AuthMethod, f.BackchannelLogoutURI = r.PostFormValue("auth_method"), strings.TrimSpace(r.PostFormValue("backchannel_logout_uri"))
	f.IDTokenAlg = r.PostFormValue("id_token_alg")
	if f.Type != "public" && f.Type != "confidential" {
		f.Errors["type"] = "choose confidential or public"
	}
	if len(f.Grants) == 0 {
		f.Errors["grant_types"] = "choose at least one"
	}
	if len(f.Scopes) == 0 {
		f.Errors["scopes"] = "choose at least one"
	}
	method := f.AuthMethod
	if f.Type == "public" {
		method = client.AuthNone
	}
	opts := client.Options{
		ID: f.ID, Name: f.Name, Public: f.Type == "public", FirstParty: f.FirstParty, RequireMFA: f.RequireMFA,
		Introspect: f.Introspect, RedirectURIs: lines(f.RedirectURIs), PostLogoutRedirectURIs: lines(f.PostLogoutRedirectURIs),
		GrantTypes: f.Grants, Scopes: f.Scopes, AuthMethod: method, BackchannelLogoutURI: f.BackchannelLogoutURI,
		IDTokenAlg: f.IDTokenAlg,
	}
	var app *client.Client
	var secret string
	if len(f.Errors) == 0 {
		var err error
		app, secret, err = c.d.Clients.Register(r.Context(), opts)
		switch fes := client.FieldErrors(err); {
		case errors.Is(err, client.ErrExists):
			f.Errors["id"] = "this client ID is taken"
		case len(fes) > 0:
			for _, fe := range fes {
				if prev := f.Errors[fe.Field]; prev != "" {
					f.Errors[fe.Field] = prev + "; " + fe.Problem
				} else {
					f.Errors[fe.Field] = fe.Problem
				}
			}
		case err != nil:
			c.ServerError(w, r, a, "register client", err)
			return
		}
	}
	if len(f.Errors) > 0 {
		f.check()
		c.Render(w, r, a, http.StatusUnprocessableEntity, View{Name: "app_new", Title: "Register an app",
			Error: "The app was not registered: see the fields marked below.", Data: f})
		return
	}
	c.Record(r, audit.Event{Kind: audit.ClientRegistered, ClientID: app.ID,
		Detail: fmt.Sprintf("%s %s, redirect URIs: %s", clientType(app), app.Name, strings.Join(app.RedirectURIs, " "))})
	c.Render(w, r, a, http.StatusOK, View{Name: "app_secret", Title: "App registered", Data: AppSecretView{App: app, Secret: secret, New: true}})
}

func clientType(c *client.Client) string {
	if c.Public {
		return "public"
	}
	return "confidential"
}

// app loads the app of the path's {id}, or answers 404.
func (c *Console) app(w http.ResponseWriter, r *http.Request, a *Admin) *client.Client {
	app, err := c.d.Clients.Get(r.Context(), r.PathValue("id"))
	if errors.Is(err, client.ErrNotFound) {
		c.Error(w, r, a, http.StatusNotFound, "No such app", "There is no app with this client ID. It may have been removed.")
		return nil
	}
	if err != nil {
		c.ServerError(w, r, a, "get client", err)
		return nil
	}
	return app
}

func appPath(id string) string { return Prefix + "/apps/" + url.PathEscape(id) }

func (c *Console) appShow(w http.ResponseWriter, r *http.Request, a *Admin) {
	app := c.app(w, r, a)
	if app == nil {
		return
	}
	c.Render(w, r, a, http.StatusOK, View{Name: "app", Title: app.Name,
		Data: AppView{App: app, RedirectURIs: strings.Join(app.RedirectURIs, "\n")}})
}

func (c *Console) appRedirects(w http.ResponseWriter, r *http.Request, a *Admin) {
	app := c.app(w, r, a)
	if app == nil {
		return
	}
	text := r.PostFormValue("redirect_uris")
	changed, err := c.d.Clients.SetRedirectURIs(r.Context(), app.ID, lines(text))
	if fes := client.FieldErrors(err); len(fes) > 0 {
		var msgs []string
		for _, fe := range fes {
			msgs = append(msgs, fe.Problem)
		}
		c.Render(w, r, a, http.StatusUnprocessableEntity, View{Name: "app", Title: app.Name,
			Error: "The redirect URIs were not saved.", Data: AppView{App: app, RedirectURIs: text, RedirectErr: strings.Join(msgs, "; ")}})
		return
	}
	if err != nil {
		c.ServerError(w, r, a, "set redirect URIs", err)
		return
	}
	c.Record(r, audit.Event{Kind: audit.ClientChanged, ClientID: app.ID, Detail: "redirect URIs: " + strings.Join(changed.RedirectURIs, " ")})
	c.Done(w, r, appPath(app.ID), "app-redirects")
}

func (c *Console) appRotate(w http.ResponseWriter, r *http.Request, a *Admin) {
	app := c.app(w, r, a)
	if app == nil {
		return
	}
	app, secret, err := c.d.Clients.RotateSecret(r.Context(), app.ID)
	switch {
	case errors.Is(err, client.ErrPublicNoSecret), errors.Is(err, client.ErrConfigSecret):
		c.Error(w, r, a, http.StatusConflict, "The secret was not changed", upperFirst(err.Error())+".")
		return
	case err != nil:
		c.ServerError(w, r, a, "rotate client secret", err)
		return
	}
	c.Record(r, audit.Event{Kind: audit.ClientSecretRotated, ClientID: app.ID, Detail: "new secret; the old one no longer works"})
	c.Render(w, r, a, http.StatusOK, View{Name: "app_secret", Title: "New secret", Data: AppSecretView{App: app, Secret: secret}})
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func (c *Console) appEnable(enabled bool) Handler {
	return func(w http.ResponseWriter, r *http.Request, a *Admin) {
		app := c.app(w, r, a)
		if app == nil {
			return
		}
		if _, err := c.d.Clients.SetEnabled(r.Context(), app.ID, enabled); err != nil {
			c.ServerError(w, r, a, "enable client", err)
			return
		}
		detail, notice := "disabled: tokens revoked", "app-disabled"
		if enabled {
			detail, notice = "enabled", "app-enabled"
		}
		c.Record(r, audit.Event{Kind: audit.ClientChanged, ClientID: app.ID, Detail: detail})
		c.Done(w, r, appPath(app.ID), notice)
	}
}

func (c *Console) appRemove(w http.ResponseWriter, r *http.Request, a *Admin) {
	app := c.app(w, r, a)
	if app == nil {
		return
	}
	if r.PostFormValue("confirm") != app.ID {
		c.Render(w, r, a, http.StatusUnprocessableEntity, View{Name: "app", Title: app.Name,
			Error: "To remove the app, type its client ID in the box.", Data: AppView{App: app, RedirectURIs: strings.Join(app.RedirectURIs, "\n")}})
		return
	}
	if err := c.d.Clients.Remove(r.Context(), app.ID); err != nil && !errors.Is(err, client.ErrNotFound) {
		c.ServerError(w, r, a, "remove client", err)
		return
	}
	c.Record(r, audit.Event{Kind: audit.ClientRemoved, ClientID: app.ID, Detail: "removed; tokens revoked"})
	c.Done(w, r, Prefix+"/apps", "app-removed")
}
