package main

import (
	"bytes"
	"html/template"
	"log/slog"
	"net/http"
)

// The pages are parsed once at start-up; a template that does not parse is
// a programmer error, hence Must.
var (
	homeTemplate  = parsePage(homeHTML)
	errorTemplate = parsePage(errorHTML)
)

func parsePage(content string) *template.Template {
	return template.Must(template.Must(template.New("layout").Parse(layoutHTML)).Parse(content))
}

// errorPage is shown when a sign-in or sign-out is refused. Message is
// written for the user and never carries a token, a code or an error chain:
// those go to the log.
type errorPage struct {
	Title   string
	Message string
}

func (a *app) renderHome(w http.ResponseWriter, r *http.Request, page homePage) {
	a.render(w, r, http.StatusOK, homeTemplate, page)
}

func (a *app) renderError(w http.ResponseWriter, r *http.Request, status int, page errorPage) {
	a.render(w, r, status, errorTemplate, page)
}

// fail logs err once, at a level that says whose fault it is, and shows
// the user title and message.
func (a *app) fail(w http.ResponseWriter, r *http.Request, status int, title, message string, err error) {
	level := slog.LevelWarn
	if status >= 500 {
		level = slog.LevelError
	}
	a.log.Log(r.Context(), level, "refused", "path", r.URL.Path, "status", status, "err", err)
	a.renderError(w, r, status, errorPage{Title: title, Message: message})
}

// render executes into a buffer first, so that a template failure becomes
// a clean 500 instead of half a page.
func (a *app) render(w http.ResponseWriter, r *http.Request, status int, t *template.Template, data any) {
	var buf bytes.Buffer
	if err := t.Execute(&buf, data); err != nil {
		a.log.ErrorContext(r.Context(), "render page", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	buf.WriteTo(w)
}

const layoutHTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{template "title" .}} · Studio demo</title>
<style>
:root { color-scheme: light dark; --accent: #7a3cff; --muted: #6b6b76; --line: #d9d9e0; }
* { box-sizing: border-box; }
body { margin: 0; font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
header, main, footer { max-width: 42rem; margin: 0 auto; padding: 1rem; }
header { border-bottom: 1px solid var(--line); }
h1 { font-size: 1.6rem; margin: 1rem 0 .5rem; }
h2 { font-size: 1.15rem; margin: 1.5rem 0 .5rem; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .25rem 1rem; margin: 0; }
dt { color: var(--muted); }
dd { margin: 0; overflow-wrap: anywhere; }
pre { overflow-x: auto; padding: .75rem; border: 1px solid var(--line); border-radius: .4rem; font-size: .85rem; }
details { margin: 1.5rem 0; }
summary { cursor: pointer; }
.muted { color: var(--muted); font-size: .9rem; }
.notice, .warn, .error { padding: .75rem 1rem; border-radius: .4rem; border: 1px solid var(--line); }
.warn, .error { border-color: #c0392b; }
.button, button { display: inline-block; padding: .6rem 1.1rem; border: 0; border-radius: .4rem;
  background: var(--accent); color: #fff; font: inherit; text-decoration: none; cursor: pointer; }
.button:focus-visible, button:focus-visible, summary:focus-visible { outline: 3px solid var(--accent); outline-offset: 2px; }
@media (max-width: 30rem) { dl { grid-template-columns: 1fr; } dd { margin-bottom: .5rem; } }
</style>
</head>
<body>
<header><strong>Studio demo</strong> <span class="muted">· a studio app that signs in through inkpass</span></header>
<main>
{{template "content" .}}
</main>
</body>
</html>
`

const homeHTML = `{{define "title"}}{{if .SignedIn}}Who you are{{else}}Welcome{{end}}{{end}}
{{define "content"}}
{{with .Notice}}<p class="notice" role="status">{{.}}</p>{{end}}
{{if .SignedIn}}
<h1>Hello, {{or .Profile.Name .Profile.Username "there"}}</h1>

<h2>Who you are</h2>
<dl>
{{with .Profile.Name}}<dt>Name</dt><dd>{{.}}</dd>{{end}}
{{with .Profile.Username}}<dt>Username</dt><dd>{{.}}</dd>{{end}}
<dt>Role</dt><dd>{{if .UnknownRole}}{{or .Profile.Role "none"}} (unknown to this app){{else}}{{.Role.Title}}{{end}}</dd>
{{with .Profile.ArtistID}}<dt>Artist</dt><dd>#{{.}}{{with $.Profile.ArtistName}} · {{.}}{{end}}</dd>{{end}}
{{with .Profile.Email}}<dt>Email</dt><dd>{{.}}</dd>{{end}}
{{with .Profile.Phone}}<dt>Phone</dt><dd>{{.}}</dd>{{end}}
{{with .Profile.Instagram}}<dt>Instagram</dt><dd>{{.}}</dd>{{end}}
{{with .Profile.Birthdate}}<dt>Birthdate</dt><dd>{{.}}</dd>{{end}}
<dt>Subject</dt><dd><code>{{.Profile.Subject}}</code></dd>
</dl>

<h2>What your role may do</h2>
{{if .UnknownRole}}
<p class="warn">inkpass sent {{with .Profile.Role}}the role “{{.}}”, which this app does not know{{else}}no role{{end}}, so this app allows nothing.</p>
{{else}}
<ul>{{range .Role.Abilities}}<li>{{.}}</li>{{end}}</ul>
{{end}}

{{with .UserInfoError}}<p class="warn" role="status">{{.}}</p>{{end}}
<details>
<summary>Raw claims from the ID token and userinfo</summary>
<h3>ID token</h3>
<pre>{{.IDTokenClaims}}</pre>
<h3>userinfo</h3>
{{if .UserInfoClaims}}<pre>{{.UserInfoClaims}}</pre>{{else}}<p class="muted">Not available.</p>{{end}}
</details>

<form method="post" action="/logout">
<input type="hidden" name="csrf" value="{{.CSRF}}">
<button type="submit">Sign out</button>
</form>
<p class="muted">{{if .EndSession}}Signs you out of this app and of inkpass.{{else}}Signs you out of this app only: inkpass does not offer RP-initiated logout.{{end}}</p>
{{else}}
<h1>Welcome to the studio</h1>
<p>This app does not know who you are yet. Sign in with your studio account to see your name, your role and what your role may do.</p>
<p><a class="button" href="/login">Sign in with inkpass</a></p>
{{end}}
<p class="muted">Issuer {{.Issuer}} · client {{.ClientID}}</p>
{{end}}
`

const errorHTML = `{{define "title"}}{{.Title}}{{end}}
{{define "content"}}
<h1>{{.Title}}</h1>
<p class="error" role="alert">{{.Message}}</p>
<p><a class="button" href="/">Back to the start</a></p>
{{end}}
`
