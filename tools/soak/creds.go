package main

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
)

// credKind is a kind of credential, for the report.
type credKind uint8

const (
	credAccessToken   credKind = iota + 1 // a Cognito access token of the trusted pool
	credOtherPool                         // an access token of the pool ssoserver does not trust
	credTokenNo                           // a TokenNo ssoserver issued
	credSSOCookie                         // an SSO cookie's value
	credExchangedJWT                      // a JWT the cookie exchange returned
	credSessionCookie                     // a lobapp session cookie's value
	credForged                            // a token or cookie the run forged
	numCredKinds
)

var credNames = [numCredKinds]string{
	credAccessToken:   "access token",
	credOtherPool:     "other pool's access token",
	credTokenNo:       "TokenNo",
	credSSOCookie:     "SSO cookie",
	credExchangedJWT:  "exchanged JWT",
	credSessionCookie: "session cookie",
	credForged:        "forged token",
}

// minPart is the shortest part of a credential that is indexed, and the
// shortest run of base64url characters in a log that is looked up.
// Every JWT payload and signature of the run is far longer.
const minPart = 20

// credentials is every credential a run used or received, kept as
// digests of their distinctive parts, so that the logs can be searched
// for a whole credential or a piece of one without the run keeping them:
// a JWT's payload and its signature each (its header, the same for many
// tokens, is no secret), any other value whole. Secrets are few, and kept
// to be searched for as they are. It is safe for concurrent use.
type credentials struct {
	mu      sync.Mutex
	parts   map[[16]byte]credKind
	counts  [numCredKinds]int
	secrets []secret
}

// secret is a configuration secret: its name (the variable it travels
// in) and its value.
type secret struct{ name, value string }

func newCredentials() *credentials {
	return &credentials{parts: map[[16]byte]credKind{}}
}

func digest(b []byte) [16]byte {
	sum := sha256.Sum256(b)
	return [16]byte(sum[:16])
}

// add records value, a credential of kind.
func (c *credentials) add(kind credKind, value string) {
	parts := strings.Split(value, ".")
	if len(parts) == 3 {
		parts = parts[1:] // the payload and the signature
	} else {
		parts = []string{value}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.counts[kind]++
	for _, p := range parts {
		if len(p) >= minPart {
			if _, seen := c.parts[digest([]byte(p))]; !seen {
				c.parts[digest([]byte(p))] = kind
			}
		}
	}
}

// addSecret records a secret, searched for as a substring.
func (c *credentials) addSecret(name, value string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.secrets = append(c.secrets, secret{name, value})
}

// total returns how many credentials were recorded, secrets included.
func (c *credentials) total() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := len(c.secrets)
	for _, k := range c.counts {
		n += k
	}
	return n
}

// byKind returns how many credentials of each kind were recorded.
func (c *credentials) byKind() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	m := map[string]int{"secret": len(c.secrets)}
	for k, n := range c.counts {
		if n > 0 {
			m[credNames[k]] = n
		}
	}
	return m
}

// leak is a credential found in a process's output. It never holds the
// credential.
type leak struct {
	Process string `json:"process"`
	Line    int    `json:"line"`
	Kind    string `json:"kind"`
}

func (l leak) String() string {
	return fmt.Sprintf("%s line %d: %s", l.Process, l.Line, l.Kind)
}

// maxLeaks bounds the leaks a scan lists; it counts them all.
const maxLeaks = 20

// scan reads the output of process from r, line by line, and returns the
// lines read, every leak (at most maxLeaks listed, at most one per line)
// and the number of lines that leaked.
func (c *credentials) scan(process string, r io.Reader) (lines int, leaks []leak, leaked int, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	// The logs hold proc's lines, at most 1 MiB each; a longer line is
	// looked at in pieces of maxScanLine.
	br := bufio.NewReaderSize(r, maxScanLine)
	for {
		line, rerr := br.ReadSlice('\n')
		if len(line) > 0 {
			lines++
			if kind, ok := c.find(line); ok {
				leaked++
				leaks = appendLeak(leaks, leak{process, lines, kind})
			}
		}
		switch {
		case rerr == io.EOF:
			return lines, leaks, leaked, nil
		case rerr != nil && !errors.Is(rerr, bufio.ErrBufferFull):
			return lines, leaks, leaked, rerr
		}
	}
}

// maxScanLine is the longest line scan looks at whole.
const maxScanLine = 4 << 20

func appendLeak(leaks []leak, l leak) []leak {
	if len(leaks) < maxLeaks {
		leaks = append(leaks, l)
	}
	return leaks
}

// find reports the first credential in line: a secret anywhere in it, or
// a run of base64url characters that is an indexed part. c.mu is held.
func (c *credentials) find(line []byte) (string, bool) {
	for _, s := range c.secrets {
		if bytes.Contains(line, []byte(s.value)) {
			return "secret " + s.name, true
		}
	}
	for i := 0; i < len(line); {
		if !isB64URL(line[i]) {
			i++
			continue
		}
		j := i
		for j < len(line) && isB64URL(line[j]) {
			j++
		}
		if j-i >= minPart {
			if kind, ok := c.parts[digest(line[i:j])]; ok {
				return credNames[kind], true
			}
		}
		i = j
	}
	return "", false
}

func isB64URL(b byte) bool {
	return 'a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' || '0' <= b && b <= '9' || b == '-' || b == '_'
}
