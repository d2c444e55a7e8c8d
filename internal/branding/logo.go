package branding

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"io"

	"golang.org/x/image/webp"
)

// Limits of an uploaded logo. It is shown 64 px high (128 on a dense
// screen), so a few hundred pixels is plenty; the side limit also bounds
// the memory the full decode below may take (2048² × 4 bytes = 16 MiB).
const (
	MaxLogoBytes = 256 << 10
	MinLogoSide  = 16
	MaxLogoSide  = 2048
)

// The logo's content types: the only three it may have.
const (
	TypePNG  = "image/png"
	TypeJPEG = "image/jpeg"
	TypeWebP = "image/webp"
)

// ErrNoLogo is returned for a logo that is not there.
var ErrNoLogo = errors.New("no logo")

// Logo is an uploaded logo, checked by CheckLogo.
type Logo struct {
	ContentType   string // TypePNG, TypeJPEG or TypeWebP, sniffed from Data
	Data          []byte
	Width, Height int
	// Version is the Settings.LogoVersion it was stored under.
	Version int64
}

// format is one accepted image format: how to recognise its bytes and how
// to decode them. The decoder is chosen by the sniffed type, never by the
// image package's registry, so a file is decoded as exactly what it is
// served as.
type format struct {
	contentType string
	match       func([]byte) bool
	config      func(io.Reader) (image.Config, error)
	decode      func(io.Reader) (image.Image, error)
}

var formats = []format{
	{TypePNG, func(b []byte) bool { return bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")) }, png.DecodeConfig, png.Decode},
	{TypeJPEG, func(b []byte) bool { return bytes.HasPrefix(b, []byte{0xff, 0xd8, 0xff}) }, jpeg.DecodeConfig, jpeg.Decode},
	{TypeWebP, func(b []byte) bool {
		return len(b) >= 12 && string(b[:4]) == "RIFF" && string(b[8:12]) == "WEBP"
	}, webp.DecodeConfig, webp.Decode},
}

// ReadLogo reads an upload (a multipart file part) up to MaxLogoBytes, and
// stops with a *FieldError as soon as it is longer, without reading the
// rest into memory. The console's upload route must accept a request body
// of at least MaxLogoBytes plus the form's overhead.
func ReadLogo(r io.Reader) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxLogoBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read logo: %w", err)
	}
	if len(data) > MaxLogoBytes {
		return nil, &FieldError{Field: "logo", Problem: fmt.Sprintf("must be at most %d KiB", MaxLogoBytes>>10)}
	}
	return data, nil
}

// CheckLogo checks an upload and returns it as a Logo. Its type is read from
// its first bytes, whatever the file was called or the browser claimed:
// PNG, JPEG and WebP only. SVG is refused (it may carry scripts), and so
// is everything else. It must be at most MaxLogoBytes, have sides from
// MinLogoSide to MaxLogoSide pixels, and decode whole (a valid header
// before garbage is refused). Problems are *FieldError on field "logo".
func CheckLogo(data []byte) (Logo, error) {
	bad := func(problem string) (Logo, error) { return Logo{}, &FieldError{Field: "logo", Problem: problem} }
	switch {
	case len(data) == 0:
		return bad("is empty")
	case len(data) > MaxLogoBytes:
		return bad(fmt.Sprintf("must be at most %d KiB", MaxLogoBytes>>10))
	}
	var f *format
	for i := range formats {
		if formats[i].match(data) {
			f = &formats[i]
			break
		}
	}
	if f == nil {
		return bad("must be a PNG, JPEG or WebP image")
	}
	cfg, err := f.config(bytes.NewReader(data))
	if err != nil {
		return bad("is not a readable image")
	}
	if cfg.Width < MinLogoSide || cfg.Height < MinLogoSide || cfg.Width > MaxLogoSide || cfg.Height > MaxLogoSide {
		return bad(fmt.Sprintf("must be between %d and %d pixels on each side (this one is %d×%d)",
			MinLogoSide, MaxLogoSide, cfg.Width, cfg.Height))
	}
	if _, err := f.decode(bytes.NewReader(data)); err != nil {
		return bad("is not a readable image")
	}
	return Logo{ContentType: f.contentType, Data: data, Width: cfg.Width, Height: cfg.Height}, nil
}
