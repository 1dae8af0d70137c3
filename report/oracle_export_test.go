package report

import (
	"html/template"
	"io"
	"os"
	"time"
)

// OracleHTML renders r through html/template and the template the HTML writer replaced
// (testdata/oracle.html.tmpl): the reference WriteHTML is compared with.
func OracleHTML(w io.Writer, r *Report) error {
	src, err := os.ReadFile("testdata/oracle.html.tmpl")
	if err != nil {
		return err
	}
	t, err := template.New("report").Funcs(template.FuncMap{
		"change":     change,
		"time":       fmtTime,
		"day":        func(t time.Time) string { return t.Format(dayFmt) },
		"clean":      clean,
		"alerts":     alertsLine,
		"newCount":   newCount,
		"notAllowed": func(p *Principal) bool { return p.Allowed != nil && !*p.Allowed },
		"chart": func(s *Secret) *chart {
			c := newChart(s)
			c.Label = "Daily reads of " + clean(s.Secret)
			return c
		},
		"shown":     shownPrincipals,
		"hidden":    func(ps []*Principal) int { return len(ps) - len(shownPrincipals(ps)) },
		"attention": attention,
		"inc":       func(i int) int { return i + 1 },
	}).Parse(string(src))
	if err != nil {
		return err
	}
	return t.Execute(w, r)
}
