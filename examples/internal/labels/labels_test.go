package labels

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/ssokit/ssokit/httpadapter"
	"github.com/ssokit/ssokit/ssotoken"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// libraryCodes returns every exported string constant named Code... that
// the library's packages (the module's, but examples/ and internal/)
// declare, by value, with where it is declared.
func libraryCodes(t *testing.T) map[string]string {
	t.Helper()
	root := filepath.Join("..", "..", "..")
	codes := map[string]string{}
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		if d.IsDir() {
			switch top, _, _ := strings.Cut(filepath.ToSlash(rel), "/"); top {
			case "examples", "internal", "tools", "e2e", "testdata":
				return filepath.SkipDir
			}
			if strings.HasPrefix(d.Name(), ".") && rel != "." {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		for _, decl := range f.Decls {
			gen, ok := decl.(*ast.GenDecl)
			if !ok || gen.Tok != token.CONST {
				continue
			}
			for _, spec := range gen.Specs {
				vs := spec.(*ast.ValueSpec)
				for i, name := range vs.Names {
					if !strings.HasPrefix(name.Name, "Code") || !name.IsExported() || i >= len(vs.Values) {
						continue
					}
					lit, ok := vs.Values[i].(*ast.BasicLit)
					if !ok || lit.Kind != token.STRING {
						continue
					}
					v, err := strconv.Unquote(lit.Value)
					require.NoError(t, err)
					codes[v] = filepath.ToSlash(rel) + ": " + name.Name
				}
			}
		}
		return nil
	})
	require.NoError(t, err)
	return codes
}

// TestCodesAreTheLibrarys: Codes holds every code the library declares,
// and nothing else, so that a new code gets its own label value.
func TestCodesAreTheLibrarys(t *testing.T) {
	lib := libraryCodes(t)
	require.Greater(t, len(lib), 50, "the walk found the library's codes")
	for v, where := range lib {
		assert.True(t, Codes[v], "%s (%q) is not in Codes: it would be counted as %q", where, v, Other)
	}
	for v := range Codes {
		assert.Contains(t, lib, v, "Codes holds %q, which no package declares", v)
	}
}

func TestCode(t *testing.T) {
	for _, tt := range []struct{ code, want string }{
		{"", "none"},
		{"rate_limited", "rate_limited"},
		{"client_disconnected", "client_disconnected"},
		{"token_replayed", "token_replayed"},
		{"no_such_code", Other},
		{"Token_Replayed", Other},
	} {
		assert.Equal(t, tt.want, Code(tt.code), "%q", tt.code)
	}
}

func TestFetchResult(t *testing.T) {
	for _, r := range []string{ssotoken.FetchOK, ssotoken.FetchNoUsableKey, ssotoken.FetchTimeout, ssotoken.FetchCanceled,
		ssotoken.FetchConnRefused, ssotoken.FetchNameResolution, ssotoken.FetchTLS, ssotoken.FetchBodyTooLarge,
		ssotoken.FetchNotKeySet, ssotoken.FetchInvalidKey, ssotoken.FetchHTTPStatus, ssotoken.FetchFailed} {
		assert.Equal(t, r, FetchResult(r))
	}
	for _, tt := range []struct{ r, want string }{
		{"HTTP 100", "HTTP 100"},
		{"HTTP 503", "HTTP 503"},
		{"HTTP 599", "HTTP 599"},
		{"HTTP 099", Other},
		{"HTTP 600", Other},
		{"HTTP 5030", Other},
		{"HTTP +50", Other},
		{"HTTP abc", Other},
		{"something else", Other},
		{"", Other},
	} {
		assert.Equal(t, tt.want, FetchResult(tt.r), "%q", tt.r)
	}
}

func TestBounded(t *testing.T) {
	known := Set("a", "b")
	assert.Equal(t, "a", Bounded("a", known))
	assert.Equal(t, Other, Bounded("c", known))
	assert.Equal(t, Other, Bounded("", known))
	assert.Len(t, Set(), 0)
}

func ExampleCode() {
	fmt.Println(Code(""), Code(httpadapter.CodeRateLimited), Code("made up by a caller"))
	// Output: none rate_limited other
}
