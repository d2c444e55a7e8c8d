// Package svgchart draws small bar charts as SVG on the server: no script,
// no external resource, no style attribute (a page's CSP need not allow
// inline styles), every text escaped. The chart is an image with a title and
// a description for screen readers (role="img", aria-labelledby), text
// labels on its axes and legend, and a <title> per bar that says its value,
// so the numbers are there without colour or hover.
package svgchart

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"html/template"
	"strconv"
)

// Series is one row of values, one per label, drawn as one bar per label.
type Series struct {
	// Name is the legend's text and the noun of each bar's title
	// ("sign-ins").
	Name string
	// Values are the bar heights, one per Chart.Labels entry; negative
	// values are drawn as zero.
	Values []int
	// Color is the bar fill: a CSS colour of letters, digits and '#'
	// only (anything else is refused), so it cannot close the attribute.
	Color string
}

// Chart is a grouped bar chart.
type Chart struct {
	// ID prefixes the ids of the title and description, which must be
	// unique in the page: letters, digits, '-' and '_'.
	ID string
	// Title and Desc are read by screen readers; Title is shown too.
	Title, Desc string
	// Labels name the groups along the x axis (days, say).
	Labels []string
	// LabelEvery shows every n-th label and the last (not an n-th one
	// closer than half a step before it, which would overlap it), so that
	// thirty days stay readable on a phone; 0 or 1 shows all.
	LabelEvery int
	Series     []Series
	// Width and Height are the viewBox's size; the image scales to its
	// box. Zero is 640 by 240.
	Width, Height int
}

// Layout margins inside the viewBox.
const (
	marginLeft   = 40
	marginRight  = 8
	marginTop    = 28
	marginBottom = 40
)

// Bars renders c. The result is safe to put in an HTML page as it is.
func Bars(c Chart) (template.HTML, error) {
	if err := check(c); err != nil {
		return "", err
	}
	w, h := c.Width, c.Height
	if w == 0 {
		w = 640
	}
	if h == 0 {
		h = 240
	}
	plotW, plotH := float64(w-marginLeft-marginRight), float64(h-marginTop-marginBottom)
	if plotW <= 0 || plotH <= 0 {
		return "", errors.New("svgchart: chart too small for its margins")
	}
	top := 0
	for _, s := range c.Series {
		for _, v := range s.Values {
			top = max(top, v)
		}
	}
	scaleMax := niceCeil(top)

	var b bytes.Buffer
	titleID, descID := c.ID+"-title", c.ID+"-desc"
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" role="img" aria-labelledby="%s %s" class="chart">`, w, h, titleID, descID)
	fmt.Fprintf(&b, `<title id="%s">%s</title><desc id="%s">%s</desc>`, titleID, esc(c.Title), descID, esc(c.Desc))

	// Legend, top left: a swatch and the series' name.
	x := float64(marginLeft)
	for _, s := range c.Series {
		fmt.Fprintf(&b, `<rect x="%s" y="8" width="10" height="10" fill="%s"/>`, num(x), s.Color)
		fmt.Fprintf(&b, `<text x="%s" y="17" font-size="12" fill="currentColor">%s</text>`, num(x+14), esc(s.Name))
		x += 14 + 7*float64(len([]rune(s.Name))) + 16
	}

	// Gridlines and y labels at 0, half and the top of the scale.
	for _, v := range []int{0, scaleMax / 2, scaleMax} {
		y := float64(marginTop) + plotH - plotH*float64(v)/float64(scaleMax)
		fmt.Fprintf(&b, `<line x1="%d" x2="%d" y1="%s" y2="%s" stroke="currentColor" stroke-opacity="0.2"/>`, marginLeft, w-marginRight, num(y), num(y))
		fmt.Fprintf(&b, `<text x="%d" y="%s" font-size="11" text-anchor="end" fill="currentColor">%d</text>`, marginLeft-6, num(y+4), v)
	}

	// One group per label, one bar per series in it.
	n := len(c.Labels)
	group := plotW / float64(max(n, 1))
	bar := group * 0.8 / float64(max(len(c.Series), 1))
	every := max(c.LabelEvery, 1)
	for i, label := range c.Labels {
		gx := float64(marginLeft) + group*float64(i) + group*0.1
		for j, s := range c.Series {
			v := max(s.Values[i], 0)
			bh := plotH * float64(v) / float64(scaleMax)
			fmt.Fprintf(&b, `<rect x="%s" y="%s" width="%s" height="%s" fill="%s"><title>%s: %d %s</title></rect>`,
				num(gx+bar*float64(j)), num(float64(marginTop)+plotH-bh), num(bar), num(bh), s.Color, esc(label), v, esc(s.Name))
		}
		// The last label always shows; an n-th label too close before
		// it would overlap it.
		if i == n-1 || i%every == 0 && n-1-i >= (every+1)/2 {
			fmt.Fprintf(&b, `<text x="%s" y="%d" font-size="11" text-anchor="middle" fill="currentColor">%s</text>`,
				num(float64(marginLeft)+group*(float64(i)+0.5)), h-marginBottom+16, esc(label))
		}
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String()), nil
}

// check refuses a chart whose parts do not fit together, or whose id or
// colours could break out of their attribute.
func check(c Chart) error {
	if !token(c.ID, "-_") {
		return fmt.Errorf("svgchart: id %q: use letters, digits, - and _", c.ID)
	}
	for _, s := range c.Series {
		if len(s.Values) != len(c.Labels) {
			return fmt.Errorf("svgchart: series %q has %d values for %d labels", s.Name, len(s.Values), len(c.Labels))
		}
		if !token(s.Color, "#") {
			return fmt.Errorf("svgchart: series %q: colour %q: use letters, digits and #", s.Name, s.Color)
		}
	}
	return nil
}

func token(s, extra string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9'
		for _, e := range extra {
			ok = ok || r == e
		}
		if !ok {
			return false
		}
	}
	return true
}

// niceCeil is the top of the y scale: at least 1, and a round number
// (1, 2 or 5 times a power of ten, or an even number below ten) so that
// the middle gridline is a whole number too.
func niceCeil(v int) int {
	if v <= 2 {
		return 2
	}
	if v < 10 {
		return v + v%2
	}
	p := 1
	for p*10 <= v {
		p *= 10
	}
	for _, m := range []int{1, 2, 5, 10} {
		if m*p >= v {
			return m * p
		}
	}
	return 10 * p
}

// num prints a coordinate with at most one decimal.
func num(f float64) string { return strconv.FormatFloat(f, 'f', 1, 64) }

// esc escapes text for an SVG text node.
func esc(s string) string {
	var b bytes.Buffer
	xml.EscapeText(&b, []byte(s))
	return b.String()
}
