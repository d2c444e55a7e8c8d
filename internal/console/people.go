package console

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/inkpass/inkpass/internal/audit"
	"github.com/inkpass/inkpass/internal/password"
	"github.com/inkpass/inkpass/internal/user"
)

func init() {
	registerSection(Section{Name: "People", Path: Prefix + "/people", Order: 10, Routes: func(c *Console) {
		c.Handle("GET /admin/people", c.peopleList)
		c.Handle("GET /admin/people/new", c.personNew)
		c.Handle("POST /admin/people", c.personCreate)
		c.Handle("GET /admin/people/{id}", c.personShow)
		c.Handle("POST /admin/people/{id}", c.personEdit)
		c.Handle("POST /admin/people/{id}/role", c.personRole)
		c.Handle("POST /admin/people/{id}/deactivate", c.personDeactivate)
		c.Handle("POST /admin/people/{id}/reactivate", c.personReactivate)
		c.Handle("POST /admin/people/{id}/reset-password", c.personResetLink)
		c.Handle("POST /admin/people/{id}/invite", c.personInviteLink)
		c.Handle("POST /admin/people/{id}/reset-mfa", c.personResetMFA)
	}, Notices: map[string]string{
		"person-saved":       "The changes are saved.",
		"person-role":        "The role is changed.",
		"person-deactivated": "The person is deactivated: their sessions and app access have ended.",
		"person-reactivated": "The person can sign in again.",
		"person-mfa-reset":   "Their second factors are removed; their sessions and app access have ended.",
	}})
}

// peoplePageSize is how many people one page of the list shows.
const peoplePageSize = 25

// PeopleFilter is the list's search form, as given.
type PeopleFilter struct {
	Q      string
	Role   string // "" or a role
	Active string // "", "yes", "no"
	Hash   string // "", "weak"
	MFA    string // "", "yes", "no"
	// SignIn: "", "7d" (within 7 days), "30d", "stale" (not in 30 days,
	// or never), "never".
	SignIn string
	Page   int
}

// PeopleView is the list page's data.
type PeopleView struct {
	Filter PeopleFilter
	Roles  []user.Role
	People []PersonRow
	Total  int
	// Prev and Next are the other pages' addresses, "" for none.
	Prev, Next string
	From, To   int
}

// PersonRow is one person in the list.
type PersonRow struct {
	Person
	WeakHash bool
}

func (c *Console) peopleList(w http.ResponseWriter, r *http.Request, a *Admin) {
	q := r.URL.Query()
	f := PeopleFilter{Q: strings.TrimSpace(q.Get("q")), Role: q.Get("role"), Active: q.Get("active"),
		Hash: q.Get("hash"), MFA: q.Get("mfa"), SignIn: q.Get("signin")}
	f.Page, _ = strconv.Atoi(q.Get("page"))
	f.Page = max(f.Page, 1)
	pq := PeopleQuery{Text: f.Q}
	if role, err := user.ParseRole(f.Role); err == nil {
		pq.Role, f.Role = role, string(role)
	} else {
		f.Role = ""
	}
	switch f.SignIn {
	case "7d", "30d", "stale", "never":
	default:
		f.SignIn = ""
	}
	pq.Active, f.Active = yesNo(f.Active)
	pq.HasFactor, f.MFA = yesNo(f.MFA)
	people, err := c.d.Store.SearchPeople(r.Context(), pq)
	if err != nil {
		c.ServerError(w, r, a, "search people", err)
		return
	}
	now := c.d.Now()
	var rows []PersonRow
	for _, p := range people {
		row := PersonRow{Person: p, WeakHash: c.d.WeakHash(p.PasswordHash)}
		if f.Hash == "weak" && !row.WeakHash || !signInMatches(f.SignIn, p.LastLogin, now) {
			continue
		}
		rows = append(rows, row)
	}
	if f.Hash != "weak" {
		f.Hash = ""
	}
	v := PeopleView{Filter: f, Roles: user.Roles, Total: len(rows)}
	start := (f.Page - 1) * peoplePageSize
	if start >= len(rows) && len(rows) > 0 {
		f.Page = (len(rows)-1)/peoplePageSize + 1
		start = (f.Page - 1) * peoplePageSize
		v.Filter.Page = f.Page
	}
	end := min(start+peoplePageSize, len(rows))
	if start < end {
		v.People, v.From, v.To = rows[start:end], start+1, end
	}
	if f.Page > 1 {
		v.Prev = f.url(f.Page - 1)
	}
	if end < len(rows) {
		v.Next = f.url(f.Page + 1)
	}
	c.Render(w, r, a, http.StatusOK, View{Name: "people", Title: "People", Data: v})
}

