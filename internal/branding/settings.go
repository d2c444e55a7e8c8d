// Package branding is the studio's own look on inkpass's pages and messages:
// its name, logo, accent colour and support contact. The defaults come from
// the config file; an admin may override each of them in the database (the
// console's Settings page), and Service.Current gives the values in effect,
// cached in the process so that a page view costs no database read.
package branding

import (
	"fmt"
	"math"
	"net/mail"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// The paths internal/web serves the logo and the accent colour's stylesheet
// at. Each link carries ?v=<version>, so both can be cached for a year.
const (
	LogoPath  = "/branding/logo"
	ThemePath = "/branding/theme.css"
)

// DefaultAccent is the stylesheet's own accent (templates/static/inkpass.css,
// --primary), used when no accent colour is set.
const DefaultAccent = "#c23a30"

// MaxNameLength is the longest studio name, in characters.
const MaxNameLength = 64

// Settings is the studio's look as pages show it.
type Settings struct {
	// Name is the studio's name: at the top of every page, in page titles
	// and in messages. Never empty in the value Current returns.
	Name string
	// AccentColor is "#rrggbb" in lower case, or "" for the stylesheet's
	// own (DefaultAccent).
	AccentColor string
	// SupportContact is "mailto:address" or an https URL, or "" for none.
	// Update also takes a bare email address and stores it as mailto:.
	SupportContact string

	// HasLogo says an uploaded logo is stored; LogoVersion changes with
	// every upload or removal, and is the ?v= of the logo's URL.
	HasLogo     bool
	LogoVersion int64
	// LogoURL is the config file's logo_url (an https URL or a path on
	// inkpass's origin), shown when no logo is uploaded.
	LogoURL string

	// Version changes with every stored change (settings or logo); it is
	// the ?v= of the theme stylesheet.
	Version int64
	// UpdatedAt and UpdatedBy say who made the last stored change; zero
	// when nothing was ever changed from the console.
	UpdatedAt time.Time
	UpdatedBy string
}

// Accent is the accent colour in effect: AccentColor, or DefaultAccent.
func (s Settings) Accent() string {
	if s.AccentColor != "" {
		return s.AccentColor
	}
	return DefaultAccent
}

// AccentText is the colour of text on the accent (a button's label): black
// or white, whichever contrasts more with the accent (WCAG 2.x contrast
// ratio). Every colour has at least 4.58:1 with one of the two, so the label
// always meets WCAG AA for normal text.
func (s Settings) AccentText() string { return TextColor(s.Accent()) }

// LogoSrc is where the page's logo comes from: the uploaded logo's
// versioned path, or the config's logo_url, or "" for none.
func (s Settings) LogoSrc() string {
	if s.HasLogo {
		return LogoPath + "?v=" + strconv.FormatInt(s.LogoVersion, 10)
	}
	return s.LogoURL
}

// ThemeSrc is the versioned path of the stylesheet that sets the accent
// colour, or "" when the default accent is in effect (nothing to override).
func (s Settings) ThemeSrc() string {
	if s.AccentColor == "" {
		return ""
	}
	return ThemePath + "?v=" + strconv.FormatInt(s.Version, 10) + "-" + strings.TrimPrefix(s.AccentColor, "#")
}

// Support is the support contact as a link: href ("mailto:..." or the
// https URL) and the words to show (the address, or the URL without its
// scheme). Both are "" when there is no contact.
func (s Settings) Support() (href, label string) {
	c := s.SupportContact
	switch {
	case c == "":
		return "", ""
	case strings.HasPrefix(c, "mailto:"):
		return c, strings.TrimPrefix(c, "mailto:")
	}
	return c, strings.TrimSuffix(strings.TrimPrefix(c, "https://"), "/")
}

// FieldError is one bad setting: Field is name, accent_color,
// support_contact or logo.
type FieldError struct {
	Field   string
	Problem string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Problem }

// ValidationError collects every FieldError of one change, so a form can
// show them all at once.
type ValidationError struct {
	Fields []*FieldError
}

func (e *ValidationError) Error() string {
	parts := make([]string, len(e.Fields))
	for i, f := range e.Fields {
		parts[i] = f.Error()
	}
	return "invalid branding: " + strings.Join(parts, "; ")
}

// Normalize checks the three editable fields of s and returns them in their
// stored form (name trimmed, colour in lower case, a bare email address as
// mailto:). An empty field stays empty: it means "use the default". Every
// problem is reported at once in a *ValidationError.
func Normalize(s Settings) (Settings, error) {
	var errs []*FieldError
	var err error
	if s.Name, err = NormalizeName(s.Name); err != nil {
		errs = append(errs, err.(*FieldError))
	}
	if s.AccentColor, err = NormalizeAccent(s.AccentColor); err != nil {
		errs = append(errs, err.(*FieldError))
	}
	if s.SupportContact, err = NormalizeContact(s.SupportContact); err != nil {
		errs = append(errs, err.(*FieldError))
	}
	if len(errs) > 0 {
		return s, &ValidationError{Fields: errs}
	}
	return s, nil
}

// NormalizeName trims a studio name and checks it: at most MaxNameLength
// characters, at least one letter or digit, and no control, formatting or
// line-separator characters (a name goes into page titles and email
// headers, where a newline or a bidirectional override would be an
// injection). "" is allowed and means the default.
func NormalizeName(name string) (string, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return "", nil
	}
	bad := func(problem string) (string, error) { return "", &FieldError{Field: "name", Problem: problem} }
	if !utf8.ValidString(name) {
		return bad("is not valid UTF-8 text")
	}
	if utf8.RuneCountInString(name) > MaxNameLength {
		return bad(fmt.Sprintf("must be at most %d characters", MaxNameLength))
	}
	hasWord := false
	for _, r := range name {
		switch {
		case unicode.IsControl(r), unicode.In(r, unicode.Cf, unicode.Zl, unicode.Zp, unicode.Co, unicode.Cs):
			return bad("must not contain control or formatting characters")
		case unicode.IsLetter(r), unicode.IsDigit(r):
			hasWord = true
		}
	}
	if !hasWord {
		return bad("must contain a letter or a digit")
	}
	return name, nil
}

