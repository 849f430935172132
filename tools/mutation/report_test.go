package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// sampleReport is a gremlins JSON report of the shape v0.6.0 writes, with
// one mutant of each status.
const sampleReport = `{"go_module":"github.com/ssokit/ssokit","files":[
 {"file_name":"verifier.go","mutations":[
  {"type":"CONDITIONALS_BOUNDARY","status":"LIVED","line":120,"column":14},
  {"type":"CONDITIONALS_NEGATION","status":"KILLED","line":120,"column":14},
  {"type":"ARITHMETIC_BASE","status":"TIMED OUT","line":9,"column":3}]},
 {"file_name":"jwt.go","mutations":[
  {"type":"INVERT_NEGATIVES","status":"NOT COVERED","line":5,"column":1},
  {"type":"INCREMENT_DECREMENT","status":"NOT VIABLE","line":6,"column":2},
  {"type":"ARITHMETIC_BASE","status":"SKIPPED","line":7,"column":2}]}],
 "test_efficacy":50,"mutants_total":3}`

func TestParseReport(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		pkg     string
		want    []Mutant
		wantErr string
	}{
		{
			name: "every status, sorted, paths from the module root",
			in:   sampleReport,
			pkg:  "ssotoken",
			want: []Mutant{
				{File: "ssotoken/jwt.go", Line: 5, Column: 1, Type: "INVERT_NEGATIVES", Status: statusNotCovered},
				{File: "ssotoken/jwt.go", Line: 6, Column: 2, Type: "INCREMENT_DECREMENT", Status: statusNotViable},
				{File: "ssotoken/jwt.go", Line: 7, Column: 2, Type: "ARITHMETIC_BASE", Status: statusSkipped},
				{File: "ssotoken/verifier.go", Line: 9, Column: 3, Type: "ARITHMETIC_BASE", Status: statusTimedOut},
				{File: "ssotoken/verifier.go", Line: 120, Column: 14, Type: "CONDITIONALS_BOUNDARY", Status: statusLived},
				{File: "ssotoken/verifier.go", Line: 120, Column: 14, Type: "CONDITIONALS_NEGATION", Status: statusKilled},
			},
		},
		{
			name: "a file of a sub-directory of a nested package",
			in:   `{"files":[{"file_name":"store.go","mutations":[{"type":"ARITHMETIC_BASE","status":"KILLED","line":1,"column":2}]}]}`,
			pkg:  "ssotoken/redisreplay",
			want: []Mutant{{File: "ssotoken/redisreplay/store.go", Line: 1, Column: 2, Type: "ARITHMETIC_BASE", Status: statusKilled}},
		},
		{name: "no files", in: `{"files":[]}`, pkg: "cognito", want: nil},
		{name: "not JSON", in: `gremlins: error`, pkg: "cognito", wantErr: "gremlins report"},
		{name: "an unknown status", in: `{"files":[{"file_name":"a.go","mutations":[{"type":"X","status":"ZOMBIE","line":1,"column":1}]}]}`, pkg: "cognito", wantErr: `unknown status "ZOMBIE"`},
		{name: "a file without a name", in: `{"files":[{"mutations":[]}]}`, pkg: "cognito", wantErr: "without a name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseReport(strings.NewReader(tt.in), tt.pkg)
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestParseEquivalents(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    []Equivalent
		wantErr string
	}{
		{
			name: "comments, blank lines, one entry",
			in:   "# header\n\n  ssotoken/verifier.go:120:14 CONDITIONALS_BOUNDARY  only differs at an unreachable length\n",
			want: []Equivalent{{Key: "ssotoken/verifier.go:120:14 CONDITIONALS_BOUNDARY", File: "ssotoken/verifier.go", Reason: "only differs at an unreachable length", Line: 3}},
		},
		{
			name: "a tab between fields",
			in:   "httpadapter/handler.go:1:2\tARITHMETIC_BASE\treason\n",
			want: []Equivalent{{Key: "httpadapter/handler.go:1:2 ARITHMETIC_BASE", File: "httpadapter/handler.go", Reason: "reason", Line: 1}},
		},
		{name: "empty", in: "", want: nil},
		{name: "no reason", in: "ssotoken/jwt.go:1:2 ARITHMETIC_BASE\n", wantErr: "equivalent.txt:1"},
		{name: "no column", in: "ssotoken/jwt.go:1 ARITHMETIC_BASE reason\n", wantErr: "equivalent.txt:1"},
		{name: "not a Go file", in: "ssotoken/jwt:1:2 ARITHMETIC_BASE reason\n", wantErr: "equivalent.txt:1"},
		{name: "lower-case type", in: "ssotoken/jwt.go:1:2 arithmetic reason\n", wantErr: "equivalent.txt:1"},
		{name: "listed twice", in: "ssotoken/jwt.go:1:2 ARITHMETIC_BASE a\n#\nssotoken/jwt.go:1:2 ARITHMETIC_BASE b\n", wantErr: "equivalent.txt:3: ssotoken/jwt.go:1:2 ARITHMETIC_BASE already listed on line 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseEquivalents(strings.NewReader(tt.in))
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestSummarize(t *testing.T) {
	m := func(file string, line int, typ, status string) Mutant {
		return Mutant{File: file, Line: line, Column: 1, Type: typ, Status: status}
	}
	eq := func(key string) Equivalent {
		file, _, _ := strings.Cut(key, ":")
		return Equivalent{Key: key, File: file, Reason: "r"}
	}
	mutants := []Mutant{
		m("ssotoken/a.go", 1, "ARITHMETIC_BASE", statusKilled),
		m("ssotoken/a.go", 2, "ARITHMETIC_BASE", statusKilled),
		m("ssotoken/a.go", 3, "ARITHMETIC_BASE", statusKilled),
		m("ssotoken/a.go", 4, "ARITHMETIC_BASE", statusLived),
		m("ssotoken/a.go", 5, "CONDITIONALS_BOUNDARY", statusLived),
		m("ssotoken/a.go", 6, "ARITHMETIC_BASE", statusTimedOut),
		m("ssotoken/a.go", 7, "ARITHMETIC_BASE", statusTimedOut),
		m("ssotoken/a.go", 8, "ARITHMETIC_BASE", statusNotCovered),
		m("ssotoken/a.go", 9, "ARITHMETIC_BASE", statusNotViable),
		m("ssotoken/a.go", 10, "ARITHMETIC_BASE", statusSkipped),
	}
	tests := []struct {
		name         string
		pkg          string
		mutants      []Mutant
		equivs       []Equivalent
		killed       int
		lived        int
		timedOut     int
		notCovered   int
		equivalent   int
		efficacy     float64
		survivors    []int // lines
		staleLines   []string
		staleReasons []string
	}{
		{
			name: "no equivalents: timeouts count against", pkg: "ssotoken", mutants: mutants,
			killed: 3, lived: 2, timedOut: 2, notCovered: 1, efficacy: 100 * 3.0 / 7,
			survivors: []int{4, 5, 6, 7},
		},
		{
			name: "a lived and a timed-out mutant listed", pkg: "ssotoken", mutants: mutants,
			equivs: []Equivalent{eq("ssotoken/a.go:4:1 ARITHMETIC_BASE"), eq("ssotoken/a.go:7:1 ARITHMETIC_BASE")},
			killed: 3, lived: 1, timedOut: 1, notCovered: 1, equivalent: 2, efficacy: 60,
			survivors: []int{5, 6},
		},
		{
			name: "stale: moved, killed now, not covered, wrong type", pkg: "ssotoken", mutants: mutants,
			equivs: []Equivalent{
				eq("ssotoken/a.go:40:1 ARITHMETIC_BASE"),
				eq("ssotoken/a.go:1:1 ARITHMETIC_BASE"),
				eq("ssotoken/a.go:8:1 ARITHMETIC_BASE"),
				eq("ssotoken/a.go:5:1 ARITHMETIC_BASE"),
			},
			killed: 3, lived: 2, timedOut: 2, notCovered: 1, efficacy: 100 * 3.0 / 7,
			survivors:    []int{4, 5, 6, 7},
			staleLines:   []string{"ssotoken/a.go:40:1 ARITHMETIC_BASE", "ssotoken/a.go:1:1 ARITHMETIC_BASE", "ssotoken/a.go:8:1 ARITHMETIC_BASE", "ssotoken/a.go:5:1 ARITHMETIC_BASE"},
			staleReasons: []string{"no such mutant", "KILLED", "NOT COVERED", "no such mutant"},
		},
		{
			name: "entries of another package, or of a sub-package, are not this one's", pkg: "ssotoken", mutants: mutants,
			equivs: []Equivalent{eq("ssotoken/redisreplay/store.go:4:1 ARITHMETIC_BASE"), eq("cognito/a.go:4:1 ARITHMETIC_BASE")},
			killed: 3, lived: 2, timedOut: 2, notCovered: 1, efficacy: 100 * 3.0 / 7,
			survivors: []int{4, 5, 6, 7},
		},
		{name: "nothing viable is 100 %", pkg: "cognito", efficacy: 100},
		{
			name: "every viable mutant listed", pkg: "ssotoken",
			mutants:    []Mutant{m("ssotoken/a.go", 4, "ARITHMETIC_BASE", statusLived), m("ssotoken/a.go", 8, "ARITHMETIC_BASE", statusNotCovered)},
			equivs:     []Equivalent{eq("ssotoken/a.go:4:1 ARITHMETIC_BASE")},
			notCovered: 1, equivalent: 1, efficacy: 100,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := summarize(tt.pkg, tt.mutants, tt.equivs)
			assert.Equal(t, tt.killed, s.Killed, "killed")
			assert.Equal(t, tt.lived, s.Lived, "lived")
			assert.Equal(t, tt.timedOut, s.TimedOut, "timed out")
			assert.Equal(t, tt.notCovered, s.NotCovered, "not covered")
			assert.Equal(t, tt.equivalent, s.Equivalent, "equivalent")
			assert.InDelta(t, tt.efficacy, s.Efficacy(), 1e-9, "efficacy")
			var lines []int
			for _, m := range s.Survivors {
				lines = append(lines, m.Line)
			}
			assert.Equal(t, tt.survivors, lines, "survivors")
			require.Len(t, s.Stale, len(tt.staleLines), "stale")
			for i, st := range s.Stale {
				assert.Equal(t, tt.staleLines[i], st.Entry.Key)
				assert.Contains(t, st.Why, tt.staleReasons[i])
			}
		})
	}
}

func TestFormatPercent(t *testing.T) {
	tests := []struct {
		in   float64
		want string
	}{
		{100, "100.0 %"},
		{95, "95.0 %"},
		{94.99, "94.9 %"}, // rounded down: never a passing figure for a failing run
		{100 * 3.0 / 7, "42.8 %"},
		{0, "0.0 %"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, formatPercent(tt.in), "%v", tt.in)
	}
}

func TestGremlinsArgs(t *testing.T) {
	got := gremlinsArgs("ssotoken", 0, "/tmp/r.json")
	assert.Equal(t, []string{
		"unleash", "./ssotoken", "--workers", "1", "--timeout-coefficient", "3", "-o", "/tmp/r.json",
		"-E", `^doc\.go$`, "-E", `^stats\.go$`, "-E", `^redisreplay/`, "-E", `^ssotokentest/`,
	}, got)
	assert.Equal(t, []string{
		"unleash", "./ssotoken/redisreplay", "--workers", "1", "--timeout-coefficient", "9", "-o", "r.json", "-E", `^doc\.go$`,
	}, gremlinsArgs("ssotoken/redisreplay", 9, "r.json"), "-coefficient overrides the package's")
}

// TestExclusionsAreFiles checks that every package is measured and that
// each exclusion names something that exists, so that a renamed file
// cannot silently join the measured set or leave it.
func TestExclusionsAreFiles(t *testing.T) {
	root, err := findRoot()
	require.NoError(t, err)
	for _, pkg := range defaultPackages {
		require.Contains(t, filesExcluded, pkg)
		require.Contains(t, coefficients, pkg)
	}
	for pkg, excl := range filesExcluded {
		entries, err := os.ReadDir(filepath.Join(root, pkg))
		require.NoError(t, err, pkg)
		for _, e := range excl {
			assert.NotEmpty(t, e.reason, "%s %s", pkg, e.pattern)
			found := false
			for _, de := range entries {
				name := de.Name()
				if de.IsDir() {
					name += "/"
				}
				if matchesExclusion(e.pattern, name) {
					found = true
				}
			}
			assert.True(t, found, "%s: exclusion %s matches nothing", pkg, e.pattern)
		}
	}
}

func TestRunReuse(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "ssotoken.json"), []byte(sampleReport), 0o644))
	equiv := filepath.Join(dir, "equivalent.txt")
	root, err := findRoot()
	require.NoError(t, err)

	tests := []struct {
		name     string
		equiv    string
		min      string
		wantCode int
		want     []string
	}{
		{
			name: "below the minimum", equiv: "", min: "95", wantCode: 1,
			want: []string{"killed 1  lived 1  timed out 1  not covered 1  equivalent 0  not viable 1  efficacy 33.3 %", "LIVED     ssotoken/verifier.go:120:14 CONDITIONALS_BOUNDARY", "TIMED OUT ssotoken/verifier.go:9:3 ARITHMETIC_BASE", "BELOW 95 %"},
		},
		{
			name: "survivors listed", equiv: "ssotoken/verifier.go:120:14 CONDITIONALS_BOUNDARY r\nssotoken/verifier.go:9:3 ARITHMETIC_BASE r\n", min: "95", wantCode: 0,
			want: []string{"equivalent 2  not viable 1  efficacy 100.0 %", "ok"},
		},
		{
			name: "a stale entry fails even above the minimum", equiv: "ssotoken/verifier.go:121:14 CONDITIONALS_BOUNDARY r\n", min: "0", wantCode: 1,
			want: []string{"STALE     equivalent.txt:1 ssotoken/verifier.go:121:14 CONDITIONALS_BOUNDARY: no such mutant", "STALE equivalent.txt entries"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.NoError(t, os.WriteFile(equiv, []byte(tt.equiv), 0o644))
			var stdout, stderr bytes.Buffer
			code := run([]string{"-reuse", "-json", dir, "-equivalent", equiv, "-root", root, "-min", tt.min, "ssotoken"}, &stdout, &stderr)
			assert.Equal(t, tt.wantCode, code, "stdout:\n%s\nstderr:\n%s", stdout.String(), stderr.String())
			for _, w := range tt.want {
				assert.Contains(t, stdout.String(), w)
			}
		})
	}
}

