package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// Statuses of a mutant in gremlins' JSON report.
const (
	statusKilled     = "KILLED"
	statusLived      = "LIVED"
	statusTimedOut   = "TIMED OUT"
	statusNotCovered = "NOT COVERED"
	statusNotViable  = "NOT VIABLE"
	statusSkipped    = "SKIPPED"
	statusRunnable   = "RUNNABLE" // a dry run's only status for covered mutants
)

// gremlinsReport is the part of gremlins' -o JSON this tool reads. File
// names are relative to the package directory gremlins was run on.
type gremlinsReport struct {
	Files []struct {
		FileName  string `json:"file_name"`
		Mutations []struct {
			Type   string `json:"type"`
			Status string `json:"status"`
			Line   int    `json:"line"`
			Column int    `json:"column"`
		} `json:"mutations"`
	} `json:"files"`
}

// Mutant is one mutation of a report. File is relative to the module
// root ("ssotoken/verifier.go"), as in equivalent.txt.
type Mutant struct {
	File   string
	Line   int
	Column int
	Type   string
	Status string
}

// Key is the mutant's name in equivalent.txt: file:line:col TYPE.
func (m Mutant) Key() string {
	return fmt.Sprintf("%s:%d:%d %s", m.File, m.Line, m.Column, m.Type)
}

// parseReport reads gremlins' JSON report of package pkg (a directory
// relative to the module root) and returns its mutants sorted by file,
// line, column and type. An unknown status is an error: gremlins changed
// and the arithmetic below would silently be wrong.
func parseReport(r io.Reader, pkg string) ([]Mutant, error) {
	var rep gremlinsReport
	if err := json.NewDecoder(r).Decode(&rep); err != nil {
		return nil, fmt.Errorf("gremlins report: %w", err)
	}
	var out []Mutant
	for _, f := range rep.Files {
		if f.FileName == "" {
			return nil, fmt.Errorf("gremlins report: a file without a name")
		}
		for _, m := range f.Mutations {
			switch m.Status {
			case statusKilled, statusLived, statusTimedOut, statusNotCovered, statusNotViable, statusSkipped, statusRunnable:
			default:
				return nil, fmt.Errorf("gremlins report: %s:%d:%d: unknown status %q", f.FileName, m.Line, m.Column, m.Status)
			}
			out = append(out, Mutant{
				File:   path.Join(pkg, f.FileName),
				Line:   m.Line,
				Column: m.Column,
				Type:   m.Type,
				Status: m.Status,
			})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.File != b.File {
			return a.File < b.File
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		if a.Column != b.Column {
			return a.Column < b.Column
		}
		return a.Type < b.Type
	})
	return out, nil
}

// Equivalent is one entry of equivalent.txt: a mutant that no test can
// kill because it does not change behaviour, with the reason.
type Equivalent struct {
	Key    string // file:line:col TYPE, as Mutant.Key
	File   string
	Reason string
	Line   int // of equivalent.txt, for messages
}

// entryRE is one line of equivalent.txt: file:line:col TYPE reason.
var entryRE = regexp.MustCompile(`^(\S+\.go):(\d+):(\d+)\s+([A-Z_]+)\s+(\S.*)$`)

// parseEquivalents reads equivalent.txt: one mutant a line, "file:line:col
// TYPE reason", file relative to the module root; blank lines and lines
// starting with # are ignored. A line without a reason, or a mutant listed
// twice, is an error.
func parseEquivalents(r io.Reader) ([]Equivalent, error) {
	var out []Equivalent
	seen := make(map[string]int)
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		m := entryRE.FindStringSubmatch(line)
		if m == nil {
			return nil, fmt.Errorf("equivalent.txt:%d: want \"pkg/file.go:line:col TYPE reason\", got %q", n, line)
		}
		key := fmt.Sprintf("%s:%s:%s %s", m[1], m[2], m[3], m[4])
		if first, dup := seen[key]; dup {
			return nil, fmt.Errorf("equivalent.txt:%d: %s already listed on line %d", n, key, first)
		}
		seen[key] = n
		out = append(out, Equivalent{Key: key, File: m[1], Reason: m[5], Line: n})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("equivalent.txt: %w", err)
	}
	return out, nil
}

