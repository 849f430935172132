package httpadapter

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ssokit/ssokit/ssotoken"
)

// limitClock is a settable clock for the limiter tests.
type limitClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *limitClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *limitClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

var limitT0 = time.Date(2025, 1, 20, 8, 49, 46, 0, time.UTC)

func TestMemoryLimiter(t *testing.T) {
	t.Parallel()
	clock := &limitClock{now: limitT0}
	m, err := NewMemoryLimiter(MemoryLimiterConfig{Limit: RateLimit{Rate: 60, Period: time.Minute, Burst: 3}, Now: clock.Now})
	require.NoError(t, err)
	ctx := context.Background()

	steps := []struct {
		name           string
		advance        time.Duration
		key            string
		wantAllowed    bool
		wantRetryAfter time.Duration
	}{
		{name: "burst 1", key: "a", wantAllowed: true},
		{name: "burst 2", key: "a", wantAllowed: true},
		{name: "burst 3", key: "a", wantAllowed: true},
		{name: "over the burst: one more in a second", key: "a", wantRetryAfter: time.Second},
		{name: "a refused call takes nothing", advance: 400 * time.Millisecond, key: "a", wantRetryAfter: 600 * time.Millisecond},
		{name: "another key has its own burst", key: "b", wantAllowed: true},
		{name: "refilled at the rate", advance: 600 * time.Millisecond, key: "a", wantAllowed: true},
		{name: "and empty again", key: "a", wantRetryAfter: time.Second},
		{name: "never more than the burst after a long pause, 1", advance: time.Hour, key: "a", wantAllowed: true},
		{name: "2", key: "a", wantAllowed: true},
		{name: "3", key: "a", wantAllowed: true},
		{name: "4 is refused", key: "a", wantRetryAfter: time.Second},
	}
	for _, st := range steps {
		clock.Advance(st.advance)
		ok, retry, err := m.Allow(ctx, st.key)
		require.NoError(t, err, st.name)
		assert.Equal(t, st.wantAllowed, ok, st.name)
		assert.Equal(t, st.wantRetryAfter, retry, st.name)
	}
}

func TestMemoryLimiterMaxKeys(t *testing.T) {
	t.Parallel()
	clock := &limitClock{now: limitT0}
	m, err := NewMemoryLimiter(MemoryLimiterConfig{Limit: RateLimit{Rate: 1, Period: time.Second, Burst: 2}, MaxKeys: 2, Now: clock.Now})
	require.NoError(t, err)
	ctx := context.Background()
	allow := func(key string) bool {
		ok, _, err := m.Allow(ctx, key)
		require.NoError(t, err)
		return ok
	}

	require.True(t, allow("a"))
	require.True(t, allow("b"))
	ok, retry, err := m.Allow(ctx, "c")
	require.NoError(t, err)
	assert.False(t, ok, "a full table refuses a new caller rather than forget a count")
	assert.Equal(t, time.Second, retry)
	assert.True(t, allow("a"), "callers already tracked go on")
	assert.Equal(t, 2, m.Len())

	// After a second, b's allowance is whole again and it takes no room;
	// a, having taken two, is still tracked.
	clock.Advance(time.Second)
	assert.True(t, allow("c"))
	assert.Equal(t, 2, m.Len())
	assert.True(t, allow("a"), "a has one call back")
	assert.False(t, allow("a"), "and only one: its count survived the sweep")
	// The sweep runs at most once an interval: a new caller meanwhile is
	// refused without a scan.
	assert.False(t, allow("d"))
	clock.Advance(2 * time.Second)
	assert.True(t, allow("d"))
}

