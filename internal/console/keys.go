package console

import (
	"fmt"
	"net/http"

	"github.com/inkpass/inkpass/internal/audit"
	"github.com/inkpass/inkpass/internal/keys"
)

// Keys: the ID-token signing keys, and rotation through the server's own
// key set, so the new key signs and is in the JWKS from the next request
// (other servers on the same store pick it up within 30 seconds, as after
// `inkpass keys rotate`).

func init() {
	registerSection(Section{Name: "Keys", Path: Prefix + "/keys", Order: 50, Routes: func(c *Console) {
		on := c.availableIf(c.d.Keys != nil, "Keys are not available", "This server was started without its signing keys.")
		c.Handle("GET /admin/keys", on(c.keysList))
		c.Handle("POST /admin/keys/rotate", on(c.keysRotate))
	}, Notices: map[string]string{
		"keys-rotated": "A new key is active. The old one stays published until the tokens it signed have expired.",
	}})
}

// KeysView is the Keys page's data.
type KeysView struct {
	Keys []keys.Status
	// Algs are the algorithms a rotation may name.
	Algs []keys.Algorithm
	// RetainHours is how long a replaced key stays published.
	RetainHours int
}

func (c *Console) keysView() KeysView {
	return KeysView{Keys: c.d.Keys.Statuses(), Algs: keys.SupportedAlgorithms(), RetainHours: int(c.d.Keys.RetainFor().Hours())}
}

func (c *Console) keysList(w http.ResponseWriter, r *http.Request, a *Admin) {
	c.Render(w, r, a, http.StatusOK, View{Name: "keys", Title: "Signing keys", Data: c.keysView()})
}

func (c *Console) keysRotate(w http.ResponseWriter, r *http.Request, a *Admin) {
	alg, err := keys.ParseAlgorithm(r.PostFormValue("alg"))
	if err != nil {
		c.Render(w, r, a, http.StatusUnprocessableEntity, View{Name: "keys", Title: "Signing keys",
			Error: "Choose RS256, ES256 or EdDSA.", Data: c.keysView()})
		return
	}
	info, err := c.d.Keys.Rotate(alg)
	if info.KID != "" {
		// Stored (a failed prune of an old file does not undo it).
		c.Record(r, audit.Event{Kind: audit.KeyRotated, Detail: fmt.Sprintf("new key %s (%s)", info.KID, info.Algorithm)})
	}
	if err != nil && info.KID == "" {
		c.ServerError(w, r, a, "rotate keys", err)
		return
	}
	if err != nil {
		c.log.ErrorContext(r.Context(), "console: rotate keys", "err", err)
	}
	c.Done(w, r, Prefix+"/keys", "keys-rotated")
}
