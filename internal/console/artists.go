package console

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/inkpass/inkpass/internal/audit"
	"github.com/inkpass/inkpass/internal/user"
)

func init() {
	registerSection(Section{Name: "Artists", Path: Prefix + "/artists", Order: 20, Routes: func(c *Console) {
		c.Handle("GET /admin/artists", c.artistsList)
		c.Handle("POST /admin/artists", c.artistAdd)
		c.Handle("POST /admin/artists/{id}", c.artistRename)
	}, Notices: map[string]string{
		"artist-added":   "The artist is added.",
		"artist-renamed": "The artist is renamed.",
	}})
}

// maxArtistName is the CLI's limit (inkpass artist add).
const maxArtistName = 120

// ArtistsView is the artists page's data.
type ArtistsView struct {
	Artists []ArtistRow
	// Names: the studio's artists table has a name column, so artists can
	// be added and renamed here.
	Names bool
	// NewName is the add form's value after a refusal.
	NewName string
}

// ArtistRow is one artist with the people linked to it.
type ArtistRow struct {
	user.Artist
	People []*user.User
}

func (c *Console) artistsList(w http.ResponseWriter, r *http.Request, a *Admin) {
	c.renderArtists(w, r, a, http.StatusOK, "", "")
}

func (c *Console) renderArtists(w http.ResponseWriter, r *http.Request, a *Admin, status int, newName, msg string) {
	ctx := r.Context()
	artists, err := c.d.Store.ListArtists(ctx)
	if err != nil {
		c.ServerError(w, r, a, "list artists", err)
		return
	}
	people, err := c.d.Store.SearchPeople(ctx, PeopleQuery{Role: user.RoleArtist})
	if err != nil {
		c.ServerError(w, r, a, "list artist users", err)
		return
	}
	v := ArtistsView{Names: c.d.Store.ArtistsHaveNames(), NewName: newName}
	for _, ar := range artists {
		row := ArtistRow{Artist: ar}
		for _, p := range people {
			if p.ArtistID != nil && *p.ArtistID == ar.ID {
				row.People = append(row.People, p.User)
			}
		}
		v.Artists = append(v.Artists, row)
	}
	c.Render(w, r, a, status, View{Name: "artists", Title: "Artists", Error: msg, Data: v})
}

// artistName checks a name as the CLI does: trimmed, 1 to 120 characters.
func artistName(s string) (string, string) {
	n := strings.TrimSpace(s)
	if n == "" || utf8.RuneCountInString(n) > maxArtistName || strings.ContainsFunc(n, func(c rune) bool { return c < 0x20 || c == 0x7f }) {
		return "", "Name: is required, at most 120 characters, on one line."
	}
	return n, ""
}

func (c *Console) artistAdd(w http.ResponseWriter, r *http.Request, a *Admin) {
	if !c.d.Store.ArtistsHaveNames() {
		c.renderArtists(w, r, a, http.StatusConflict, "", "The studio's artists table has no name column: add artists in the studio's app.")
		return
	}
	name, problem := artistName(r.PostFormValue("name"))
	if problem != "" {
		c.renderArtists(w, r, a, http.StatusBadRequest, r.PostFormValue("name"), problem)
		return
	}
	id, err := c.d.Store.CreateArtist(r.Context(), name)
	if err != nil {
		c.ServerError(w, r, a, "create artist", err)
		return
	}
	c.Record(r, audit.Event{Kind: audit.ArtistCreated, Detail: "artist " + strconv.FormatInt(id, 10) + ": " + name})
	c.Done(w, r, Prefix+"/artists", "artist-added")
}

func (c *Console) artistRename(w http.ResponseWriter, r *http.Request, a *Admin) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		c.Error(w, r, a, http.StatusNotFound, "No such artist", "There is no artist with that number.")
		return
	}
	if !c.d.Store.ArtistsHaveNames() {
		c.renderArtists(w, r, a, http.StatusConflict, "", "The studio's artists table has no name column: rename artists in the studio's app.")
		return
	}
	name, problem := artistName(r.PostFormValue("name"))
	if problem != "" {
		c.renderArtists(w, r, a, http.StatusBadRequest, "", problem)
		return
	}
	err = c.d.Store.RenameArtist(r.Context(), id, name)
	if errors.Is(err, user.ErrArtistNotFound) {
		c.Error(w, r, a, http.StatusNotFound, "No such artist", "There is no artist with that number.")
		return
	}
	if err != nil {
		c.ServerError(w, r, a, "rename artist", err)
		return
	}
	c.Record(r, audit.Event{Kind: audit.ArtistRenamed, Detail: "artist " + strconv.FormatInt(id, 10) + ": " + name})
	c.Done(w, r, Prefix+"/artists", "artist-renamed")
}