var hexColor = regexp.MustCompile(`^#[0-9a-fA-F]{6}$`)

// NormalizeAccent checks an accent colour, which must be written #rrggbb
// (no names, no short form, no rgb(): the value lands in a stylesheet, so
// only this one shape is let through), and returns it in lower case. ""
// means the default.
func NormalizeAccent(c string) (string, error) {
	c = strings.TrimSpace(c)
	if c == "" {
		return "", nil
	}
	if !hexColor.MatchString(c) {
		return "", &FieldError{Field: "accent_color", Problem: "must be a colour written #rrggbb, like #c23a30"}
	}
	return strings.ToLower(c), nil
}

// Limits of a support contact.
const (
	maxEmail = 254 // RFC 5321's path limit
	maxURL   = 300
)

// NormalizeContact checks a support contact: an email address (bare or as
// mailto:) or an https URL; it returns mailto:address or the URL. Anything
// else (http, javascript:, a mailto with headers such as ?bcc=) is refused.
// "" means none.
func NormalizeContact(c string) (string, error) {
	c = strings.TrimSpace(c)
	if c == "" {
		return "", nil
	}
	bad := func(problem string) (string, error) {
		return "", &FieldError{Field: "support_contact", Problem: problem}
	}
	for _, r := range c {
		if unicode.IsControl(r) || unicode.IsSpace(r) || unicode.In(r, unicode.Cf) {
			return bad("must not contain spaces or control characters")
		}
	}
	lower := strings.ToLower(c)
	switch {
	case strings.HasPrefix(lower, "mailto:"):
		return mailContact(c[len("mailto:"):])
	case strings.HasPrefix(lower, "https://"):
		if len(c) > maxURL {
			return bad(fmt.Sprintf("must be at most %d characters", maxURL))
		}
		u, err := url.Parse(c)
		if err != nil || u.Host == "" || u.User != nil || u.Opaque != "" {
			return bad("must be an email address or an https:// URL")
		}
		if h := u.Hostname(); h == "" || strings.ContainsAny(h, "<>\"'") {
			return bad("must be an email address or an https:// URL")
		}
		u.Scheme = "https"
		return u.String(), nil
	case strings.Contains(c, ":"):
		return bad("must be an email address or an https:// URL")
	case strings.Contains(c, "@"):
		return mailContact(c)
	}
	return bad("must be an email address or an https:// URL")
}

func mailContact(addr string) (string, error) {
	bad := &FieldError{Field: "support_contact", Problem: "must be a single email address, like help@studio.example"}
	if addr == "" || len(addr) > maxEmail || strings.ContainsAny(addr, "?&%<>\"(),;:[]\\") {
		return "", bad
	}
	a, err := mail.ParseAddress(addr)
	if err != nil || a.Name != "" || a.Address != addr {
		return "", bad
	}
	at := strings.LastIndexByte(addr, '@')
	if at <= 0 || !strings.Contains(addr[at+1:], ".") {
		return "", bad
	}
	return "mailto:" + addr, nil
}

