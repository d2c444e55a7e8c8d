package console

import (
	"errors"
	"net/http"

	"github.com/inkpass/inkpass/internal/branding"
)

// Settings: the studio's look (internal/branding): name, accent colour,
// support contact and logo, over the config file's defaults. The branding
// service checks every value and audits every change with the admin.

func init() {
	registerSection(Section{Name: "Settings", Path: Prefix + "/settings", Order: 70, Routes: func(c *Console) {
		on := c.availableIf(c.d.Branding != nil, "Settings are not available", "This server was started without the branding settings.")
		c.Handle("GET /admin/settings", on(c.settings))
		c.Handle("POST /admin/settings", on(c.settingsSave))
		c.Handle("POST "+LogoUploadPath, on(c.logoUpload))
		c.Handle("POST /admin/settings/logo/remove", on(c.logoRemove))
	}, Notices: map[string]string{
		"settings-saved": "The settings are saved; every page shows them now.",
		"logo-saved":     "The logo is saved.",
		"logo-removed":   "The uploaded logo is removed.",
	}})
}

// LogoUploadPath is where the logo form posts: the one console address
// that takes a file, so the body limit in front of it (internal/web) is
// raised for it alone.
const LogoUploadPath = Prefix + "/settings/logo"

// MaxUploadBody bounds the logo form's body: the largest logo and the
// form's other fields with room for the multipart framing.
const MaxUploadBody = branding.MaxLogoBytes + 16<<10

// SettingsView is the Settings page's data.
type SettingsView struct {
	// Form is what the form shows: the stored overrides ("" for the
	// default), or what was typed when it was refused.
	Form     branding.Settings
	Defaults branding.Settings
	Errors   map[string]string
	// LogoSrc is the uploaded logo's address, "" for none.
	LogoSrc string
	// MaxLogoKiB and the sides are the upload's limits, for the hint.
	MaxLogoKiB, MinSide, MaxSide int
}

func (c *Console) settingsView(r *http.Request) (SettingsView, error) {
	stored, err := c.d.Branding.Stored(r.Context())
	if err != nil {
		return SettingsView{}, err
	}
	v := SettingsView{Form: stored, Defaults: c.d.Branding.Defaults(), Errors: map[string]string{},
		MaxLogoKiB: branding.MaxLogoBytes >> 10, MinSide: branding.MinLogoSide, MaxSide: branding.MaxLogoSide}
	if stored.HasLogo {
		v.LogoSrc = stored.LogoSrc()
	}
	return v, nil
}

func (c *Console) settings(w http.ResponseWriter, r *http.Request, a *Admin) {
	v, err := c.settingsView(r)
	if err != nil {
		c.ServerError(w, r, a, "load branding", err)
		return
	}
	c.Render(w, r, a, http.StatusOK, View{Name: "settings", Title: "Settings", Data: v})
}

// refused shows the form again with each field's problem.
func (c *Console) settingsRefused(w http.ResponseWriter, r *http.Request, a *Admin, typed *branding.Settings, err error) {
	v, lerr := c.settingsView(r)
	if lerr != nil {
		c.ServerError(w, r, a, "load branding", lerr)
		return
	}
	if typed != nil {
		v.Form.Name, v.Form.AccentColor, v.Form.SupportContact = typed.Name, typed.AccentColor, typed.SupportContact
	}
	var ve *branding.ValidationError
	var fe *branding.FieldError
	switch {
	case errors.As(err, &ve):
		for _, f := range ve.Fields {
			v.Errors[f.Field] = f.Problem
		}
	case errors.As(err, &fe):
		v.Errors[fe.Field] = fe.Problem
	default:
		v.Errors["logo"] = err.Error()
	}
	c.Render(w, r, a, http.StatusUnprocessableEntity, View{Name: "settings", Title: "Settings",
		Error: "Nothing was changed: see the fields marked below.", Data: v})
}

func (c *Console) settingsSave(w http.ResponseWriter, r *http.Request, a *Admin) {
	in := branding.Settings{Name: r.PostFormValue("name"), AccentColor: r.PostFormValue("accent_color"), SupportContact: r.PostFormValue("support_contact")}
	err := c.d.Branding.Update(r.Context(), in, a.User.Username)
	var ve *branding.ValidationError
	if errors.As(err, &ve) {
		c.settingsRefused(w, r, a, &in, err)
		return
	}
	if err != nil {
		c.ServerError(w, r, a, "update branding", err)
		return
	}
	c.Done(w, r, Prefix+"/settings", "settings-saved")
}

// errNoFile is the logo form posted without a file: nothing chosen, or
// the form came back through the re-authentication page, which cannot
// carry a file.
var errNoFile = errors.New("choose the logo file (again, if you were just asked for your password)")

func (c *Console) logoUpload(w http.ResponseWriter, r *http.Request, a *Admin) {
	data, err := uploadedLogo(r)
	if err != nil {
		c.settingsRefused(w, r, a, nil, err)
		return
	}
	err = c.d.Branding.SetLogo(r.Context(), data, a.User.Username)
	var fe *branding.FieldError
	if errors.As(err, &fe) {
		c.settingsRefused(w, r, a, nil, err)
		return
	}
	if err != nil {
		c.ServerError(w, r, a, "set logo", err)
		return
	}
	c.Done(w, r, Prefix+"/settings", "logo-saved")
}

// uploadedLogo reads the form's file, no more than a logo may have.
func uploadedLogo(r *http.Request) ([]byte, error) {
	if r.MultipartForm == nil {
		return nil, errNoFile
	}
	f, _, err := r.FormFile("logo")
	if errors.Is(err, http.ErrMissingFile) {
		return nil, errNoFile
	}
	if err != nil {
		return nil, errors.New("the file could not be read")
	}
	defer f.Close()
	data, err := branding.ReadLogo(f)
	var fe *branding.FieldError
	if errors.As(err, &fe) {
		return nil, err
	}
	if err != nil {
		return nil, errors.New("the file could not be read")
	}
	if len(data) == 0 {
		return nil, errNoFile
	}
	return data, nil
}

func (c *Console) logoRemove(w http.ResponseWriter, r *http.Request, a *Admin) {
	if err := c.d.Branding.RemoveLogo(r.Context(), a.User.Username); err != nil {
		c.ServerError(w, r, a, "remove logo", err)
		return
	}
	c.Done(w, r, Prefix+"/settings", "logo-removed")
}