// Summary is the outcome of one package.
type Summary struct {
	Pkg        string
	Killed     int
	Lived      int // not listed as equivalent
	TimedOut   int // not listed as equivalent
	NotCovered int
	NotViable  int
	Skipped    int
	Equivalent int      // lived or timed out, and listed
	Survivors  []Mutant // the lived and timed-out mutants not listed
	Uncovered  []Mutant
	Stale      []Stale // entries of this package that match no survivor
}

// Stale is an entry of equivalent.txt that no longer names a surviving
// mutant: the code moved, or a test now kills it, so the entry must be
// updated or removed.
type Stale struct {
	Entry Equivalent
	Why   string
}

// Viable is the denominator of the efficacy: every mutant the tests ran
// against and that is not listed as equivalent.
func (s Summary) Viable() int { return s.Killed + s.Lived + s.TimedOut }

// Efficacy is killed / (killed + lived + timed out), in percent. A
// timeout is not a kill: a mutant detected only by a hang needs a test
// that fails fast. With nothing viable it is 100.
func (s Summary) Efficacy() float64 {
	if s.Viable() == 0 {
		return 100
	}
	return 100 * float64(s.Killed) / float64(s.Viable())
}

// summarize counts the mutants of package pkg, applying the entries of
// equivs whose file is in pkg (directly, not in a sub-package). An entry
// of pkg that names no lived or timed-out mutant is stale.
func summarize(pkg string, mutants []Mutant, equivs []Equivalent) Summary {
	s := Summary{Pkg: pkg}
	listed := make(map[string]Equivalent)
	for _, e := range equivs {
		if path.Dir(e.File) == pkg {
			listed[e.Key] = e
		}
	}
	byKey := make(map[string]Mutant, len(mutants))
	for _, m := range mutants {
		byKey[m.Key()] = m
		_, isListed := listed[m.Key()]
		switch m.Status {
		case statusKilled:
			s.Killed++
		case statusLived, statusTimedOut:
			switch {
			case isListed:
				s.Equivalent++
			case m.Status == statusLived:
				s.Lived++
				s.Survivors = append(s.Survivors, m)
			default:
				s.TimedOut++
				s.Survivors = append(s.Survivors, m)
			}
		case statusNotCovered:
			s.NotCovered++
			s.Uncovered = append(s.Uncovered, m)
		case statusNotViable:
			s.NotViable++
		case statusSkipped:
			s.Skipped++
		}
	}
	for _, e := range equivs {
		if _, ok := listed[e.Key]; !ok {
			continue
		}
		m, ok := byKey[e.Key]
		switch {
		case !ok:
			s.Stale = append(s.Stale, Stale{Entry: e, Why: "no such mutant (the code moved or changed)"})
		case m.Status != statusLived && m.Status != statusTimedOut:
			s.Stale = append(s.Stale, Stale{Entry: e, Why: "the mutant is " + m.Status + ", not surviving"})
		}
	}
	return s
}

// formatSummary writes the figures of s on one line.
func formatSummary(s Summary) string {
	return fmt.Sprintf("killed %d  lived %d  timed out %d  not covered %d  equivalent %d  not viable %d  efficacy %s",
		s.Killed, s.Lived, s.TimedOut, s.NotCovered, s.Equivalent, s.NotViable, formatPercent(s.Efficacy()))
}

// formatPercent rounds down to one decimal, so that 94.99 never prints
// as a passing 95.0.
func formatPercent(p float64) string {
	tenths := int64(p * 10)
	return strconv.FormatInt(tenths/10, 10) + "." + strconv.FormatInt(tenths%10, 10) + " %"
}
