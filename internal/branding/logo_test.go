package branding

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"math/rand/v2"
	"os"
	"testing"
)

// pngOf draws a w×h PNG; noisy pixels make it compress badly (a big file).
func pngOf(t testing.TB, w, h int, noisy bool) []byte {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	rng := rand.New(rand.NewPCG(1, 2))
	for y := range h {
		for x := range w {
			c := color.NRGBA{R: uint8(x), G: uint8(y), B: 0x80, A: 0xff}
			if noisy {
				c = color.NRGBA{R: uint8(rng.Uint32()), G: uint8(rng.Uint32()), B: uint8(rng.Uint32()), A: 0xff}
			}
			img.Set(x, y, c)
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func jpegOf(t testing.TB, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = uint8(i)
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, nil); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestCheckLogo(t *testing.T) {
	webp, err := os.ReadFile("testdata/logo.webp") // 150×100, from golang.org/x/image's test data
	if err != nil {
		t.Fatal(err)
	}
	good := pngOf(t, 64, 48, false)
	big := pngOf(t, 400, 400, true)
	if len(big) <= MaxLogoBytes {
		t.Fatalf("the noisy PNG is only %d bytes; the test needs more than %d", len(big), MaxLogoBytes)
	}
	tests := []struct {
		name     string
		data     []byte
		wantType string // "" for refused
		w, h     int
	}{
		{name: "a PNG is accepted", data: good, wantType: TypePNG, w: 64, h: 48},
		{name: "a JPEG is accepted", data: jpegOf(t, 120, 40), wantType: TypeJPEG, w: 120, h: 40},
		{name: "a WebP is accepted", data: webp, wantType: TypeWebP, w: 150, h: 100},
		{name: "an SVG is refused (it may carry scripts)", data: []byte(`<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64"><script>alert(1)</script></svg>`)},
		{name: "an SVG with an XML declaration is refused", data: []byte(`<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>`)},
		{name: "HTML named logo.png is refused", data: []byte("<!doctype html><html><script>alert(document.cookie)</script></html>")},
		{name: "a GIF is refused", data: []byte("GIF89a\x10\x00\x10\x00\x00\x00\x00;")},
		{name: "a PNG signature before HTML is refused", data: append([]byte("\x89PNG\r\n\x1a\n"), "<html><script>alert(1)</script>"...)},
		{name: "a truncated PNG is refused", data: good[:len(good)/2]},
		{name: "a PNG with a corrupt body is refused", data: corrupt(good)},
		{name: "a RIFF that is not WebP is refused", data: []byte("RIFF\x24\x00\x00\x00WAVEfmt ")},
		{name: "a file over 256 KiB is refused", data: big},
		{name: "an 8×8 image is refused", data: pngOf(t, 8, 8, false)},
		{name: "a 3000-pixel-wide image is refused", data: pngOf(t, 3000, 16, false)},
		{name: "nothing is refused", data: nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l, err := CheckLogo(tc.data)
			if tc.wantType == "" {
				var fe *FieldError
				if !errors.As(err, &fe) || fe.Field != "logo" {
					t.Fatalf("CheckLogo = %+v, %v; want a FieldError on logo", l.ContentType, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("CheckLogo: %v", err)
			}
			if l.ContentType != tc.wantType || l.Width != tc.w || l.Height != tc.h || !bytes.Equal(l.Data, tc.data) {
				t.Fatalf("CheckLogo = %s %d×%d; want %s %d×%d", l.ContentType, l.Width, l.Height, tc.wantType, tc.w, tc.h)
			}
		})
	}
}

// corrupt flips bytes inside the image data but keeps the header intact, so
// DecodeConfig alone would accept it.
func corrupt(p []byte) []byte {
	out := bytes.Clone(p)
	i := bytes.Index(out, []byte("IDAT"))
	for j := i + 8; j < i+40 && j < len(out); j++ {
		out[j] ^= 0x5a
	}
	return out
}

func TestReadLogo_StopsAtTheLimit(t *testing.T) {
	if data, err := ReadLogo(bytes.NewReader(make([]byte, MaxLogoBytes))); err != nil || len(data) != MaxLogoBytes {
		t.Fatalf("ReadLogo(256 KiB) = %d bytes, %v", len(data), err)
	}
	r := &countingReader{n: 10 << 20}
	_, err := ReadLogo(r)
	var fe *FieldError
	if !errors.As(err, &fe) || fe.Field != "logo" {
		t.Fatalf("ReadLogo(10 MiB) = %v; want a FieldError on logo", err)
	}
	if r.read > MaxLogoBytes+1 {
		t.Fatalf("ReadLogo read %d bytes of a 10 MiB upload; want at most %d", r.read, MaxLogoBytes+1)
	}
}

// countingReader yields n zero bytes and counts what was read.
type countingReader struct{ n, read int }

func (c *countingReader) Read(p []byte) (int, error) {
	if c.read >= c.n {
		return 0, io.EOF
	}
	k := min(len(p), c.n-c.read)
	clear(p[:k])
	c.read += k
	return k, nil
}