// yesNo reads a yes/no filter; anything else is "any".
func yesNo(s string) (*bool, string) {
	switch s {
	case "yes":
		t := true
		return &t, s
	case "no":
		f := false
		return &f, s
	}
	return nil, ""
}

// signInMatches applies the last-sign-in filter.
func signInMatches(filter string, last *time.Time, now time.Time) bool {
	within := func(d time.Duration) bool { return last != nil && now.Sub(*last) <= d }
	switch filter {
	case "7d":
		return within(7 * 24 * time.Hour)
	case "30d":
		return within(30 * 24 * time.Hour)
	case "stale":
		return !within(30 * 24 * time.Hour)
	case "never":
		return last == nil
	}
	return true
}

// url is the list's address with this filter at page n.
func (f PeopleFilter) url(n int) string {
	v := url.Values{}
	for k, s := range map[string]string{"q": f.Q, "role": f.Role, "active": f.Active, "hash": f.Hash, "mfa": f.MFA, "signin": f.SignIn} {
		if s != "" {
			v.Set(k, s)
		}
	}
	if n > 1 {
		v.Set("page", strconv.Itoa(n))
	}
	if len(v) == 0 {
		return Prefix + "/people"
	}
	return Prefix + "/people?" + v.Encode()
}

// PersonForm is the profile form's values, as typed.
type PersonForm struct {
	Username, Role, ArtistID, Name, Email, Phone, Instagram, Birthdate string
}

func personForm(r *http.Request) PersonForm {
	g := func(k string) string { return strings.TrimSpace(r.PostFormValue(k)) }
	return PersonForm{Username: g("username"), Role: g("role"), ArtistID: g("artist_id"), Name: g("name"),
		Email: g("email"), Phone: g("phone"), Instagram: g("instagram"), Birthdate: g("birthdate")}
}

func formOf(u *user.User) PersonForm {
	f := PersonForm{Username: u.Username, Role: string(u.Role), Name: u.Name, Email: u.Email, Phone: u.Phone,
		Instagram: u.Instagram, Birthdate: u.Birthdate}
	if u.ArtistID != nil {
		f.ArtistID = strconv.FormatInt(*u.ArtistID, 10)
	}
	return f
}

// NewPersonView is the create page's data.
type NewPersonView struct {
	Form    PersonForm
	Roles   []user.Role
	Artists []user.Artist
	// Invitations: the password may be left empty and a link made.
	Invitations bool
}

func (c *Console) personNew(w http.ResponseWriter, r *http.Request, a *Admin) {
	c.renderNew(w, r, a, http.StatusOK, PersonForm{Role: string(user.RoleAssistant)}, "")
}

func (c *Console) renderNew(w http.ResponseWriter, r *http.Request, a *Admin, status int, f PersonForm, msg string) {
	artists, err := c.d.Store.ListArtists(r.Context())
	if err != nil {
		c.ServerError(w, r, a, "list artists", err)
		return
	}
	c.Render(w, r, a, status, View{Name: "person_new", Title: "Add a person", Error: msg,
		Data: NewPersonView{Form: f, Roles: user.Roles, Artists: artists, Invitations: c.d.Links != nil}})
}

// artistIDOf reads the artist field: empty is none.
func artistIDOf(s string) (*int64, error) {
	if s == "" || s == "none" {
		return nil, nil
	}
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 {
		return nil, &user.FieldError{Field: "artist_id", Problem: "must be an artist of the list"}
	}
	return &id, nil
}

// LinkView shows a password-reset or invitation link, once.
type LinkView struct {
	Person  *user.User
	Kind    string // "invitation" or "password reset"
	Link    string
	Expires time.Time
}

