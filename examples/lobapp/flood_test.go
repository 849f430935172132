package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ssokit/ssokit/ssotoken"
)

// newSigner returns an issuer's Signer over the tests' HS256 secret, on
// clk (so that it issues at once, without waiting out its start-up
// second), with a jti in every token: the tokens of one request are then
// distinct even on a clock that stands still.
func newSigner(t *testing.T, clk *clock) *ssotoken.Signer {
	t.Helper()
	key, err := ssotoken.NewHMACKey("", []byte(testSecret))
	require.NoError(t, err)
	ring, err := ssotoken.NewKeyring(key)
	require.NoError(t, err)
	s, err := ssotoken.NewSigner(ssotoken.SignerConfig{Keys: ring, IncludeJTI: true, Now: clk.now})
	require.NoError(t, err)
	return s
}

// issueTo mints a TokenNo of LOB XX for ciino.
func issueTo(t *testing.T, s *ssotoken.Signer, ciino, functionality string) string {
	t.Helper()
	res, err := s.Issue(t.Context(), ssotoken.Request{CIINo: ciino, LOBId: "XX", Functionality: functionality})
	require.NoError(t, err)
	return res.TokenNo
}

// lobClient calls a lobapp over HTTP, as an API client, without a cookie
// jar: each call carries the session cookie it is given.
type lobClient struct {
	base string
	c    *http.Client
}

func newLOBClient(t *testing.T, srv *httptest.Server) *lobClient {
	tr := &http.Transport{MaxIdleConnsPerHost: 16}
	t.Cleanup(tr.CloseIdleConnections)
	return &lobClient{base: srv.URL, c: &http.Client{Transport: tr, Timeout: 10 * time.Second}}
}

// answer is what a lobapp answered, in short.
type answer struct {
	status     int
	code       string // the JSON envelope's ErrorCode
	retryAfter string
	session    string // the session cookie's value
}

// redeem POSTs tok to /sso.
func (l *lobClient) redeem(tok string) (answer, error) {
	res, err := l.c.PostForm(l.base+"/sso", url.Values{"TokenNo": {tok}})
	if err != nil {
		return answer{}, err
	}
	defer res.Body.Close()
	a := answer{status: res.StatusCode, retryAfter: res.Header.Get("Retry-After")}
	var body struct{ ErrorCode string }
	if err := json.NewDecoder(io.LimitReader(res.Body, 1<<16)).Decode(&body); err != nil {
		return a, err
	}
	a.code = body.ErrorCode
	for _, c := range res.Cookies() {
		if c.Name == sessionCookie {
			a.session = c.Value
		}
	}
	return a, nil
}

// home GETs / with the session cookie v and returns the status.
func (l *lobClient) home(v string) (int, error) {
	r, err := http.NewRequest(http.MethodGet, l.base+"/", nil)
	if err != nil {
		return 0, err
	}
	r.AddCookie(&http.Cookie{Name: sessionCookie, Value: v})
	res, err := l.c.Do(r)
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	_, _ = io.Copy(io.Discard, res.Body)
	return res.StatusCode, nil
}

