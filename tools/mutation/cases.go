package main

import (
	"bufio"
	"bytes"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Gremlins runs a mutant only if its position lies in a block of the
// coverage profile that ran. The go command's coverage has no block for
// the expressions of a switch's case clauses: a block ends at the
// "switch" and the next begins after the clause's colon. So gremlins
// calls every mutant of a case expression NOT COVERED and never runs it,
// however often the tests evaluate it, and checks such as
//
//	switch {
//	case !hasIat:
//	case c.ExpiresAt-c.IssuedAt <= 0 || ...:
//	case c.LOBId != v.lob:
//
// would be left out of the measure. extendCaseCoverage adds to the
// profile, for each case clause of a switch that ran, a block that spans
// its expressions, with the count of the block that holds the switch. It
// over-approximates (a case after one that always matches is counted as
// evaluated), which can only make more mutants run: one the tests never
// reach then lives, and shows up.

// caseBlock is the span of one case clause's expressions, and the position
// of its switch.
type caseBlock struct {
	start, end token.Position // of the expressions, end after the colon
	switchPos  token.Position
}

// caseBlocks returns the case expression spans of the Go source src.
func caseBlocks(name string, src []byte) ([]caseBlock, error) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, name, src, parser.SkipObjectResolution)
	if err != nil {
		return nil, err
	}
	var out []caseBlock
	ast.Inspect(f, func(n ast.Node) bool {
		sw, ok := n.(*ast.SwitchStmt)
		if !ok {
			return true
		}
		for _, s := range sw.Body.List {
			cc, ok := s.(*ast.CaseClause)
			if !ok || len(cc.List) == 0 {
				continue // default:
			}
			out = append(out, caseBlock{
				start:     fset.Position(cc.List[0].Pos()),
				end:       fset.Position(cc.Colon + 1),
				switchPos: fset.Position(sw.Switch),
			})
		}
		return true
	})
	return out, nil
}

// profileBlock is one line of a coverage profile.
type profileBlock struct {
	file                                 string // as the profile names it: the import path and the file name
	startLine, startCol, endLine, endCol int
	count                                int
}

// parseProfileLine reads "file:sl.sc,el.ec numstmt count".
func parseProfileLine(line string) (profileBlock, error) {
	var b profileBlock
	colon := strings.LastIndexByte(line, ':')
	if colon < 0 {
		return b, fmt.Errorf("coverage profile: %q", line)
	}
	b.file = line[:colon]
	var n int
	if _, err := fmt.Sscanf(line[colon+1:], "%d.%d,%d.%d %d %d", &b.startLine, &b.startCol, &b.endLine, &b.endCol, &n, &b.count); err != nil {
		return b, fmt.Errorf("coverage profile: %q: %w", line, err)
	}
	return b, nil
}

// contains reports whether the block spans position p.
func (b profileBlock) contains(p token.Position) bool {
	after := p.Line > b.startLine || p.Line == b.startLine && p.Column >= b.startCol
	before := p.Line < b.endLine || p.Line == b.endLine && p.Column <= b.endCol
	return after && before
}

// extendCaseCoverage rewrites the coverage profile at path, adding the
// case blocks (see above) of every file it names whose switch ran. A
// file is found by its import path under modulePath, in root.
func extendCaseCoverage(path, root, modulePath string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	byFile := make(map[string][]profileBlock)
	var files []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for first := true; sc.Scan(); first = false {
		if first {
			continue // mode: ...
		}
		b, err := parseProfileLine(sc.Text())
		if err != nil {
			return err
		}
		if _, ok := byFile[b.file]; !ok {
			files = append(files, b.file)
		}
		byFile[b.file] = append(byFile[b.file], b)
	}
	if err := sc.Err(); err != nil {
		return err
	}
	var extra bytes.Buffer
	for _, file := range files {
		rel, ok := strings.CutPrefix(file, modulePath+"/")
		if !ok {
			continue
		}
		src, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(rel)))
		if err != nil {
			return err
		}
		extra.WriteString(caseLines(file, src, byFile[file]))
	}
	if extra.Len() == 0 {
		return nil
	}
	if !bytes.HasSuffix(data, []byte("\n")) {
		data = append(data, '\n')
	}
	return os.WriteFile(path, append(data, extra.Bytes()...), 0o644)
}

// caseLines returns the profile lines to add for the source src of file,
// whose blocks are blocks.
func caseLines(file string, src []byte, blocks []profileBlock) string {
	cases, err := caseBlocks(file, src)
	if err != nil {
		return "" // not Go the parser reads: leave the profile as it is
	}
	var b strings.Builder
	for _, c := range cases {
		count := 0
		for _, pb := range blocks {
			if pb.contains(c.switchPos) && pb.count > count {
				count = pb.count
			}
		}
		if count == 0 {
			continue
		}
		b.WriteString(file + ":" + strconv.Itoa(c.start.Line) + "." + strconv.Itoa(c.start.Column) + "," +
			strconv.Itoa(c.end.Line) + "." + strconv.Itoa(c.end.Column) + " 0 " + strconv.Itoa(count) + "\n")
	}
	return b.String()
}

// coverProfileArg returns the profile of a "go test ... -coverprofile F"
// command line, or "" for any other go command.
func coverProfileArg(args []string) string {
	if len(args) == 0 || args[0] != "test" {
		return ""
	}
	for i, a := range args {
		for _, p := range []string{"-coverprofile", "--coverprofile"} {
			if a == p && i+1 < len(args) {
				return args[i+1]
			}
			if v, ok := strings.CutPrefix(a, p+"="); ok {
				return v
			}
		}
	}
	return ""
}
