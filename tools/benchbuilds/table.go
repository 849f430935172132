package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// figures gathers each figure's samples, build by build, one per round
// and in round order, so that round i of one build pairs with round i of
// the other.
type figures struct {
	order   []string                        // figure keys, first seen first
	title   map[string]string               // a figure's name in the report
	samples map[string]map[string][]float64 // build -> figure key -> samples
	lower   map[string]bool                 // whether less is better (time) or more (req/s)
	unit    map[string]string               // how a figure's values print
}

func newFigures() *figures {
	return &figures{title: map[string]string{}, samples: map[string]map[string][]float64{}, lower: map[string]bool{}, unit: map[string]string{}}
}

// add records one sample of a figure in a build.
func (f *figures) add(build, key, title, unit string, lowerIsBetter bool, v float64) {
	if _, ok := f.title[key]; !ok {
		f.order = append(f.order, key)
		f.title[key], f.unit[key], f.lower[key] = title, unit, lowerIsBetter
	}
	if f.samples[build] == nil {
		f.samples[build] = map[string][]float64{}
	}
	f.samples[build][key] = append(f.samples[build][key], v)
}

// modulePrefix is left out of package names in the report.
const modulePrefix = "github.com/ssokit/ssokit/"

// addBench records a round's benchmark results of a build: ns/op, and
// allocs/op when the benchmark reports it.
func (f *figures) addBench(build string, rs []benchResult) {
	for _, r := range rs {
		name := strings.TrimPrefix(r.Pkg, modulePrefix) + " " + r.Name
		if v, ok := r.Values["ns/op"]; ok {
			f.add(build, r.key()+" ns/op", name, "ns/op", true, v)
		}
		if v, ok := r.Values["allocs/op"]; ok {
			f.add(build, r.key()+" allocs/op", name, "allocs/op", true, v)
		}
	}
}

// addLoad records a round's load test figures of a build.
func (f *figures) addLoad(build string, rows []loadRow) {
	us := func(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }
	for _, r := range rows {
		name := "loadtest " + r.Target
		f.add(build, name+" req/s", name, "req/s", false, r.RPS)
		f.add(build, name+" p50", name, "p50 µs", true, us(r.P50))
		f.add(build, name+" p99", name, "p99 µs", true, us(r.P99))
		if r.ServerCPU > 0 {
			f.add(build, name+" cpu", name, "server CPU/req µs", true, us(r.ServerCPU))
		}
		f.add(build, name+" errors", name, "errors", true, float64(r.Errors))
	}
}

// A row is one figure of the report, both builds side by side.
type row struct {
	title, unit  string
	def, boring  float64 // medians over the rounds
	defSpread    float64 // largest distance of a round from its median, a fraction
	boringSpread float64
	ratio        float64 // boring / default, of the medians; 0 when undefined
	lo, hi       float64 // the range of the rounds' own ratios (round i of each build)
	rounds       int     // how many rounds pair up
}

// rows computes the report's rows for builds a (the default) and b.
func (f *figures) rows(a, b string) []row {
	var out []row
	for _, k := range f.order {
		x, y := f.samples[a][k], f.samples[b][k]
		if len(x) == 0 || len(y) == 0 {
			continue
		}
		r := row{title: f.title[k], unit: f.unit[k], def: median(x), boring: median(y), defSpread: spread(x), boringSpread: spread(y)}
		if r.def != 0 {
			r.ratio = r.boring / r.def
		}
		for i := 0; i < min(len(x), len(y)); i++ {
			if x[i] == 0 {
				continue
			}
			q := y[i] / x[i]
			if r.rounds == 0 || q < r.lo {
				r.lo = q
			}
			if r.rounds == 0 || q > r.hi {
				r.hi = q
			}
			r.rounds++
		}
		out = append(out, r)
	}
	return out
}

// value prints a median: integers for counts and nanoseconds above 100,
// one decimal below.
func value(v float64) string {
	if v >= 100 || v == float64(int64(v)) {
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.1f", v)
}

// ratioText prints a row's ratio and the range of the rounds' ratios.
func (r row) ratioText() string {
	if r.ratio == 0 {
		if r.def == 0 && r.boring == 0 {
			return "="
		}
		return "n/a"
	}
	s := fmt.Sprintf("%.2fx", r.ratio)
	if r.rounds > 1 {
		s += fmt.Sprintf(" (%.2f-%.2f)", r.lo, r.hi)
	}
	return s
}

// writeTable writes rows as aligned text, or as a Markdown table with md.
func writeTable(w io.Writer, rows []row, md bool) {
	head := []string{"figure", "unit", buildDefault, buildBoring, "boring/default (rounds' range)"}
	cells := func(r row) []string {
		med := func(v, spread float64) string {
			if r.unit == "allocs/op" || r.unit == "errors" {
				return value(v) // counts: their rounds' spread is noise of no interest
			}
			return fmt.Sprintf("%s ±%.0f%%", value(v), 100*spread)
		}
		return []string{r.title, r.unit, med(r.def, r.defSpread), med(r.boring, r.boringSpread), r.ratioText()}
	}
	if md {
		fmt.Fprintf(w, "| %s |\n|---|---|---:|---:|---|\n", strings.Join(head, " | "))
		for _, r := range rows {
			c := cells(r)
			c[0] = "`" + c[0] + "`"
			fmt.Fprintf(w, "| %s |\n", strings.Join(c, " | "))
		}
		return
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(head, "\t")+"\t")
	for _, r := range rows {
		fmt.Fprintln(tw, strings.Join(cells(r), "\t")+"\t")
	}
	tw.Flush()
}
