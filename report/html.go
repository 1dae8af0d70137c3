package report

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"math"
	"strconv"
	"sync"
	"time"
)

//go:embed report.html.tmpl
var htmlSource string

// htmlTemplate is parsed on first use, so a binary that links the package without rendering HTML
// pays nothing at start-up.
var htmlTemplate = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("report").Funcs(template.FuncMap{
		"change": change,
		"time":   fmtTime,
		"day":    func(t time.Time) string { return t.Format(dayFmt) },
		"clean":  clean,
		"alerts": alertsLine,
		"newCount": func(ps []*Principal) int {
			n := 0
			for _, p := range ps {
				if p.New {
					n++
				}
			}
			return n
		},
		"notAllowed": func(p *Principal) bool { return p.Allowed != nil && !*p.Allowed },
		"chart":      newChart,
		"shown":      shownPrincipals,
		"hidden":     func(ps []*Principal) int { return len(ps) - len(shownPrincipals(ps)) },
		"attention":  attention,
		"inc":        func(i int) int { return i + 1 },
	}).Parse(htmlSource))
})

// WriteHTML writes the report as one self-contained HTML file: no external asset, a Content
// Security Policy that forbids loading any, inline SVG charts of daily reads per secret with the
// usual band, sortable tables (a few lines of inline JavaScript; the page reads fine without),
// new principals and unused grants highlighted, a print style. Every value is escaped by
// html/template, and control characters are made visible first.
func WriteHTML(w io.Writer, r *Report) error {
	return htmlTemplate().Execute(w, r)
}

// Bounds of the HTML page, so that a large account still gives a page a browser opens: the
// CSV and JSON forms always hold everything.
const (
	MaxHTMLPrincipals = 50  // principal rows per secret, most reads first...
	MaxHTMLFlagged    = 200 // ...then new or not-allowed ones, up to this many rows in all
	MaxHTMLAttention  = 100 // items of the "needs a look" list
)

// shownPrincipals are the rows the HTML shows: the first MaxHTMLPrincipals (most reads first)
// and the new or not-allowed principals after them, up to MaxHTMLFlagged rows in all.
func shownPrincipals(ps []*Principal) []*Principal {
	if len(ps) <= MaxHTMLPrincipals {
		return ps
	}
	out := append([]*Principal{}, ps[:MaxHTMLPrincipals]...)
	for _, p := range ps[MaxHTMLPrincipals:] {
		if len(out) == MaxHTMLFlagged {
			break
		}
		if p.New || p.Allowed != nil && !*p.Allowed {
			out = append(out, p)
		}
	}
	return out
}

// attentionItem is one line of the "needs a look" list.
type attentionItem struct {
	Index      int // the secret's section
	Secret     string
	P          *Principal // a new or not-allowed principal, or nil
	Unused     []string   // allowed-but-unused patterns
	NoReads    bool
	Unmatched  bool
	NotAllowed bool
}

type attentionList struct {
	Items []attentionItem
	More  int
}

func attention(r *Report) attentionList {
	var l attentionList
	add := func(it attentionItem) {
		if len(l.Items) < MaxHTMLAttention {
			l.Items = append(l.Items, it)
		} else {
			l.More++
		}
	}
	for i, s := range r.Secrets {
		for _, p := range s.Principals {
			if na := p.Allowed != nil && !*p.Allowed; p.New || na {
				add(attentionItem{Index: i, Secret: s.Secret, P: p, NotAllowed: na})
			}
		}
	}
	for i, s := range r.Secrets {
		if len(s.AllowedUnused) > 0 {
			add(attentionItem{Index: i, Secret: s.Secret, Unused: s.AllowedUnused})
		}
	}
	for i, s := range r.Secrets {
		if s.Reads == 0 {
			add(attentionItem{Index: i, Secret: s.Secret, NoReads: true, Unmatched: s.Unmatched})
		}
	}
	return l
}

// chart is the geometry of one secret's daily chart, computed here so the template only places it.
type chart struct {
	W, H       int
	Left, Top  float64
	PlotW      float64
	PlotH      float64
	Bottom     float64 // y of the x axis
	Max        int64
	Bars       []chartBar
	Band       *chartBand
	Grid       []chartGrid
	Label      string
	HasDenied  bool
	EveryLabel int
}

type chartBar struct {
	X, W               float64
	Y, H               float64 // reads
	DY, DH             float64 // denied, stacked on top
	Day, Label, Title  string
	LabelX             float64
	ShowLabel, Weekend bool
}

type chartBand struct {
	Y, H, Median float64
	Title        string
}

type chartGrid struct {
	Y     float64
	Label string
}

func newChart(s *Secret) *chart {
	c := &chart{W: 640, H: 170, Left: 44, Top: 12}
	c.PlotW, c.PlotH = float64(c.W)-c.Left-12, float64(c.H)-c.Top-30
	c.Bottom = c.Top + c.PlotH
	var top float64 = 1
	for _, d := range s.Daily {
		top = math.Max(top, float64(d.Reads+d.Denied))
	}
	if s.Baseline != nil {
		top = math.Max(top, s.Baseline.High)
	}
	c.Max = niceCeil(top)
	y := func(v float64) float64 { return round1(c.Bottom - v/float64(c.Max)*c.PlotH) }
	n := len(s.Daily)
	step := c.PlotW / float64(max(n, 1))
	c.EveryLabel = int(math.Ceil(float64(n) / 14))
	for i, d := range s.Daily {
		t, _ := time.Parse(time.DateOnly, d.Day)
		b := chartBar{X: round1(c.Left + float64(i)*step + step*0.15), W: round1(math.Max(step*0.7, 1)), Day: d.Day,
			Label: t.Format("Mon 02"), LabelX: round1(c.Left + float64(i)*step + step/2), ShowLabel: i%c.EveryLabel == 0,
			Weekend: t.Weekday() == time.Saturday || t.Weekday() == time.Sunday}
		if n > 14 {
			b.Label = t.Format("01-02")
		}
		b.Y = y(float64(d.Reads))
		b.H = round1(c.Bottom - b.Y)
		b.DY = y(float64(d.Reads + d.Denied))
		b.DH = round1(b.Y - b.DY)
		if d.Denied > 0 {
			c.HasDenied = true
		}
		b.Title = fmt.Sprintf("%s: %d reads, %d denied", d.Day, d.Reads, d.Denied)
		c.Bars = append(c.Bars, b)
	}
	if bl := s.Baseline; bl != nil {
		c.Band = &chartBand{Y: y(bl.High), H: round1(y(bl.Low) - y(bl.High)), Median: y(bl.Median),
			Title: fmt.Sprintf("usual daily reads over the %d days before the period: %g to %g (10th to 90th percentile), median %g", bl.Days, bl.Low, bl.High, bl.Median)}
		if c.Band.H < 1 {
			c.Band.Y, c.Band.H = c.Band.Y-0.5, 1
		}
	}
	for _, f := range []float64{0, 0.5, 1} {
		v := float64(c.Max) * f
		if f == 0.5 && c.Max%2 != 0 {
			continue
		}
		c.Grid = append(c.Grid, chartGrid{Y: y(v), Label: strconv.FormatInt(int64(v), 10)})
	}
	c.Label = fmt.Sprintf("Daily reads of %s", clean(s.Secret))
	return c
}

// niceCeil rounds v up to 1, 2 or 5 times a power of ten.
func niceCeil(v float64) int64 {
	if v <= 1 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= v {
			return int64(m * p)
		}
	}
	return int64(10 * p)
}

func round1(v float64) float64 { return math.Round(v*10) / 10 }