func TestParseFlags(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		want    []string
		wantErr string
	}{
		{name: "default packages", args: nil, want: defaultPackages},
		{name: "a ./ prefix and a trailing slash", args: []string{"./ssotoken/redisreplay/", "cognito"}, want: []string{"ssotoken/redisreplay", "cognito"}},
		{name: "unknown package", args: []string{"internal/limit"}, wantErr: `unknown package "internal/limit"`},
		{name: "reuse without json", args: []string{"-reuse"}, wantErr: "-reuse needs -json"},
		{name: "coefficient negative", args: []string{"-coefficient", "-1"}, wantErr: "-coefficient"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := parseFlags(tt.args, &bytes.Buffer{})
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, o.pkgs)
			assert.InDelta(t, 95.0, o.min, 0)
		})
	}
}

// TestCheckedInEquivalents checks that equivalent.txt parses and names
// files of measured packages that exist.
func TestCheckedInEquivalents(t *testing.T) {
	root, err := findRoot()
	require.NoError(t, err)
	equivs, err := loadEquivalents(filepath.Join(root, "tools", "mutation", "equivalent.txt"))
	require.NoError(t, err)
	for _, e := range equivs {
		assert.FileExists(t, filepath.Join(root, filepath.FromSlash(e.File)), "equivalent.txt:%d", e.Line)
	}
}

// matchesExclusion reports whether gremlins' -E pattern matches name.
func matchesExclusion(pattern, name string) bool {
	return regexp.MustCompile(pattern).MatchString(name)
}