func TestNewMemoryLimiterValidates(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		cfg  MemoryLimiterConfig
	}{
		{"zero limit", MemoryLimiterConfig{}},
		{"no rate", MemoryLimiterConfig{Limit: RateLimit{Period: time.Minute, Burst: 1}}},
		{"no period", MemoryLimiterConfig{Limit: RateLimit{Rate: 1, Burst: 1}}},
		{"no burst", MemoryLimiterConfig{Limit: RateLimit{Rate: 1, Period: time.Minute}}},
		{"negative rate", MemoryLimiterConfig{Limit: RateLimit{Rate: -1, Period: time.Minute, Burst: 1}}},
		{"negative MaxKeys", MemoryLimiterConfig{Limit: DefaultIssueLimit, MaxKeys: -1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := NewMemoryLimiter(tt.cfg)
			assert.Error(t, err)
			assert.Nil(t, m)
		})
	}
	m, err := NewMemoryLimiter(MemoryLimiterConfig{Limit: DefaultIssueLimit})
	require.NoError(t, err)
	assert.Equal(t, DefaultLimiterKeys, m.maxKeys)
	assert.Equal(t, "60/1m0s, burst 20", DefaultIssueLimit.String())
	assert.Equal(t, time.Second, DefaultIssueLimit.Interval())
}

// limiterFunc adapts a function to Limiter.
type limiterFunc func(ctx context.Context, key string) (bool, time.Duration, error)

func (f limiterFunc) Allow(ctx context.Context, key string) (bool, time.Duration, error) {
	return f(ctx, key)
}

func TestHandlerIssueLimit(t *testing.T) {
	t.Parallel()
	clock := &limitClock{now: limitT0}
	lim, err := NewMemoryLimiter(MemoryLimiterConfig{Limit: RateLimit{Rate: 60, Period: time.Minute, Burst: 2}, Now: clock.Now})
	require.NoError(t, err)
	h, _ := newTestHandler(t, func(c *Config) { c.Limiter = lim })

	serve := func(r *http.Request) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		return rec
	}
	for i := range 2 {
		rec := serve(newRequest(testBody))
		require.Equal(t, http.StatusOK, rec.Code, "call %d: %s", i, rec.Body.String())
	}
	rec := serve(newRequest(testBody))
	assert.Equal(t, http.StatusTooManyRequests, rec.Code)
	assert.Equal(t, "1", rec.Header().Get("Retry-After"))
	assert.Equal(t, "no-store", rec.Header().Get("Cache-Control"))
	env := decodeEnvelope(t, rec)
	assert.Equal(t, CodeRateLimited, env["ErrorCode"])
	assert.EqualValues(t, 0, env["ReturnCode"])
	assert.Equal(t, "too many tokens requested; try again later", env["ReturnMessage"])

	// Calls refused for another reason take nothing, and are answered
	// as before (the limit is the last check before issuing).
	bad := newRequest(`{"CIINo":"10001004","LOBId":"02","Functionality":"D"}`)
	assert.Equal(t, http.StatusForbidden, serve(bad).Code)
	wrongCIINo := newRequest(`{"CIINo":"99999999","LOBId":"01","Functionality":"D"}`)
	assert.Equal(t, http.StatusForbidden, serve(wrongCIINo).Code)

	clock.Advance(time.Second)
	assert.Equal(t, http.StatusOK, serve(newRequest(testBody)).Code, "refilled at one a second")
	assert.Equal(t, http.StatusTooManyRequests, serve(newRequest(testBody)).Code)
}

func TestHandlerIssueLimitKeys(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var keys []string
	h, _ := newTestHandler(t, func(c *Config) {
		c.Limiter = limiterFunc(func(_ context.Context, key string) (bool, time.Duration, error) {
			mu.Lock()
			defer mu.Unlock()
			keys = append(keys, key)
			return true, 0, nil
		})
	})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, newRequest(testBody))
	require.Equal(t, http.StatusOK, rec.Code)
	assert.Equal(t, []string{"\x00app\x00user-1"}, keys, "issuer, app client and subject")
	assert.Equal(t, "https://idp\x00c\x00s", LimitKey(&ssotoken.Principal{Issuer: "https://idp", ClientID: "c", Subject: "s"}))
}