// rgb parses "#rrggbb" (already checked) into its channels.
func rgb(c string) (r, g, b uint8) {
	v, _ := strconv.ParseUint(strings.TrimPrefix(c, "#"), 16, 32)
	return uint8(v >> 16), uint8(v >> 8), uint8(v)
}

// luminance is WCAG 2.x relative luminance of "#rrggbb".
func luminance(c string) float64 {
	r, g, b := rgb(c)
	lin := func(v uint8) float64 {
		s := float64(v) / 255
		if s <= 0.04045 {
			return s / 12.92
		}
		return math.Pow((s+0.055)/1.055, 2.4)
	}
	return 0.2126*lin(r) + 0.7152*lin(g) + 0.0722*lin(b)
}

// ContrastRatio is the WCAG 2.x contrast ratio of two "#rrggbb" colours,
// from 1 (the same) to 21 (black on white).
func ContrastRatio(a, b string) float64 {
	la, lb := luminance(a), luminance(b)
	if la < lb {
		la, lb = lb, la
	}
	return (la + 0.05) / (lb + 0.05)
}

// TextColor is "#000000" or "#ffffff", whichever has the higher contrast
// ratio with the background bg ("#rrggbb"). Lightness alone would choose
// wrong near the middle: #777777 reads better with black (4.69:1) than
// with white (4.48:1).
func TextColor(bg string) string {
	if ContrastRatio(bg, "#000000") > ContrastRatio(bg, "#ffffff") {
		return "#000000"
	}
	return "#ffffff"
}

// mix moves colour c a fraction t of the way towards target.
func mix(c, target string, t float64) string {
	r1, g1, b1 := rgb(c)
	r2, g2, b2 := rgb(target)
	ch := func(a, b uint8) uint8 { return uint8(math.Round(float64(a) + (float64(b)-float64(a))*t)) }
	return fmt.Sprintf("#%02x%02x%02x", ch(r1, r2), ch(g1, g2), ch(b1, b2))
}

// cardSurface is the card's background in inkpass.css (--surface), which
// the primary button sits on.
const cardSurface = "#17191f"

// ThemeCSS is the stylesheet that puts the accent colour in effect: custom
// properties that templates/static/inkpass.css reads. The hover shade moves
// away from the label's colour (darker under white text, lighter under
// black), so hovering never lowers the label's contrast; an accent too
// close to the card's surface (below the 3:1 WCAG asks of a control's
// boundary) gets a visible border.
func (s Settings) ThemeCSS() []byte {
	accent, text := s.Accent(), s.AccentText()
	hover := mix(accent, "#000000", 0.15)
	if text == "#000000" {
		hover = mix(accent, "#ffffff", 0.15)
	}
	edge, edgeHover := accent, hover
	if ContrastRatio(accent, cardSurface) < 3 {
		edge, edgeHover = "#6b7282", "#6b7282"
	}
	return fmt.Appendf(nil, ":root {\n  --primary: %s;\n  --primary-hover: %s;\n  --on-primary: %s;\n  --primary-edge: %s;\n  --primary-edge-hover: %s;\n}\n",
		accent, hover, text, edge, edgeHover)
}

// MailLook is the look of an email (invitation, password reset): what the
// message templates need, with absolute URLs, since a mail client resolves
// nothing against inkpass. Colours go into inline styles there (mail
// clients drop stylesheets); both are "#rrggbb".
type MailLook struct {
	Name                      string
	LogoURL                   string // absolute https or issuer URL, "" for none
	Accent, AccentText        string
	SupportHref, SupportLabel string
}

// Mail is s as an email shows it; issuer is inkpass's public URL (no
// trailing slash), which the uploaded logo's path is joined to.
func (s Settings) Mail(issuer string) MailLook {
	logo := s.LogoSrc()
	switch {
	case strings.HasPrefix(logo, "/") && !strings.HasPrefix(logo, "//"):
		logo = strings.TrimSuffix(issuer, "/") + logo
	case !strings.HasPrefix(logo, "https://"):
		logo = ""
	}
	href, label := s.Support()
	return MailLook{Name: s.Name, LogoURL: logo, Accent: s.Accent(), AccentText: s.AccentText(), SupportHref: href, SupportLabel: label}
}
