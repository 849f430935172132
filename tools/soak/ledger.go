package main

import (
	"crypto/sha256"
	"sync"
	"time"
)

// outcome is one request as the client saw it.
type outcome struct {
	Class      classID
	Target     string // the process that answered: "ssoserver", "lobapp-2"
	Start, End time.Duration
	Status     int    // 0: no answer (Problem says why)
	Code       string // the envelope's ErrorCode, if any
	Problem    string // an answer of the expected status that was wrong, or the transport error
}

// recorder keeps every outcome of a run.
type recorder struct {
	mu       sync.Mutex
	outcomes []outcome
}

func (r *recorder) add(o outcome) {
	r.mu.Lock()
	r.outcomes = append(r.outcomes, o)
	r.mu.Unlock()
}

// all returns the outcomes so far.
func (r *recorder) all() []outcome {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.outcomes[:len(r.outcomes):len(r.outcomes)]
}

// ledger remembers every TokenNo issued and every acceptance by a lobapp,
// over the whole run, keyed by the TokenNo's SHA-256 (the credential
// itself is not kept), and every TokenRefNo issued.
type ledger struct {
	mu       sync.Mutex
	tokens   map[[32]byte]*tokenEntry
	refNos   map[string]int
	accepted int // acceptances in all
	issued   int // TokenNo issued (a 200 with a TokenNo)
	dupRefs  int // TokenRefNo issued more than once (every repeat)
	dupIssue int // TokenNo issued more than once (every repeat; possible without jti only in one millisecond)
	twice    []acceptance
}

// tokenEntry is what the ledger knows of one TokenNo.
type tokenEntry struct {
	issued  int
	accepts []acceptance
}

// acceptance is a lobapp's 200 for a TokenNo.
type acceptance struct {
	Target string
	At     time.Duration
}

func newLedger() *ledger {
	return &ledger{tokens: map[[32]byte]*tokenEntry{}, refNos: map[string]int{}}
}

// issue records a TokenNo and its TokenRefNo as issued, and reports
// whether this TokenNo is new (the same claims in the same millisecond give
// the same TokenNo when it carries no jti).
func (l *ledger) issue(tokenNo, refNo string) bool {
	key := sha256.Sum256([]byte(tokenNo))
	l.mu.Lock()
	defer l.mu.Unlock()
	l.issued++
	e := l.tokens[key]
	if e == nil {
		e = &tokenEntry{}
		l.tokens[key] = e
	}
	e.issued++
	if e.issued > 1 {
		l.dupIssue++
	}
	if refNo != "" {
		l.refNos[refNo]++
		if l.refNos[refNo] > 1 {
			l.dupRefs++
		}
	}
	return e.issued == 1
}

// accept records that target accepted tokenNo at, and reports whether it
// was the first acceptance of that TokenNo anywhere.
func (l *ledger) accept(tokenNo, target string, at time.Duration) bool {
	key := sha256.Sum256([]byte(tokenNo))
	l.mu.Lock()
	defer l.mu.Unlock()
	l.accepted++
	e := l.tokens[key]
	if e == nil { // accepted without being issued to the run: a forgery got in
		e = &tokenEntry{}
		l.tokens[key] = e
	}
	a := acceptance{Target: target, At: at}
	e.accepts = append(e.accepts, a)
	if len(e.accepts) == 2 {
		l.twice = append(l.twice, e.accepts[0])
	}
	if len(e.accepts) > 1 {
		l.twice = append(l.twice, a)
	}
	return len(e.accepts) == 1
}

// ledgerSummary is what the report gives of the ledger.
type ledgerSummary struct {
	Issued        int          `json:"issued"`
	Accepted      int          `json:"accepted"`
	AcceptedTwice int          `json:"acceptedTwice"` // TokenNo accepted more than once
	Twice         []acceptance `json:"twice,omitempty"`
	DupRefNos     int          `json:"duplicateTokenRefNos"`
	DupTokenNos   int          `json:"duplicateTokenNos"`
}

func (l *ledger) summary() ledgerSummary {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := ledgerSummary{Issued: l.issued, Accepted: l.accepted, DupRefNos: l.dupRefs, DupTokenNos: l.dupIssue}
	for _, e := range l.tokens {
		if len(e.accepts) > 1 {
			s.AcceptedTwice++
		}
	}
	s.Twice = append(s.Twice, l.twice...)
	return s
}
