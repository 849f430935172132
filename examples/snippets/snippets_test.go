package snippets

import (
	"bufio"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestREADMESnippetsCompile holds every Go block of README.md against the
// compiled code of examples/: each block's lines must appear, in order and
// one after another, in one file there (spacing aside, as gofmt aligns
// comments). So no README snippet drifts from code that builds and checks
// its errors.
func TestREADMESnippetsCompile(t *testing.T) {
	blocks := goBlocks(t, "../../README.md")
	if len(blocks) == 0 {
		t.Fatal("README.md has no Go block")
	}
	sources := map[string][]string{}
	err := filepath.WalkDir("..", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		sources[path] = normalize(strings.Split(string(b), "\n"))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range blocks {
		want := normalize(b.lines)
		if !foundIn(sources, want) {
			t.Errorf("README.md line %d: this Go block is in no file of examples/ (keep README's snippets in examples/snippets or another program there):\n%s",
				b.line, strings.Join(b.lines, "\n"))
		}
	}
}

type block struct {
	line  int
	lines []string
}

// goBlocks returns the ```go blocks of the Markdown file at path.
func goBlocks(t *testing.T, path string) []block {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var (
		out []block
		cur *block
		n   int
	)
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		n++
		line := sc.Text()
		switch {
		case cur == nil && strings.TrimSpace(line) == "```go":
			cur = &block{line: n + 1}
		case cur != nil && strings.TrimSpace(line) == "```":
			out = append(out, *cur)
			cur = nil
		case cur != nil:
			cur.lines = append(cur.lines, line)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// normalize drops blank lines and reduces every run of spaces and tabs
// to one space.
func normalize(lines []string) []string {
	var out []string
	for _, l := range lines {
		if f := strings.Fields(l); len(f) > 0 {
			out = append(out, strings.Join(f, " "))
		}
	}
	return out
}

// foundIn reports whether want appears as consecutive lines of a source.
func foundIn(sources map[string][]string, want []string) bool {
	for _, src := range sources {
		for i := 0; i+len(want) <= len(src); i++ {
			match := true
			for j, w := range want {
				if src[i+j] != w {
					match = false
					break
				}
			}
			if match {
				return true
			}
		}
	}
	return false
}