func (c *Console) personCreate(w http.ResponseWriter, r *http.Request, a *Admin) {
	ctx := r.Context()
	f := personForm(r)
	role, err := user.ParseRole(f.Role)
	if err != nil {
		c.renderNew(w, r, a, http.StatusBadRequest, f, problems(err))
		return
	}
	artistID, err := artistIDOf(f.ArtistID)
	if err != nil {
		c.renderNew(w, r, a, http.StatusBadRequest, f, problems(err))
		return
	}
	pw := r.PostFormValue("password")
	invite := pw == ""
	if invite {
		if c.d.Links == nil {
			c.renderNew(w, r, a, http.StatusBadRequest, f, "Password: is required (invitation links are not available on this server).")
			return
		}
	}
	fields := user.User{Username: f.Username, Role: role, ArtistID: artistID, Name: f.Name,
		Email: f.Email, Phone: f.Phone, Instagram: f.Instagram, Birthdate: f.Birthdate}
	var u *user.User
	if invite {
		// No password until the person sets their own through the
		// invitation link: the row holds the marker no password matches
		// (`user show` says "no password yet"), as `user add --invite` does.
		u, err = c.d.Users.CreateInvited(ctx, fields, password.Unset)
	} else {
		u, err = c.d.Users.Create(ctx, fields, pw)
	}
	if err != nil {
		if msg := problems(err); msg != "" {
			c.renderNew(w, r, a, http.StatusBadRequest, f, msg)
			return
		}
		c.ServerError(w, r, a, "create user", err)
		return
	}
	c.Record(r, audit.Event{Kind: audit.UserCreated, UserID: u.ID, Username: u.Username, Detail: "role " + string(u.Role)})
	if !invite {
		c.Done(w, r, personURL(u.ID), "person-saved")
		return
	}
	link, expires, err := c.d.Links.Invite(ctx, u.ID, a.Actor())
	if err != nil {
		c.ServerError(w, r, a, "make invitation", err)
		return
	}
	c.Render(w, r, a, http.StatusOK, View{Name: "link", Title: "Invitation for " + u.Username,
		Notice: u.Username + " is added.", Data: LinkView{Person: u, Kind: "invitation", Link: link, Expires: expires}})
}

func personURL(id int64) string { return Prefix + "/people/" + strconv.FormatInt(id, 10) }

// problems is the readable sentence of a rule violation from user.Service,
// or "" for an error that is not one (a server error).
func problems(err error) string {
	label := map[string]string{"username": "Username", "role": "Role", "artist_id": "Artist", "name": "Name",
		"email": "Email", "phone": "Phone", "instagram": "Instagram", "birthdate": "Birth date", "password": "Password"}
	var ve *user.ValidationError
	var fe *user.FieldError
	switch {
	case errors.As(err, &ve):
		var parts []string
		for _, f := range ve.Fields {
			parts = append(parts, cmpOr(label[f.Field], f.Field)+": "+f.Problem+".")
		}
		return strings.Join(parts, " ")
	case errors.As(err, &fe):
		return cmpOr(label[fe.Field], fe.Field) + ": " + fe.Problem + "."
	case errors.Is(err, user.ErrUsernameTaken):
		return "Username: another person already has it (in any letter case)."
	case errors.Is(err, user.ErrEmailTaken):
		return "Email: another person already uses it."
	case errors.Is(err, user.ErrArtistNotFound):
		return "Artist: there is no such artist record."
	case errors.Is(err, user.ErrLastAdmin):
		return "This is the last active admin: make another admin first."
	}
	return ""
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// PersonView is one person's page.
type PersonView struct {
	Person    *user.User
	Form      PersonForm
	Roles     []user.Role
	Artists   []user.Artist
	HasFactor bool
	// Factors counts the second factors; MFA says the server has them.
	Factors  int
	MFA      bool
	Links    bool
	WeakHash bool
	Self     bool
	Events   []audit.Event
}

// person loads the {id} of the path, or answers itself.
func (c *Console) person(w http.ResponseWriter, r *http.Request, a *Admin) (*user.User, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		c.Error(w, r, a, http.StatusNotFound, "No such person", "There is nobody with that number.")
		return nil, false
	}
	u, err := c.d.Users.Get(r.Context(), id)
	if errors.Is(err, user.ErrNotFound) {
		c.Error(w, r, a, http.StatusNotFound, "No such person", "There is nobody with that number.")
		return nil, false
	}
	if err != nil {
		c.ServerError(w, r, a, "load user", err)
		return nil, false
	}
	return u, true
}