func TestHandlerIssueLimitDefault(t *testing.T) {
	t.Parallel()
	h, _ := newTestHandler(t, nil)
	codes := map[int]int{}
	for range DefaultIssueLimit.Burst + 5 {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, newRequest(testBody))
		codes[rec.Code]++
	}
	// The test runs well within a second: at most one refill.
	assert.GreaterOrEqual(t, codes[http.StatusOK], DefaultIssueLimit.Burst)
	assert.LessOrEqual(t, codes[http.StatusOK], DefaultIssueLimit.Burst+1)
	assert.Equal(t, DefaultIssueLimit.Burst+5, codes[http.StatusOK]+codes[http.StatusTooManyRequests])

	off, _ := newTestHandler(t, func(c *Config) { c.InsecureNoIssueLimit = true })
	for i := range DefaultIssueLimit.Burst + 5 {
		rec := httptest.NewRecorder()
		off.ServeHTTP(rec, newRequest(testBody))
		require.Equal(t, http.StatusOK, rec.Code, "call %d", i)
	}

	_, err := NewHandler(Config{
		Authenticator: &fakeAuth{}, Issuer: newTestSigner(t, newTestRing(t)),
		Clients: StaticRegistry{}, InsecureUnboundCIINo: true,
		InsecureNoIssueLimit: true,
		Limiter:              limiterFunc(func(context.Context, string) (bool, time.Duration, error) { return true, 0, nil }),
	})
	assert.ErrorContains(t, err, "InsecureNoIssueLimit cannot be combined with Config.Limiter")
}

func TestHandlerIssueLimitFailsClosed(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		allow      limiterFunc
		wantStatus int
		wantCode   string
	}{
		{
			name: "limiter down",
			allow: func(context.Context, string) (bool, time.Duration, error) {
				return true, 0, errors.New("dial tcp: connection refused")
			},
			wantStatus: http.StatusBadGateway, wantCode: CodeLimiterUnavailable,
		},
		{
			name: "limiter past the deadline",
			allow: func(ctx context.Context, _ string) (bool, time.Duration, error) {
				<-ctx.Done()
				return true, 0, ctx.Err()
			},
			wantStatus: http.StatusGatewayTimeout, wantCode: ssotoken.CodeDeadlineExceeded,
		},
		{
			name: "a limiter's own timeout",
			allow: func(context.Context, string) (bool, time.Duration, error) {
				return true, 0, ssotoken.Wrap(context.DeadlineExceeded)
			},
			wantStatus: http.StatusGatewayTimeout, wantCode: ssotoken.CodeDeadlineExceeded,
		},
		{
			name:       "retry after rounded up to whole seconds",
			allow:      func(context.Context, string) (bool, time.Duration, error) { return false, 2500 * time.Millisecond, nil },
			wantStatus: http.StatusTooManyRequests, wantCode: CodeRateLimited,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h, _ := newTestHandler(t, func(c *Config) { c.Limiter = tt.allow; c.Timeout = 50 * time.Millisecond })
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, newRequest(testBody))
			assert.Equal(t, tt.wantStatus, rec.Code)
			env := decodeEnvelope(t, rec)
			assert.Equal(t, tt.wantCode, env["ErrorCode"])
			assert.NotContains(t, rec.Body.String(), "connection refused", "the cause is for logs")
			if tt.wantStatus == http.StatusTooManyRequests {
				assert.Equal(t, "3", rec.Header().Get("Retry-After"))
			} else {
				assert.Empty(t, rec.Header().Get("Retry-After"))
			}
		})
	}
}

func TestRetryAfterValue(t *testing.T) {
	t.Parallel()
	for d, want := range map[time.Duration]string{
		0: "1", time.Millisecond: "1", time.Second: "1", time.Second + 1: "2", 59 * time.Second: "59", time.Hour: "3600",
	} {
		assert.Equal(t, want, retryAfterValue(d), strconv.Quote(d.String()))
	}
}
