package svgchart

import (
	"encoding/xml"
	"strconv"
	"strings"
	"testing"
)

// parsed is the part of the SVG the tests read back.
type parsed struct {
	XMLName xml.Name `xml:"svg"`
	Role    string   `xml:"role,attr"`
	Labels  string   `xml:"aria-labelledby,attr"`
	Title   struct {
		ID   string `xml:"id,attr"`
		Text string `xml:",chardata"`
	} `xml:"title"`
	Desc struct {
		ID   string `xml:"id,attr"`
		Text string `xml:",chardata"`
	} `xml:"desc"`
	Rects []struct {
		Height string `xml:"height,attr"`
		Fill   string `xml:"fill,attr"`
		Title  string `xml:"title"`
	} `xml:"rect"`
	Texts []string `xml:"text"`
}

func parse(t *testing.T, svg string) parsed {
	t.Helper()
	var p parsed
	if err := xml.Unmarshal([]byte(svg), &p); err != nil {
		t.Fatalf("the chart is not well-formed XML: %v\n%s", err, svg)
	}
	return p
}

func TestBars(t *testing.T) {
	tests := []struct {
		name string
		c    Chart
		// bars are the titles of the bars, in order; heights their
		// heights relative to the first bar's (-1: skip).
		bars    []string
		ratio   map[int]float64 // bar index -> height / height of bar 0
		texts   []string        // texts that must be shown
		notText []string        // labels LabelEvery hides
	}{
		{
			name: "two series, one bar per label each, heights in proportion",
			c: Chart{ID: "activity", Title: "Sign-ins per day", Desc: "Last 3 days", Labels: []string{"Mon", "Tue", "Wed"},
				Series: []Series{{Name: "sign-ins", Values: []int{4, 2, 0}, Color: "#2a7"}, {Name: "failures", Values: []int{1, 0, 3}, Color: "#c33"}}},
			bars:  []string{"Mon: 4 sign-ins", "Mon: 1 failures", "Tue: 2 sign-ins", "Tue: 0 failures", "Wed: 0 sign-ins", "Wed: 3 failures"},
			ratio: map[int]float64{1: 0.25, 2: 0.5, 3: 0, 5: 0.75},
			texts: []string{"sign-ins", "failures", "Mon", "Tue", "Wed", "0", "2", "4"},
		},
		{
			name:  "no events at all draws empty bars on a 0..2 scale, not NaN",
			c:     Chart{ID: "empty", Title: "t", Labels: []string{"a", "b"}, Series: []Series{{Name: "x", Values: []int{0, 0}, Color: "blue"}}},
			bars:  []string{"a: 0 x", "b: 0 x"},
			texts: []string{"0", "1", "2"},
		},
		{
			name: "an n-th label right before the last is dropped, not drawn over it",
			c: Chart{ID: "days", Title: "t", LabelEvery: 3, Labels: []string{"a", "b", "c", "d", "e", "f", "g"},
				Series: []Series{{Name: "x", Values: []int{1, 1, 1, 1, 1, 1, 1}, Color: "red"}}},
			bars:    []string{"a: 1 x", "b: 1 x", "c: 1 x", "d: 1 x", "e: 1 x", "f: 1 x", "g: 1 x"},
			texts:   []string{"a", "d", "g"},
			notText: []string{"b", "c", "e", "f"},
		},
		{
			name: "LabelEvery keeps the first and the last label; d4, one step before the last, would overlap it",
			c: Chart{ID: "n", Title: "t", LabelEvery: 3, Labels: []string{"d1", "d2", "d3", "d4", "d5"},
				Series: []Series{{Name: "x", Values: []int{1, 1, 1, 1, 13}, Color: "red"}}},
			bars:    []string{"d1: 1 x", "d2: 1 x", "d3: 1 x", "d4: 1 x", "d5: 13 x"},
			texts:   []string{"d1", "d5", "20", "10"},
			notText: []string{"d2", "d3", "d4"},
		},
		{
			name: "text is escaped: a label cannot open an element",
			c: Chart{ID: "x", Title: `<script>alert(1)</script>`, Desc: `a "quoted" & <b>`, Labels: []string{"</text><script>"},
				Series: []Series{{Name: "<i>n</i>", Values: []int{1}, Color: "red"}}},
			bars:  []string{"</text><script>: 1 <i>n</i>"},
			texts: []string{"</text><script>", "<i>n</i>"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, err := Bars(tc.c)
			if err != nil {
				t.Fatal(err)
			}
			svg := string(out)
			for _, bad := range []string{"<script", "style=", "NaN", "Inf", "href"} {
				if strings.Contains(svg, bad) {
					t.Errorf("the chart contains %q:\n%s", bad, svg)
				}
			}
			p := parse(t, svg)
			if p.Role != "img" || p.Labels != tc.c.ID+"-title "+tc.c.ID+"-desc" || p.Title.ID != tc.c.ID+"-title" || p.Desc.ID != tc.c.ID+"-desc" {
				t.Errorf("accessibility: role %q, aria-labelledby %q, title id %q, desc id %q", p.Role, p.Labels, p.Title.ID, p.Desc.ID)
			}
			if p.Title.Text != tc.c.Title || p.Desc.Text != tc.c.Desc {
				t.Errorf("title %q desc %q read back, want %q %q", p.Title.Text, p.Desc.Text, tc.c.Title, tc.c.Desc)
			}
			var bars []parsedBar
			for _, r := range p.Rects {
				if r.Title != "" { // legend swatches have none
					h, err := strconv.ParseFloat(r.Height, 64)
					if err != nil {
						t.Fatalf("bar height %q: %v", r.Height, err)
					}
					bars = append(bars, parsedBar{r.Title, h})
				}
			}
			if len(bars) != len(tc.bars) {
				t.Fatalf("%d bars, want %d: %v", len(bars), len(tc.bars), bars)
			}
			for i, want := range tc.bars {
				if bars[i].title != want {
					t.Errorf("bar %d says %q, want %q", i, bars[i].title, want)
				}
			}
			for i, r := range tc.ratio {
				if got := bars[i].h / bars[0].h; got < r-0.02 || got > r+0.02 {
					t.Errorf("bar %d is %.2f of bar 0's height, want %.2f", i, got, r)
				}
			}
			shown := map[string]bool{}
			for _, s := range p.Texts {
				shown[s] = true
			}
			for _, s := range tc.texts {
				if !shown[s] {
					t.Errorf("text %q not shown; texts %q", s, p.Texts)
				}
			}
			for _, s := range tc.notText {
				if shown[s] {
					t.Errorf("text %q shown, want it skipped by LabelEvery", s)
				}
			}
		})
	}
}

type parsedBar struct {
	title string
	h     float64
}

func TestBars_Refuses(t *testing.T) {
	for _, tc := range []struct {
		name string
		c    Chart
	}{
		{"fewer values than labels", Chart{ID: "a", Labels: []string{"x", "y"}, Series: []Series{{Name: "s", Values: []int{1}, Color: "red"}}}},
		{"a colour that would close its attribute", Chart{ID: "a", Labels: []string{"x"}, Series: []Series{{Name: "s", Values: []int{1}, Color: `red" onload="x`}}}},
		{"an id with a space", Chart{ID: "a b", Labels: []string{"x"}}},
		{"no id", Chart{Labels: []string{"x"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if out, err := Bars(tc.c); err == nil {
				t.Errorf("Bars = %q, nil; want an error", out)
			}
		})
	}
}

func TestNiceCeil(t *testing.T) {
	for v, want := range map[int]int{0: 2, 1: 2, 2: 2, 3: 4, 9: 10, 10: 10, 11: 20, 13: 20, 21: 50, 99: 100, 100: 100, 101: 200, 4999: 5000} {
		if got := niceCeil(v); got != want {
			t.Errorf("niceCeil(%d) = %d, want %d", v, got, want)
		}
	}
}