func (c *Console) personShow(w http.ResponseWriter, r *http.Request, a *Admin) {
	u, ok := c.person(w, r, a)
	if !ok {
		return
	}
	c.renderPerson(w, r, a, http.StatusOK, u, formOf(u), "")
}

func (c *Console) renderPerson(w http.ResponseWriter, r *http.Request, a *Admin, status int, u *user.User, f PersonForm, msg string) {
	ctx := r.Context()
	v := PersonView{Person: u, Form: f, Roles: user.Roles, MFA: c.d.MFA != nil, Links: c.d.Links != nil,
		WeakHash: c.d.WeakHash(u.PasswordHash), Self: u.ID == a.User.ID}
	var err error
	if v.Artists, err = c.d.Store.ListArtists(ctx); err != nil {
		c.ServerError(w, r, a, "list artists", err)
		return
	}
	if c.d.MFA != nil {
		factors, err := c.d.MFA.Factors(ctx, u.ID)
		if err != nil {
			c.ServerError(w, r, a, "list factors", err)
			return
		}
		v.Factors, v.HasFactor = len(factors), len(factors) > 0
	}
	if v.Events, err = c.d.Store.AuditEvents(ctx, audit.Filter{UserID: u.ID, Limit: 10}); err != nil {
		c.ServerError(w, r, a, "list events", err)
		return
	}
	c.Render(w, r, a, status, View{Name: "person", Title: u.Username, Error: msg, Data: v})
}

// personEdit saves the profile fields (not the role: personRole).
func (c *Console) personEdit(w http.ResponseWriter, r *http.Request, a *Admin) {
	u, ok := c.person(w, r, a)
	if !ok {
		return
	}
	f := personForm(r)
	p := user.Patch{}
	var changed []string
	set := func(col, now, was string, dst **string) {
		if now != was {
			v := now
			*dst = &v
			changed = append(changed, col)
		}
	}
	set("username", f.Username, u.Username, &p.Username)
	set("name", f.Name, u.Name, &p.Name)
	set("email", f.Email, u.Email, &p.Email)
	set("phone", f.Phone, u.Phone, &p.Phone)
	set("instagram", strings.TrimPrefix(f.Instagram, "@"), u.Instagram, &p.Instagram)
	set("birthdate", f.Birthdate, u.Birthdate, &p.Birthdate)
	if len(changed) == 0 {
		c.Done(w, r, personURL(u.ID), "person-saved")
		return
	}
	nu, err := c.d.Users.Update(r.Context(), u.ID, p)
	if err != nil {
		if msg := problems(err); msg != "" {
			keep := formOf(u)
			keep.Username, keep.Name, keep.Email, keep.Phone, keep.Instagram, keep.Birthdate = f.Username, f.Name, f.Email, f.Phone, f.Instagram, f.Birthdate
			c.renderPerson(w, r, a, http.StatusBadRequest, u, keep, msg)
			return
		}
		c.ServerError(w, r, a, "update user", err)
		return
	}
	c.Record(r, audit.Event{Kind: audit.UserUpdated, UserID: nu.ID, Username: nu.Username, Detail: "changed " + strings.Join(changed, ", ")})
	c.Done(w, r, personURL(u.ID), "person-saved")
}

