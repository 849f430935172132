package cookiesso

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ssokit/ssokit/ssotoken"
)

// jwksTransport answers every request with the JWKS of testRSA's key as
// "k1", in memory, and records when each request came: inside a synctest
// bubble, on the bubble's clock.
type jwksTransport struct {
	body []byte
	mu   sync.Mutex
	at   []time.Time
}

func (j *jwksTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	j.mu.Lock()
	j.at = append(j.at, time.Now())
	j.mu.Unlock()
	rec := httptest.NewRecorder()
	rec.Header().Set("Content-Type", "application/json")
	_, _ = rec.Write(j.body)
	res := rec.Result()
	res.Request = r
	return res, nil
}

// fetches returns the times of the requests so far.
func (j *jwksTransport) fetches() []time.Time {
	j.mu.Lock()
	defer j.mu.Unlock()
	return append([]time.Time(nil), j.at...)
}

func randomKID(t *testing.T) string {
	b := make([]byte, 8)
	_, err := rand.Read(b)
	require.NoError(t, err)
	return hex.EncodeToString(b)
}

// TestJWKSValidatorUnknownKIDRefetchLimit: a flood of cookies with random
// kids causes at most one JWKS fetch per 10 s and never stops a genuine
// cookie; every cookie of the flood is answered (cookie_bad_signature)
// at once, but for the one that may wait, at most a second, for the
// next allowed fetch. The clock is synctest's: the seconds pass in no
// time.
func TestJWKSValidatorUnknownKIDRefetchLimit(t *testing.T) {
	testRSA(t) // outside the bubble: generated once per binary
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		rt := &jwksTransport{body: jwksWithoutAlg(t)}
		v, err := NewJWKSValidator(JWKSValidatorConfig{URL: "https://idp.example/jwks.json", HTTPClient: &http.Client{Transport: rt}, Now: clock(testNow)})
		require.NoError(t, err)
		defer v.Close()
		require.Len(t, rt.fetches(), 1, "the fetch at start")
		good := rsCookie(t, "k1", claimsWith())

		// flood sends 50 cookies with random kids at once and returns how
		// long the last answer took.
		flood := func() time.Duration {
			t.Helper()
			start := time.Now()
			var wg sync.WaitGroup
			for range 50 {
				wg.Go(func() {
					_, err := v.Validate(ctx, rsCookie(t, randomKID(t), claimsWith()))
					assert.Equal(t, CodeCookieBadSignature, ssotoken.CodeOf(err), "%v", err)
				})
			}
			wg.Wait()
			_, err := v.Validate(ctx, good)
			assert.NoError(t, err, "a genuine cookie during the flood")
			return time.Since(start)
		}
		epoch := time.Now()
		for _, step := range []struct {
			sleep   time.Duration // before the flood
			fetches int           // after it
			waited  time.Duration // by its slowest cookie
		}{
			{0, 2, 0},                                // the first unknown kid fetches at once
			{5 * time.Second, 2, 0},                  // t+5s: none
			{3500 * time.Millisecond, 2, 0},          // t+8.5s: the next fetch is 1.5 s away, too far to wait
			{time.Second, 3, 500 * time.Millisecond}, // t+9.5s: one cookie waits for the fetch at t+10s
			{0, 3, 0},                                // t+10s, again: none
		} {
			time.Sleep(step.sleep)
			waited := flood()
			assert.Len(t, rt.fetches(), step.fetches, "at t+%v", time.Since(epoch))
			assert.InDelta(t, step.waited, waited, float64(time.Microsecond), "at t+%v", time.Since(epoch))
		}
		at := rt.fetches()
		require.Len(t, at, 3)
		assert.Equal(t, epoch, at[1])
		assert.InDelta(t, 10*time.Second, at[2].Sub(at[1]), float64(time.Microsecond), "one interval between the two fetches (the limiter rounds)")
	})
}

// blockingTransport never answers: it waits for the request's context.
type blockingTransport struct{}

func (blockingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	<-r.Context().Done()
	return nil, r.Context().Err()
}

// TestJWKSValidatorDefaultClientTimeout: with no HTTPClient, a JWKS that
// never answers holds NewJWKSValidator's first fetch for 10 s (the
// default client's timeout, not jwkset's minute), after which the failure
// is logged once, without failing start-up, and cookies get
// jwks_unavailable.
func TestJWKSValidatorDefaultClientTimeout(t *testing.T) {
	testRSA(t)
	synctest.Test(t, func(t *testing.T) {
		saved := http.DefaultTransport
		http.DefaultTransport = blockingTransport{} // read by the default client; no test runs in parallel
		defer func() { http.DefaultTransport = saved }()
		var logs bytes.Buffer
		start := time.Now()
		v, err := NewJWKSValidator(JWKSValidatorConfig{
			URL: "https://idp.example/jwks.json", Now: clock(testNow),
			Logger: slog.New(slog.NewTextHandler(&logs, nil)),
		})
		require.NoError(t, err)
		defer v.Close()
		assert.Equal(t, 10*time.Second, time.Since(start))
		assert.Equal(t, 1, strings.Count(logs.String(), "JWKS fetch failed"), "%s", logs.String())
		assert.Contains(t, logs.String(), "https://idp.example/jwks.json")
		_, err = v.Validate(context.Background(), rsCookie(t, "k1", claimsWith()))
		assert.ErrorIs(t, err, ssotoken.ErrUpstream)
		assert.Equal(t, "jwks_unavailable", ssotoken.CodeOf(err))
	})
}
