package main

import (
	"go/token"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// caseSrc has a tagless switch that ran (its enclosing block, lines 3 to
// 4, has a count), one in a function that never ran, a tagged switch and
// a type switch.
const caseSrc = `package p

func f(a, b int) int {
	switch {
	case a < b:
		return 1
	case a > b,
		a == 0:
		return 2
	default:
		return 0
	}
}

func g(a int) int {
	switch a {
	case 1 + 1:
		return 1
	}
	return 0
}

func h(x any) int {
	switch x.(type) {
	case int:
		return 1
	}
	return 0
}
`

func TestCaseLines(t *testing.T) {
	const file = "example.com/m/p/p.go"
	tests := []struct {
		name   string
		blocks []profileBlock
		want   []string
	}{
		{
			name: "f ran, g did not",
			blocks: []profileBlock{
				{file: file, startLine: 3, startCol: 28, endLine: 4, endCol: 9, count: 1},
				{file: file, startLine: 15, startCol: 20, endLine: 16, endCol: 11, count: 0},
			},
			want: []string{file + ":5.7,5.13 0 1", file + ":7.7,8.10 0 1"},
		},
		{
			name: "g ran, counted",
			blocks: []profileBlock{
				{file: file, startLine: 15, startCol: 20, endLine: 16, endCol: 11, count: 7},
			},
			want: []string{file + ":17.7,17.13 0 7"},
		},
		{name: "nothing ran", blocks: nil, want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := strings.Split(strings.TrimSpace(caseLines(file, []byte(caseSrc), tt.blocks)), "\n")
			if tt.want == nil {
				assert.Equal(t, []string{""}, got)
				return
			}
			assert.Equal(t, tt.want, got)
		})
	}
	assert.Empty(t, caseLines(file, []byte("not Go"), []profileBlock{{file: file, startLine: 1, endLine: 100, count: 1}}))
}

func TestExtendCaseCoverage(t *testing.T) {
	root := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(root, "p"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(root, "p", "p.go"), []byte(caseSrc), 0o644))
	profile := filepath.Join(root, "cover.out")
	orig := "mode: set\nexample.com/m/p/p.go:3.28,4.9 1 1\nexample.com/m/p/p.go:5.14,6.11 1 1\nother.org/x/x.go:1.1,2.2 1 1\n"
	require.NoError(t, os.WriteFile(profile, []byte(orig), 0o644))

	require.NoError(t, extendCaseCoverage(profile, root, "example.com/m"))
	got, err := os.ReadFile(profile)
	require.NoError(t, err)
	assert.Equal(t, orig+"example.com/m/p/p.go:5.7,5.13 0 1\nexample.com/m/p/p.go:7.7,8.10 0 1\n", string(got))

	require.NoError(t, os.WriteFile(profile, []byte("mode: set\nbroken\n"), 0o644))
	assert.Error(t, extendCaseCoverage(profile, root, "example.com/m"))
	assert.Error(t, extendCaseCoverage(filepath.Join(root, "missing"), root, "example.com/m"))
}

func TestProfileBlockContains(t *testing.T) {
	b := profileBlock{startLine: 3, startCol: 28, endLine: 4, endCol: 9}
	for _, tt := range []struct {
		line, col int
		want      bool
	}{
		{3, 27, false}, {3, 28, true}, {3, 200, true}, {4, 1, true}, {4, 9, true}, {4, 10, false}, {2, 40, false}, {5, 1, false},
	} {
		assert.Equal(t, tt.want, b.contains(pos(tt.line, tt.col)), "%d.%d", tt.line, tt.col)
	}
}

func TestCoverProfileArg(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"test", "-cover", "-coverprofile", "/tmp/c.out", "./..."}, "/tmp/c.out"},
		{[]string{"test", "-coverprofile=/tmp/c.out", "./..."}, "/tmp/c.out"},
		{[]string{"test", "-timeout", "10s", "-failfast", "./p"}, ""},
		{[]string{"mod", "download"}, ""},
		{[]string{"build", "-coverprofile", "x"}, ""},
		{nil, ""},
	} {
		assert.Equal(t, tt.want, coverProfileArg(tt.args), "%q", tt.args)
	}
}

func pos(line, col int) token.Position { return token.Position{Line: line, Column: col} }
