package branding

import (
	"errors"
	"strings"
	"testing"
)

func TestNormalizeName(t *testing.T) {
	tests := []struct {
		name, in, want string
		bad            bool
	}{
		{name: "a plain name is kept", in: "Lotus Tattoo", want: "Lotus Tattoo"},
		{name: "spaces around are trimmed", in: "  Lotus  ", want: "Lotus"},
		{name: "empty means the default", in: "   ", want: ""},
		{name: "punctuation and accents are fine", in: "Ink & Needle — Café №7", want: "Ink & Needle — Café №7"},
		{name: "64 characters are fine", in: strings.Repeat("é", 64), want: strings.Repeat("é", 64)},
		{name: "65 characters are refused", in: strings.Repeat("a", 65), bad: true},
		{name: "a newline is refused (mail header injection)", in: "Lotus\r\nBcc: x@example.com", bad: true},
		{name: "a tab is refused", in: "Lo\ttus", bad: true},
		{name: "a right-to-left override is refused", in: "Lotus\u202egpj.exe", bad: true},
		{name: "a zero-width joiner is refused", in: "Lo\u200dtus", bad: true},
		{name: "a line separator is refused", in: "Lo\u2028tus", bad: true},
		{name: "punctuation alone is refused", in: "---", bad: true},
		{name: "invalid UTF-8 is refused", in: "Lo\xfftus", bad: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := NormalizeName(tc.in)
			if tc.bad {
				var fe *FieldError
				if !errors.As(err, &fe) || fe.Field != "name" {
					t.Fatalf("NormalizeName(%q) = %q, %v; want a FieldError on name", tc.in, got, err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("NormalizeName(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
			}
		})
	}
}

func TestNormalizeAccent(t *testing.T) {
	tests := []struct {
		in, want string
		bad      bool
	}{
		{in: "#c23a30", want: "#c23a30"},
		{in: "#C23A30", want: "#c23a30"},
		{in: " #00ff7f ", want: "#00ff7f"},
		{in: "", want: ""},
		{in: "c23a30", bad: true},
		{in: "#c23", bad: true},
		{in: "#c23a3000", bad: true},
		{in: "red", bad: true},
		{in: "rgb(1,2,3)", bad: true},
		{in: "#gg0000", bad: true},
		{in: "#c23a30;}body{display:none", bad: true},
		{in: "#c23a30\n", want: "#c23a30"},
		{in: "#c23a30\n}", bad: true},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := NormalizeAccent(tc.in)
			if tc.bad {
				var fe *FieldError
				if !errors.As(err, &fe) || fe.Field != "accent_color" {
					t.Fatalf("NormalizeAccent(%q) = %q, %v; want a FieldError on accent_color", tc.in, got, err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("NormalizeAccent(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
			}
		})
	}
}

func TestNormalizeContact(t *testing.T) {
	tests := []struct {
		in, want string
		bad      bool
	}{
		{in: "", want: ""},
		{in: "help@lotus.example", want: "mailto:help@lotus.example"},
		{in: "mailto:help@lotus.example", want: "mailto:help@lotus.example"},
		{in: "MAILTO:help@lotus.example", want: "mailto:help@lotus.example"},
		{in: "https://lotus.example/help", want: "https://lotus.example/help"},
		{in: "HTTPS://lotus.example/help?x=1", want: "https://lotus.example/help?x=1"},
		{in: "http://lotus.example/help", bad: true},
		{in: "javascript:alert(1)", bad: true},
		{in: "data:text/html,hi", bad: true},
		{in: "mailto:help@lotus.example?bcc=everyone@example.com", bad: true},
		{in: "mailto:a@x.example,b@y.example", bad: true},
		{in: "Help <help@lotus.example>", bad: true},
		{in: "help@localhost", bad: true},
		{in: "help", bad: true},
		{in: "lotus.example", bad: true},
		{in: "https://", bad: true},
		{in: "https://user:pw@lotus.example/", bad: true},
		{in: "https://lotus.example/a b", bad: true},
		{in: "https://lotus.example/\nx", bad: true},
		{in: "//lotus.example/help", bad: true},
		{in: "https://lotus.example/" + strings.Repeat("a", 300), bad: true},
		{in: strings.Repeat("a", 250) + "@lotus.example", bad: true},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := NormalizeContact(tc.in)
			if tc.bad {
				var fe *FieldError
				if !errors.As(err, &fe) || fe.Field != "support_contact" {
					t.Fatalf("NormalizeContact(%q) = %q, %v; want a FieldError on support_contact", tc.in, got, err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("NormalizeContact(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
			}
		})
	}
}

func TestNormalize_ReportsEveryField(t *testing.T) {
	_, err := Normalize(Settings{Name: "\x00", AccentColor: "blue", SupportContact: "ftp://x"})
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("Normalize = %v; want a *ValidationError", err)
	}
	var fields []string
	for _, f := range ve.Fields {
		fields = append(fields, f.Field)
	}
	if got := strings.Join(fields, ","); got != "name,accent_color,support_contact" {
		t.Fatalf("fields = %s; want name,accent_color,support_contact", got)
	}
}

func TestTextColor_ChoosesTheHigherContrast(t *testing.T) {
	tests := []struct {
		bg, want string
	}{
		{"#c23a30", "#ffffff"}, // the default accent: 5.33:1 with white
		{"#ffcf5c", "#000000"},
		{"#000000", "#ffffff"},
		{"#ffffff", "#000000"},
		{"#777777", "#000000"}, // mid grey: black 4.69, white 4.48
		{"#757575", "#ffffff"}, // two steps darker: white 4.61, black 4.56
		{"#0000ff", "#ffffff"},
		{"#00ff00", "#000000"},
		{"#ff0000", "#000000"}, // pure red: black 5.25, white 4.00
	}
	for _, tc := range tests {
		t.Run(tc.bg, func(t *testing.T) {
			got := TextColor(tc.bg)
			other := "#000000"
			if got == other {
				other = "#ffffff"
			}
			if ContrastRatio(tc.bg, got) < ContrastRatio(tc.bg, other) {
				t.Fatalf("TextColor(%s) = %s (%.2f:1) but %s has %.2f:1", tc.bg, got, ContrastRatio(tc.bg, got), other, ContrastRatio(tc.bg, other))
			}
			if got != tc.want {
				t.Fatalf("TextColor(%s) = %s; want %s (black %.2f:1, white %.2f:1)", tc.bg, got, tc.want,
					ContrastRatio(tc.bg, "#000000"), ContrastRatio(tc.bg, "#ffffff"))
			}
			if r := ContrastRatio(tc.bg, got); r < 4.5 {
				t.Fatalf("TextColor(%s) = %s has %.2f:1, below WCAG AA 4.5:1", tc.bg, got, r)
			}
		})
	}
}

func TestContrastRatio_KnownValues(t *testing.T) {
	tests := []struct {
		a, b string
		want float64
	}{
		{"#000000", "#ffffff", 21},
		{"#ffffff", "#ffffff", 1},
		{"#c23a30", "#ffffff", 5.33},
		{"#777777", "#ffffff", 4.48},
	}
	for _, tc := range tests {
		if got := ContrastRatio(tc.a, tc.b); got < tc.want-0.01 || got > tc.want+0.01 {
			t.Errorf("ContrastRatio(%s, %s) = %.3f; want %.2f", tc.a, tc.b, got, tc.want)
		}
	}
}

// Every accent, whatever the admin picks, gets a label and a hover shade
// that keep WCAG AA contrast.
func TestThemeCSS_KeepsLabelContrast(t *testing.T) {
	for _, accent := range []string{"#000000", "#ffffff", "#777777", "#757575", "#c23a30", "#ffcf5c", "#17191f", "#00ff00", "#0000ff", "#808080"} {
		s := Settings{AccentColor: accent}
		css := string(s.ThemeCSS())
		prop := func(name string) string {
			i := strings.Index(css, name+": ")
			if i < 0 {
				t.Fatalf("%s: no %s in %q", accent, name, css)
			}
			return css[i+len(name)+2 : i+len(name)+9]
		}
		if prop("--primary") != accent {
			t.Errorf("%s: --primary is %s", accent, prop("--primary"))
		}
		text := prop("--on-primary")
		for _, bg := range []string{prop("--primary"), prop("--primary-hover")} {
			if r := ContrastRatio(bg, text); r < 4.5 {
				t.Errorf("%s: label %s on %s has %.2f:1, below 4.5:1", accent, text, bg, r)
			}
		}
		if edge := prop("--primary-edge"); ContrastRatio(edge, cardSurface) < 3 {
			t.Errorf("%s: button edge %s has %.2f:1 with the card, below 3:1", accent, edge, ContrastRatio(edge, cardSurface))
		}
	}
}

func TestSettings_Links(t *testing.T) {
	s := Settings{HasLogo: true, LogoVersion: 7, LogoURL: "https://cdn.example/logo.png", AccentColor: "#00ff7f", Version: 9,
		SupportContact: "mailto:help@lotus.example"}
	if got := s.LogoSrc(); got != "/branding/logo?v=7" {
		t.Errorf("LogoSrc = %q", got)
	}
	if got := s.ThemeSrc(); got != "/branding/theme.css?v=9-00ff7f" {
		t.Errorf("ThemeSrc = %q", got)
	}
	if href, label := s.Support(); href != "mailto:help@lotus.example" || label != "help@lotus.example" {
		t.Errorf("Support = %q, %q", href, label)
	}
	s = Settings{LogoURL: "https://cdn.example/logo.png", SupportContact: "https://lotus.example/help/"}
	if got := s.LogoSrc(); got != "https://cdn.example/logo.png" {
		t.Errorf("LogoSrc without an upload = %q; want the config's logo_url", got)
	}
	if got := s.ThemeSrc(); got != "" {
		t.Errorf("ThemeSrc with the default accent = %q; want none", got)
	}
	if got := s.Accent(); got != DefaultAccent {
		t.Errorf("Accent = %q; want %q", got, DefaultAccent)
	}
	if href, label := s.Support(); href != "https://lotus.example/help/" || label != "lotus.example/help" {
		t.Errorf("Support = %q, %q", href, label)
	}
}

func TestSettings_Mail(t *testing.T) {
	s := Settings{Name: "Lotus", HasLogo: true, LogoVersion: 4, AccentColor: "#ffcf5c", SupportContact: "mailto:help@lotus.example"}
	got := s.Mail("https://id.lotus.example/")
	want := MailLook{Name: "Lotus", LogoURL: "https://id.lotus.example/branding/logo?v=4", Accent: "#ffcf5c", AccentText: "#000000",
		SupportHref: "mailto:help@lotus.example", SupportLabel: "help@lotus.example"}
	if got != want {
		t.Fatalf("Mail = %+v; want %+v", got, want)
	}
	for logo, want := range map[string]string{"https://cdn.example/l.png": "https://cdn.example/l.png", "http://cdn.example/l.png": "", "//cdn.example/l.png": "", "/static/l.png": "https://id.example/static/l.png"} {
		if got := (Settings{LogoURL: logo}).Mail("https://id.example").LogoURL; got != want {
			t.Errorf("config logo %q in mail = %q; want %q", logo, got, want)
		}
	}
	if got := (Settings{}).Mail("https://id.example"); got.Accent != DefaultAccent || got.AccentText != "#ffffff" || got.LogoURL != "" {
		t.Errorf("default Mail = %+v", got)
	}
}