// TestFloodLeavesVictimAlone is issue 18's acceptance, at a reduced
// scale: an attacker with one CIINo mints and redeems 5,000 TokenNo
// against a lobapp whose memory store holds 500 and 50 per CIINo. The
// attacker's first 50 are accepted and the rest refused 429
// too_many_tokens with Retry-After; the victim's session, begun before
// the flood, goes on working during and after it; the victim's fresh
// token is accepted once; and someone who never came before gets in.
func TestFloodLeavesVictimAlone(t *testing.T) {
	t.Parallel() // the heaviest tests of the package run side by side
	const (
		floodSize = 5000
		perCaller = 50
	)
	clk := &clock{t: time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)}
	m := newMetrics()
	a, err := newApp(appConfig{secret: testSecret, lob: "XX", leeway: 30 * time.Second, maxLifetime: time.Hour, now: clk.now,
		replayEntries: 500, replayPerCaller: perCaller, metrics: m})
	require.NoError(t, err)
	t.Cleanup(a.Close)
	srv := httptest.NewServer(a)
	t.Cleanup(srv.Close)
	lob := newLOBClient(t, srv)
	signer := newSigner(t, clk)

	// The victim arrives before the flood.
	got, err := lob.redeem(issueTo(t, signer, "10001XXX", "D"))
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, got.status)
	victim := got.session
	require.NotEmpty(t, victim)

	began := time.Now()
	flood := make([]string, floodSize)
	for i := range flood {
		flood[i] = issueTo(t, signer, "66666XXX", "D"+strconv.Itoa(i%7))
	}
	minted := time.Since(began)

	// The flood: its first perCaller tokens one by one, the rest by eight
	// at once, while the victim keeps reloading the welcome page.
	began = time.Now()
	for i, tok := range flood[:perCaller] {
		got, err := lob.redeem(tok)
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, got.status, "the attacker's token %d: %s", i, got.code)
	}
	var (
		refused, wrong atomic.Int64
		firstWrong     atomic.Value
		wg             sync.WaitGroup
		next           atomic.Int64
	)
	next.Store(perCaller)
	stop := make(chan struct{})
	victimPages := make(chan []int, 1)
	go func() {
		var statuses []int
		for {
			select {
			case <-stop:
				victimPages <- statuses
				return
			default:
			}
			s, err := lob.home(victim)
			if err != nil {
				s = -1
			}
			statuses = append(statuses, s)
		}
	}()
	for range 8 {
		wg.Go(func() {
			for i := next.Add(1) - 1; i < floodSize; i = next.Add(1) - 1 {
				got, err := lob.redeem(flood[i])
				retry, _ := strconv.Atoi(got.retryAfter)
				if err == nil && got.status == http.StatusTooManyRequests && got.code == ssotoken.CodeTooManyTokens &&
					retry > 0 && retry <= 3630 && got.session == "" {
					refused.Add(1)
					continue
				}
				wrong.Add(1)
				firstWrong.CompareAndSwap(nil, fmt.Sprintf("token %d: %+v %v", i, got, err))
			}
		})
	}
	wg.Wait()
	close(stop)
	pages := <-victimPages
	redeemed := time.Since(began)
	assert.Equal(t, int64(floodSize-perCaller), refused.Load(), "every token past the attacker's share is refused 429 too_many_tokens with Retry-After")
	assert.Zero(t, wrong.Load(), "the first that was not: %v", firstWrong.Load())
	assert.NotEmpty(t, pages)
	for _, s := range pages {
		if s != http.StatusOK {
			assert.Equal(t, http.StatusOK, s, "the victim's page during the flood")
			break
		}
	}
	t.Logf("flood: %d TokenNo of one CIINo minted in %v, redeemed in %v: %d accepted, %d refused 429 too_many_tokens; the victim's page answered 200 %d times meanwhile",
		floodSize, minted.Round(time.Millisecond), redeemed.Round(time.Millisecond), perCaller, refused.Load(), len(pages))

	// After the flood: the victim's session is whole, its fresh token is
	// accepted once, and a newcomer gets in.
	status, err := lob.home(victim)
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, status, "the victim's session, begun before the flood")
	fresh := issueTo(t, signer, "10001XXX", "D")
	got, err = lob.redeem(fresh)
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, got.status, got.code)
	got, err = lob.redeem(fresh)
	require.NoError(t, err)
	assert.Equal(t, answer{status: http.StatusUnauthorized, code: ssotoken.CodeTokenReplayed}, got)
	got, err = lob.redeem(issueTo(t, signer, "20002XXX", "D"))
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, got.status, got.code)

	// A browser of the attacker's gets the page, with Retry-After too.
	rec := post(a, issueTo(t, signer, "66666XXX", "D"), browserAccept)
	assert.Equal(t, http.StatusTooManyRequests, rec.Code)
	assert.Equal(t, "3630", rec.Header().Get("Retry-After"), "until the attacker's first token and its leeway are past")
	assert.Contains(t, rec.Body.String(), `<code id="code">too_many_tokens</code>`)
	assert.Contains(t, rec.Body.String(), "Too many TokenNo were used for you lately")

	rec = httptest.NewRecorder()
	promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{}).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	for _, line := range []string{
		fmt.Sprintf(`ssokit_sso_redemptions_total{result="accepted"} %d`, perCaller+3),
		fmt.Sprintf(`ssokit_sso_redemptions_total{result="caller_limited"} %d`, floodSize-perCaller+1),
		`ssokit_sso_redemptions_total{result="replayed"} 1`,
		`ssokit_sso_redemptions_total{result="store_full"} 0`,
		fmt.Sprintf(`ssokit_requests_total{code="too_many_tokens",endpoint="sso_token",outcome="refused"} %d`, floodSize-perCaller+1),
	} {
		assert.Contains(t, rec.Body.String(), line+"\n")
	}
}

// TestSessionsAreStateless: 20,000 arrivals of distinct CIINos, twice as
// many as the sessions lobapp used to keep before it dropped arbitrary
// ones, and the first arrival's session still works; so does it at an
// instance that never saw it, with the same session key: nothing of it
// is kept on the server.
func TestSessionsAreStateless(t *testing.T) {
	t.Parallel()
	const arrivals = 20_000
	clk := &clock{t: time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)}
	c := appConfig{secret: testSecret, sessionKeyText: testSessionKey, lob: "XX", leeway: 30 * time.Second, maxLifetime: time.Hour, now: clk.now}
	a, err := newApp(c)
	require.NoError(t, err)
	t.Cleanup(a.Close)
	signer := newSigner(t, clk)

	rec := post(a, issueTo(t, signer, "10001XXX", "D"), "")
	require.Equal(t, http.StatusOK, rec.Code)
	victim := sessionOf(t, rec)

	tokens := make([]string, arrivals)
	for i := range tokens {
		tokens[i] = issueTo(t, signer, strconv.Itoa(20_000_000+i)+"XXX", "D")
	}
	began := time.Now()
	var wg sync.WaitGroup
	var next, accepted atomic.Int64
	for range 8 {
		wg.Go(func() {
			for i := next.Add(1) - 1; i < arrivals; i = next.Add(1) - 1 {
				if rec := post(a, tokens[i], ""); rec.Code == http.StatusOK && strings.Contains(rec.Header().Get("Set-Cookie"), sessionCookie+"=") {
					accepted.Add(1)
				}
			}
		})
	}
	wg.Wait()
	require.Equal(t, int64(arrivals), accepted.Load())
	t.Logf("%d arrivals of distinct CIINos in %v", arrivals, time.Since(began).Round(time.Millisecond))

	assert.Equal(t, http.StatusOK, get(a, victim).Code, "the first session, after 20,000 more")
	other, err := newApp(c)
	require.NoError(t, err)
	t.Cleanup(other.Close)
	assert.Equal(t, http.StatusOK, get(other, victim).Code, "an instance that never saw it, with the same key")
}
