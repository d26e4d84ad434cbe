package dashboard

// Charts drawn on the server as SVG: every bar carries its label and its
// number as text (never colour alone), so they read the same printed in
// black and white, zoomed, or through a screen reader (each chart's
// accessible name lists every number).

import (
	"fmt"
	"html"
	"html/template"
	"strings"
)

// Bar is one bar of a chart.
type Bar struct {
	Label string
	N     int
}

// BarChart is a horizontal bar chart: a label, a bar, then the number and
// its share of the total in words ("12 (40%)").
type BarChart struct {
	Title string // what the chart shows, e.g. "How do you feel about your day service?"
	Bars  []Bar
}

// Total is the sum of the bars.
func (c BarChart) Total() int {
	t := 0
	for _, b := range c.Bars {
		t += b.N
	}
	return t
}

func percent(n, total int) int {
	if total == 0 {
		return 0
	}
	return (n*100 + total/2) / total
}

// numberText is how a bar's number is written: "12 (40%)".
func numberText(n, total int) string {
	return fmt.Sprintf("%d (%d%%)", n, percent(n, total))
}

// Summary is the chart in one sentence, its accessible name.
func (c BarChart) Summary() string {
	parts := make([]string, len(c.Bars))
	total := c.Total()
	for i, b := range c.Bars {
		parts[i] = b.Label + ": " + numberText(b.N, total)
	}
	return c.Title + ". " + strings.Join(parts, "; ") + "."
}

// chart geometry, in SVG units (the SVG scales to the page's width).
const (
	chartWidth = 640
	labelWidth = 220
	barMax     = 300
	rowHeight  = 38
	barHeight  = 24
)

// SVG draws the chart.
func (c BarChart) SVG() template.HTML {
	total := c.Total()
	most := 0
	for _, b := range c.Bars {
		most = max(most, b.N)
	}
	h := rowHeight*len(c.Bars) + 8
	var s strings.Builder
	fmt.Fprintf(&s, `<svg class="chart" viewBox="0,0,%d,%d" width="100%%" role="img" aria-label="%s" xmlns="http://www.w3.org/2000/svg">`,
		chartWidth, h, html.EscapeString(c.Summary()))
	for i, b := range c.Bars {
		y := 4 + i*rowHeight
		w := 0
		if most > 0 {
			w = b.N * barMax / most
		}
		if b.N > 0 {
			w = max(w, 3)
		}
		fmt.Fprintf(&s, `<text class="label" x="%d" y="%d" text-anchor="end">%s</text>`, labelWidth-10, y+barHeight-7, html.EscapeString(clipLabel(b.Label)))
		fmt.Fprintf(&s, `<rect class="bar" x="%d" y="%d" width="%d" height="%d" rx="3"></rect>`, labelWidth, y, w, barHeight)
		fmt.Fprintf(&s, `<text class="number" x="%d" y="%d">%s</text>`, labelWidth+w+8, y+barHeight-7, numberText(b.N, total))
	}
	s.WriteString(`</svg>`)
	return template.HTML(s.String())
}

// clipLabel keeps a label to what fits beside its bar.
func clipLabel(s string) string {
	r := []rune(s)
	if len(r) <= 26 {
		return s
	}
	return string(r[:25]) + "…"
}

// ColumnChart is counts over time: a column per period with its number
// written above it and its name below.
type ColumnChart struct {
	Title   string
	Columns []Bar // Label is the period, e.g. "23 Nov"
}

// Summary is the chart in one sentence, its accessible name.
func (c ColumnChart) Summary() string {
	parts := make([]string, len(c.Columns))
	for i, b := range c.Columns {
		parts[i] = fmt.Sprintf("%s: %d", b.Label, b.N)
	}
	return c.Title + ". " + strings.Join(parts, "; ") + "."
}

// SVG draws the chart.
func (c ColumnChart) SVG() template.HTML {
	const height, top, bottom = 220, 24, 40
	n := max(len(c.Columns), 1)
	step := float64(chartWidth-20) / float64(n)
	most := 0
	for _, b := range c.Columns {
		most = max(most, b.N)
	}
	var s strings.Builder
	fmt.Fprintf(&s, `<svg class="chart" viewBox="0,0,%d,%d" width="100%%" role="img" aria-label="%s" xmlns="http://www.w3.org/2000/svg">`,
		chartWidth, height, html.EscapeString(c.Summary()))
	fmt.Fprintf(&s, `<line class="axis" x1="10" y1="%d" x2="%d" y2="%d"></line>`, height-bottom, chartWidth-10, height-bottom)
	for i, b := range c.Columns {
		x := 10 + float64(i)*step
		hgt := 0.0
		if most > 0 {
			hgt = float64(b.N) / float64(most) * float64(height-top-bottom-6)
		}
		w := step * 0.7
		fmt.Fprintf(&s, `<rect class="bar" x="%.1f" y="%.1f" width="%.1f" height="%.1f"></rect>`, x+step*0.15, float64(height-bottom)-hgt, w, hgt)
		fmt.Fprintf(&s, `<text class="number" x="%.1f" y="%.1f" text-anchor="middle">%d</text>`, x+step/2, float64(height-bottom)-hgt-6, b.N)
		fmt.Fprintf(&s, `<text class="label" x="%.1f" y="%d" text-anchor="middle">%s</text>`, x+step/2, height-bottom+18, html.EscapeString(b.Label))
	}
	s.WriteString(`</svg>`)
	return template.HTML(s.String())
}