// personRole changes the role and the linked artist together (one rule).
func (c *Console) personRole(w http.ResponseWriter, r *http.Request, a *Admin) {
	u, ok := c.person(w, r, a)
	if !ok {
		return
	}
	f := personForm(r)
	role, err := user.ParseRole(f.Role)
	var artistID *int64
	if err == nil {
		artistID, err = artistIDOf(f.ArtistID)
	}
	if err == nil && role != user.RoleArtist {
		// Only artists are linked to an artist record.
		artistID = nil
	}
	if err == nil && role == u.Role && equalID(artistID, u.ArtistID) {
		c.Done(w, r, personURL(u.ID), "person-role")
		return
	}
	if err == nil {
		_, err = c.d.Users.Update(r.Context(), u.ID, user.Patch{Role: &role, ArtistID: &artistID})
	}
	if err != nil {
		if msg := problems(err); msg != "" {
			keep := formOf(u)
			keep.Role, keep.ArtistID = f.Role, f.ArtistID
			c.renderPerson(w, r, a, http.StatusBadRequest, u, keep, msg)
			return
		}
		c.ServerError(w, r, a, "change role", err)
		return
	}
	c.Record(r, audit.Event{Kind: audit.UserUpdated, UserID: u.ID, Username: u.Username, Detail: "role " + string(u.Role) + " -> " + string(role)})
	c.Done(w, r, personURL(u.ID), "person-role")
}

func equalID(a, b *int64) bool {
	return a == nil && b == nil || a != nil && b != nil && *a == *b
}

func (c *Console) personDeactivate(w http.ResponseWriter, r *http.Request, a *Admin) {
	u, ok := c.person(w, r, a)
	if !ok {
		return
	}
	if err := c.d.Users.Deactivate(r.Context(), u.ID); err != nil {
		if msg := problems(err); msg != "" {
			c.renderPerson(w, r, a, http.StatusConflict, u, formOf(u), msg)
			return
		}
		c.ServerError(w, r, a, "deactivate user", err)
		return
	}
	c.Done(w, r, personURL(u.ID), "person-deactivated")
}

func (c *Console) personReactivate(w http.ResponseWriter, r *http.Request, a *Admin) {
	u, ok := c.person(w, r, a)
	if !ok {
		return
	}
	if err := c.d.Users.Reactivate(r.Context(), u.ID); err != nil {
		c.ServerError(w, r, a, "reactivate user", err)
		return
	}
	c.Done(w, r, personURL(u.ID), "person-reactivated")
}

func (c *Console) personResetLink(w http.ResponseWriter, r *http.Request, a *Admin) {
	c.personLink(w, r, a, "password reset")
}

func (c *Console) personInviteLink(w http.ResponseWriter, r *http.Request, a *Admin) {
	c.personLink(w, r, a, "invitation")
}

// personLink makes a password-reset or invitation link and shows it this
// once (the page is never cached; the link is stored only as a hash).
func (c *Console) personLink(w http.ResponseWriter, r *http.Request, a *Admin, kind string) {
	u, ok := c.person(w, r, a)
	if !ok {
		return
	}
	if c.d.Links == nil {
		c.Error(w, r, a, http.StatusNotImplemented, "Links are not available", "This server makes no invitation or password-reset links.")
		return
	}
	if !u.Active {
		c.renderPerson(w, r, a, http.StatusConflict, u, formOf(u), "Reactivate the person first: a deactivated person cannot sign in.")
		return
	}
	mk := c.d.Links.PasswordReset
	if kind == "invitation" {
		mk = c.d.Links.Invite
	}
	link, expires, err := mk(r.Context(), u.ID, a.Actor())
	if err != nil {
		c.ServerError(w, r, a, "make "+kind+" link", err)
		return
	}
	title := "Password reset for " + u.Username
	if kind == "invitation" {
		title = "Invitation for " + u.Username
	}
	c.Render(w, r, a, http.StatusOK, View{Name: "link", Title: title, Data: LinkView{Person: u, Kind: kind, Link: link, Expires: expires}})
}

func (c *Console) personResetMFA(w http.ResponseWriter, r *http.Request, a *Admin) {
	u, ok := c.person(w, r, a)
	if !ok {
		return
	}
	if c.d.MFA == nil {
		c.Error(w, r, a, http.StatusNotImplemented, "No second factors", "This server has no second factors to reset.")
		return
	}
	if _, err := c.d.MFA.Reset(r.Context(), u, a.Actor()); err != nil {
		c.ServerError(w, r, a, "reset second factors", err)
		return
	}
	c.Done(w, r, personURL(u.ID), "person-mfa-reset")
}
