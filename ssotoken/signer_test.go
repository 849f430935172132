package ssotoken

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"io"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The API document's sample TokenNo, with its (truncated) signature, and
// the payload it carries.
const (
	seedTokenNo = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJDSUlObyI6IjEwMDAxMDA0IiwiTE9CSWQiOiIwMSIsIkZ1bmN0aW9uYWxpdHkiOiJEIiwiRGF0ZSI6IjIwMjUtMDEtMjBUMDg6NDk6NDYuNzU2WiIsImlhdCI6MTczNzM2Mjk4NiwiZXhwIjoxNzM3MzY2NTg2fQ.19jRSvaXzRBo0CUFx-Fv20Sl_k"
	seedPayload = `{"CIINo":"10001004","LOBId":"01","Functionality":"D","Date":"2025-01-20T08:49:46.756Z","iat":1737362986,"exp":1737366586}`
	seedHeader  = `{"alg":"HS256","typ":"JWT"}`
)

// seedTime is the issue time of the API document's sample.
var seedTime = time.Date(2025, 1, 20, 8, 49, 46, 756e6, time.UTC)

var testSecret = []byte("an example secret of 32+ bytes, for tests only")

func fixedClock(t time.Time) func() time.Time { return func() time.Time { return t } }

// testRing returns a ring of one HS256 key without id.
func testRing(t testing.TB, secret []byte) *Keyring {
	t.Helper()
	key, err := NewHMACKey("", secret)
	require.NoError(t, err)
	ring, err := NewKeyring(key)
	require.NoError(t, err)
	return ring
}

func segment(t testing.TB, token string, i int) []byte {
	t.Helper()
	parts := strings.Split(token, ".")
	require.Len(t, parts, 3)
	raw, err := base64.RawURLEncoding.DecodeString(parts[i])
	require.NoError(t, err)
	return raw
}

func TestSeedPayloadRoundTrip(t *testing.T) {
	payload := segment(t, seedTokenNo, 1)
	require.Equal(t, seedPayload, string(payload), "the seed's TokenNo carries the seed's payload")

	var c Claims
	require.NoError(t, json.Unmarshal(payload, &c))
	assert.Equal(t, Claims{
		CIINo: "10001004", LOBId: "01", Functionality: "D",
		Date: "2025-01-20T08:49:46.756Z", IssuedAt: 1737362986, ExpiresAt: 1737366586,
	}, c)

	// Both encoders give back the sample byte for byte.
	assert.Equal(t, seedPayload, string(c.appendJSON(nil, time.Time{}, nil)))
	std, err := json.Marshal(c)
	require.NoError(t, err)
	assert.Equal(t, seedPayload, string(std))
}

// jsonMember is one member of a JSON object, in the order of the text.
type jsonMember struct {
	Name string
	Raw  json.RawMessage
}

// jsonMembers returns the members of the JSON object b, in order.
func jsonMembers(t testing.TB, b []byte) []jsonMember {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	tok, err := dec.Token()
	require.NoError(t, err)
	require.Equal(t, json.Delim('{'), tok, "%s is not an object", b)
	var out []jsonMember
	for dec.More() {
		tok, err := dec.Token()
		require.NoError(t, err)
		var raw json.RawMessage
		require.NoError(t, dec.Decode(&raw))
		out = append(out, jsonMember{Name: tok.(string), Raw: raw})
	}
	tok, err = dec.Token()
	require.NoError(t, err)
	require.Equal(t, json.Delim('}'), tok)
	_, err = dec.Token()
	require.ErrorIs(t, err, io.EOF, "nothing after the object")
	return out
}

func jsonNames(ms []jsonMember) []string {
	names := make([]string, len(ms))
	for i, m := range ms {
		names[i] = m.Name
	}
	return names
}

var (
	integerRE = regexp.MustCompile(`^(0|[1-9][0-9]*)$`)
	dateRE    = regexp.MustCompile(`^"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z"$`)
)

// jsonShape names a JSON value's type and, for the formats of the API
// document's sample, its format: "integer" (a NumericDate: digits only, no
// fraction, no exponent), "date" (DateLayout: milliseconds, Z), "string",
// or "other".
func jsonShape(raw json.RawMessage) string {
	switch {
	case integerRE.Match(raw):
		return "integer"
	case dateRE.Match(raw):
		return "date"
	case len(raw) > 0 && raw[0] == '"':
		return "string"
	}
	return "other"
}

// TestSeedSampleShape pins what the other tests compare with: the API
// document's sample TokenNo, decoded.
func TestSeedSampleShape(t *testing.T) {
	assert.Equal(t, seedHeader, string(segment(t, seedTokenNo, 0)))
	ms := jsonMembers(t, segment(t, seedTokenNo, 1))
	assert.Equal(t, []string{"CIINo", "LOBId", "Functionality", "Date", "iat", "exp"}, jsonNames(ms))
	shapes := make([]string, len(ms))
	for i, m := range ms {
		shapes[i] = jsonShape(m.Raw)
	}
	assert.Equal(t, []string{"string", "string", "string", "date", "integer", "integer"}, shapes)
	assert.Equal(t, `"2025-01-20T08:49:46.756Z"`, string(ms[3].Raw))
	assert.Equal(t, "3600", func() string {
		iat, _ := strconv.ParseInt(string(ms[4].Raw), 10, 64)
		exp, _ := strconv.ParseInt(string(ms[5].Raw), 10, 64)
		return strconv.FormatInt(exp-iat, 10)
	}())
}

// TestSignerClaimsToTheLetter decodes default TokenNo values and holds them
// against the API document's sample: the same header, the same claim names
// in the same order, each value of the sample's JSON type and format, and
// a TokenRefNo of the sample's shape whose second is "iat".
func TestSignerClaimsToTheLetter(t *testing.T) {
	seedMembers := jsonMembers(t, segment(t, seedTokenNo, 1))
	ist := time.FixedZone("IST", 5*3600+1800)
	tests := []struct {
		name string
		cfg  SignerConfig
		req  Request
		at   time.Time
		ttl  int64
		// wantPayload, when set, is the whole payload.
		wantPayload string
		wantRef     string
	}{
		{
			name: "the sample's request at the sample's time: the sample, byte for byte",
			req:  Request{CIINo: "10001004", LOBId: "01", Functionality: "D"},
			at:   seedTime, ttl: 3600,
			wantPayload: seedPayload,
			wantRef:     "173736298600000",
		},
		{
			name: "another request, time and zone",
			req:  Request{CIINo: "10001XXX", LOBId: "XX", Functionality: "Dépôt \"quoted\""},
			at:   time.Date(2026, 3, 4, 10, 36, 7, 89_999_999, ist), ttl: 3600,
		},
		{
			name: "a whole second",
			req:  Request{CIINo: "1", LOBId: "02", Functionality: "D"},
			at:   time.Unix(1737362986, 0), ttl: 3600,
		},
		{
			name: "another TTL",
			cfg:  SignerConfig{TTL: 5*time.Minute + 999*time.Millisecond},
			req:  Request{CIINo: "10001004", LOBId: "01", Functionality: "D"},
			at:   seedTime, ttl: 300,
		},
		{
			name: "instance 7 of 10",
			cfg:  SignerConfig{Instance: 7, Instances: 10},
			req:  Request{CIINo: "10001004", LOBId: "01", Functionality: "D"},
			at:   seedTime, ttl: 3600,
			wantPayload: seedPayload,
			wantRef:     "173736298600007",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := tt.cfg
			cfg.Keys = testRing(t, testSecret)
			s, _ := newTestSigner(t, cfg, tt.at)
			resp, err := s.Issue(context.Background(), tt.req)
			require.NoError(t, err)

			assert.Equal(t, ReturnCodeSuccess, resp.ReturnCode)
			assert.Equal(t, MessageGenerated, resp.ReturnMessage)
			assert.Equal(t, seedHeader, string(segment(t, resp.TokenNo, 0)), "the header is exactly the sample's")
			assert.True(t, strings.HasPrefix(resp.TokenNo, strings.Split(seedTokenNo, ".")[0]+"."))

			payload := segment(t, resp.TokenNo, 1)
			if tt.wantPayload != "" {
				assert.Equal(t, tt.wantPayload, string(payload))
			}
			ms := jsonMembers(t, payload)
			require.Equal(t, jsonNames(seedMembers), jsonNames(ms), "the sample's claims, in its order, and no other")
			for i, m := range ms {
				assert.Equal(t, jsonShape(seedMembers[i].Raw), jsonShape(m.Raw), "%s: %s", m.Name, m.Raw)
			}

			var c Claims
			require.NoError(t, json.Unmarshal(payload, &c))
			assert.Equal(t, tt.req.CIINo, c.CIINo)
			assert.Equal(t, tt.req.LOBId, c.LOBId)
			assert.Equal(t, tt.req.Functionality, c.Functionality)
			assert.Equal(t, tt.at.UTC().Format(DateLayout), c.Date)
			assert.Equal(t, tt.at.Unix(), c.IssuedAt)
			assert.Equal(t, tt.ttl, c.ExpiresAt-c.IssuedAt, "exp - iat is the TTL")
			assert.Empty(t, c.ID, "no jti by default")

			assert.Len(t, resp.TokenRefNo, RefNoLen)
			assert.True(t, refnoASCIIDigits(resp.TokenRefNo))
			assert.Equal(t, strconv.FormatInt(c.IssuedAt, 10), resp.TokenRefNo[:10], "the TokenRefNo's second is iat")
			if tt.wantRef != "" {
				assert.Equal(t, tt.wantRef, resp.TokenRefNo)
			}

			// golang-jwt, pinned to HS256, accepts the token.
			parsed, err := jwt.Parse(resp.TokenNo, func(*jwt.Token) (any, error) { return testSecret, nil },
				jwt.WithValidMethods([]string{"HS256"}), jwt.WithTimeFunc(fixedClock(tt.at)), jwt.WithExpirationRequired())
			require.NoError(t, err)
			assert.Equal(t, tt.req.CIINo, parsed.Claims.(jwt.MapClaims)["CIINo"])
		})
	}
}

// TestSignerHeader: with an HS256 key without id the header is the
// sample's; a key with an id adds "kid" after "typ".
func TestSignerHeader(t *testing.T) {
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tests := []struct {
		name string
		key  func() (*Key, error)
		want string
	}{
		{name: "HS256 without kid", key: func() (*Key, error) { return NewHMACKey("", testSecret) }, want: seedHeader},
		{name: "HS256 with kid", key: func() (*Key, error) { return NewHMACKey("2026-11", testSecret) }, want: `{"alg":"HS256","typ":"JWT","kid":"2026-11"}`},
		{name: "ES256", key: func() (*Key, error) { return NewSigningKey("es-1", ES256, ec) }, want: `{"alg":"ES256","typ":"JWT","kid":"es-1"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key, err := tt.key()
			require.NoError(t, err)
			ring, err := NewKeyring(key)
			require.NoError(t, err)
			s, _ := newTestSigner(t, SignerConfig{Keys: ring}, seedTime)
			resp, err := s.Issue(context.Background(), Request{CIINo: "10001004", LOBId: "01", Functionality: "D"})
			require.NoError(t, err)
			assert.Equal(t, tt.want, string(segment(t, resp.TokenNo, 0)))
			assert.Equal(t, []string{"CIINo", "LOBId", "Functionality", "Date", "iat", "exp"}, jsonNames(jsonMembers(t, segment(t, resp.TokenNo, 1))))
		})
	}
}

// TestSignerOptionalClaims: iss, aud and jti come only when configured, in
// that order, after the sample's claims; jti is the TokenRefNo.
func TestSignerOptionalClaims(t *testing.T) {
	sample := []string{"CIINo", "LOBId", "Functionality", "Date", "iat", "exp"}
	tests := []struct {
		name  string
		cfg   SignerConfig
		extra []string
	}{
		{name: "none", cfg: SignerConfig{}},
		{name: "issuer", cfg: SignerConfig{Issuer: "https://sso.example"}, extra: []string{"iss"}},
		{name: "audience", cfg: SignerConfig{Audience: "lob-01"}, extra: []string{"aud"}},
		{name: "jti", cfg: SignerConfig{IncludeJTI: true}, extra: []string{"jti"}},
		{name: "issuer and jti", cfg: SignerConfig{Issuer: "https://sso.example", IncludeJTI: true}, extra: []string{"iss", "jti"}},
		{name: "all three", cfg: SignerConfig{Issuer: "https://sso.example", Audience: "lob-01", IncludeJTI: true}, extra: []string{"iss", "aud", "jti"}},
		{name: "wide jti", cfg: SignerConfig{IncludeJTI: true, WideRefNo: true}, extra: []string{"jti"}},
		{name: "wide without jti", cfg: SignerConfig{WideRefNo: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := tt.cfg
			cfg.Keys = testRing(t, testSecret)
			s, _ := newTestSigner(t, cfg, seedTime)
			req := Request{CIINo: `quote" back\ tab`, LOBId: "01", Functionality: "Ünïcödé"}
			resp, err := s.Issue(context.Background(), req)
			require.NoError(t, err)

			payload := segment(t, resp.TokenNo, 1)
			assert.Equal(t, append(append([]string(nil), sample...), tt.extra...), jsonNames(jsonMembers(t, payload)))
			var c Claims
			require.NoError(t, json.Unmarshal(payload, &c))
			assert.Equal(t, tt.cfg.Issuer, c.Issuer)
			assert.Equal(t, tt.cfg.Audience, c.Audience)
			assert.Equal(t, req.CIINo, c.CIINo)
			assert.Equal(t, req.Functionality, c.Functionality)
			if tt.cfg.IncludeJTI {
				assert.Equal(t, resp.TokenRefNo, c.ID, "jti is the TokenRefNo")
				assert.True(t, strings.HasSuffix(string(payload), `,"jti":"`+resp.TokenRefNo+`"}`), "jti last")
			} else {
				assert.Empty(t, c.ID)
			}
			wantLen := RefNoLen
			if tt.cfg.WideRefNo {
				wantLen = WideRefNoLen
			}
			assert.Len(t, resp.TokenRefNo, wantLen)
			assert.Equal(t, strconv.FormatInt(c.IssuedAt, 10), resp.TokenRefNo[:10])

			// The Signer's encoding is encoding/json's for these claims.
			std, err := json.Marshal(c)
			require.NoError(t, err)
			assert.Equal(t, string(payload), string(std))
		})
	}
}

// TestIssueWaits: the first Issue in a Signer's start-up second, and an
// Issue after the instance's numbers of a second are used up, wait for
// the next second; the token is issued then, "iat" and TokenRefNo alike.
// A context that ends first fails the Issue with ErrTimeout.
func TestIssueWaits(t *testing.T) {
	req := Request{CIINo: "10001004", LOBId: "01", Functionality: "D"}
	ring := testRing(t, testSecret)

	t.Run("start-up second", func(t *testing.T) {
		clock := newTestClock(seedTime)
		s, err := NewSigner(SignerConfig{Keys: ring, Now: clock.Now})
		require.NoError(t, err)
		s.refNos.seq = s.refNos.limit // the real clock's start-up second
		s.refNos.sleep = clock.Sleep
		resp, err := s.Issue(context.Background(), req)
		require.NoError(t, err)
		assert.Equal(t, "173736298700000", resp.TokenRefNo)
		assert.Equal(t, `{"CIINo":"10001004","LOBId":"01","Functionality":"D","Date":"2025-01-20T08:49:47.000Z","iat":1737362987,"exp":1737366587}`, string(segment(t, resp.TokenNo, 1)))
		assert.Equal(t, 244*time.Millisecond, time.Duration(clock.slept.Load()))
	})
	t.Run("start-up second, context done", func(t *testing.T) {
		clock := newTestClock(seedTime)
		s, err := NewSigner(SignerConfig{Keys: ring, Now: clock.Now})
		require.NoError(t, err)
		s.refNos.seq = s.refNos.limit // the real clock's start-up second
		s.refNos.sleep = func(context.Context, time.Duration) error { return context.DeadlineExceeded }
		_, err = s.Issue(context.Background(), req)
		assert.ErrorIs(t, err, ErrTimeout)
		assert.Equal(t, CodeDeadlineExceeded, CodeOf(err))
	})
	t.Run("second used up", func(t *testing.T) {
		s, clock := newTestSigner(t, SignerConfig{Keys: ring, Instance: 3, Instances: MaxInstances}, seedTime)
		first, err := s.Issue(context.Background(), req)
		require.NoError(t, err)
		assert.Equal(t, "173736298600003", first.TokenRefNo)

		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err = s.Issue(ctx, req)
		assert.ErrorIs(t, err, ErrTimeout)
		assert.Equal(t, CodeCanceled, CodeOf(err))

		second, err := s.Issue(context.Background(), req)
		require.NoError(t, err)
		assert.Equal(t, "173736298700003", second.TokenRefNo)
		assert.Contains(t, string(segment(t, second.TokenNo, 1)), `"Date":"2025-01-20T08:49:47.000Z","iat":1737362987,"exp":1737366587}`)
		assert.Equal(t, int64(1), clock.sleeps.Load())
	})
}

// TestSignerSharedRefNos: two Signers of a process that share one
// generator never issue the same TokenRefNo.
func TestSignerSharedRefNos(t *testing.T) {
	g, _ := newTestGenerator(t, RefNoConfig{Instance: 1, Instances: 2}, seedTime)
	ring := testRing(t, testSecret)
	a, err := NewSigner(SignerConfig{Keys: ring, RefNos: g})
	require.NoError(t, err)
	b, err := NewSigner(SignerConfig{Keys: ring, RefNos: g, TTL: time.Minute, IncludeJTI: true})
	require.NoError(t, err)
	seen := map[string]bool{}
	for range 50 {
		for _, s := range []*Signer{a, b} {
			resp, err := s.Issue(context.Background(), Request{CIINo: "1", LOBId: "01", Functionality: "D"})
			require.NoError(t, err)
			assert.False(t, seen[resp.TokenRefNo], resp.TokenRefNo)
			seen[resp.TokenRefNo] = true
		}
	}
	assert.Len(t, seen, 100)
}

func TestNewSignerErrors(t *testing.T) {
	ring := testRing(t, testSecret)
	pubOnly, err := NewVerifyingKey("v1", EdDSA, ed25519.PublicKey(make([]byte, ed25519.PublicKeySize)))
	require.NoError(t, err)
	verifyOnly, err := NewKeyring(pubOnly)
	require.NoError(t, err)

	tests := []struct {
		name string
		cfg  SignerConfig
		want string
	}{
		{"no keys", SignerConfig{}, "Keys is required"},
		{"verify-only active key", SignerConfig{Keys: verifyOnly}, "cannot sign"},
		{"verify-only LOB ring", SignerConfig{Keys: ring, LOBKeys: map[string]*Keyring{"02": verifyOnly}}, "LOBKeys[02]"},
		{"nil LOB ring", SignerConfig{Keys: ring, LOBKeys: map[string]*Keyring{"02": nil}}, "LOBKeys[02]"},
		{"TTL under a second", SignerConfig{Keys: ring, TTL: time.Millisecond}, "TTL"},
		{"issuer with control characters", SignerConfig{Keys: ring, Issuer: "a\nb"}, "Issuer"},
		{"negative instance", SignerConfig{Keys: ring, Instance: -1}, "SignerConfig.Instance must"},
		{"instance outside the fleet", SignerConfig{Keys: ring, Instance: 2, Instances: 2}, "SignerConfig.Instance must"},
		{"instance of a fleet of one", SignerConfig{Keys: ring, Instance: 1}, "SignerConfig.Instance must"},
		{"negative fleet", SignerConfig{Keys: ring, Instances: -1}, "SignerConfig.Instances must"},
		{"fleet too large", SignerConfig{Keys: ring, Instances: MaxInstances + 1}, "SignerConfig.Instances must"},
		{"clock before 1970", SignerConfig{Keys: ring, Now: fixedClock(time.Time{})}, "SignerConfig.Now reads"},
		{"RefNos and Instance", SignerConfig{Keys: ring, RefNos: &RefNoGenerator{}, Instance: 1, Instances: 2}, "RefNos"},
		{"RefNos and Instances", SignerConfig{Keys: ring, RefNos: &RefNoGenerator{}, Instances: 2}, "RefNos"},
		{"RefNos and WideRefNo", SignerConfig{Keys: ring, RefNos: &RefNoGenerator{}, WideRefNo: true}, "RefNos"},
		{"RefNos and Now", SignerConfig{Keys: ring, RefNos: &RefNoGenerator{}, Now: time.Now}, "RefNos"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewSigner(tt.cfg)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

func TestIssueRejectsBadRequests(t *testing.T) {
	s, err := NewSigner(SignerConfig{Keys: testRing(t, testSecret)})
	require.NoError(t, err)
	// Claim injection through the body: only the documented claims are
	// issued, and bad values are bad requests.
	tests := []struct {
		name string
		req  Request
		code string
	}{
		{"missing CIINo", Request{LOBId: "01", Functionality: "D"}, "missing_ciino"},
		{"blank LOBId", Request{CIINo: "1", LOBId: " \t", Functionality: "D"}, "missing_lob_id"},
		{"missing Functionality", Request{CIINo: "1", LOBId: "01"}, "missing_functionality"},
		{"NUL in CIINo", Request{CIINo: "1\x00", LOBId: "01", Functionality: "D"}, "invalid_ciino"},
		{"huge Functionality", Request{CIINo: "1", LOBId: "01", Functionality: strings.Repeat("D", 1<<20)}, "invalid_functionality"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.Issue(context.Background(), tt.req)
			require.Error(t, err)
			assert.ErrorIs(t, err, ErrBadRequest)
			assert.Equal(t, tt.code, CodeOf(err))
		})
	}
}

func TestIssueEscapesClaimInjection(t *testing.T) {
	s, _ := newTestSigner(t, SignerConfig{Keys: testRing(t, testSecret)}, seedTime)
	inject := `01","exp":9999999999,"aud":"x`
	resp, err := s.Issue(context.Background(), Request{CIINo: "1", LOBId: inject, Functionality: "D"})
	require.NoError(t, err)

	var c map[string]any
	require.NoError(t, json.Unmarshal(segment(t, resp.TokenNo, 1), &c))
	assert.Equal(t, inject, c["LOBId"], "the body's value stays one string")
	assert.Equal(t, float64(seedTime.Unix()+3600), c["exp"])
	assert.NotContains(t, c, "aud")
	assert.Len(t, c, 6, "only the documented claims")
}

func TestIssueDeadline(t *testing.T) {
	s, err := NewSigner(SignerConfig{Keys: testRing(t, testSecret)})
	require.NoError(t, err)
	ctx, cancel := context.WithDeadline(context.Background(), time.Unix(1, 0))
	defer cancel()
	_, err = s.Issue(ctx, Request{CIINo: "1", LOBId: "01", Functionality: "D"})
	assert.ErrorIs(t, err, ErrTimeout)
	assert.Equal(t, CodeDeadlineExceeded, CodeOf(err))
}

func TestIssueConcurrent(t *testing.T) {
	ring := testRing(t, testSecret)
	// 1,000 a second, fewer than the test issues: the goroutines wait for
	// the next second together, on the fake clock.
	s, clock := newTestSigner(t, SignerConfig{Keys: ring, Instance: 5, Instances: 100}, seedTime)
	v, err := NewVerifier(VerifierConfig{Keys: ring, LOBId: "01", Now: clock.Now, Leeway: MaxLeeway})
	require.NoError(t, err)

	const workers, each = 8, 200
	var mu sync.Mutex
	seen := make(map[string]bool, workers*each)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				req := Request{CIINo: strings.Repeat("9", 1+(w+i)%40), LOBId: "01", Functionality: "D"}
				resp, err := s.Issue(context.Background(), req)
				if !assert.NoError(t, err) {
					return
				}
				c, err := v.Verify(context.Background(), resp.TokenNo)
				if !assert.NoError(t, err) {
					return
				}
				assert.Equal(t, req.CIINo, c.CIINo, "a pooled buffer leaked between calls")
				assert.Equal(t, strconv.FormatInt(c.IssuedAt, 10), resp.TokenRefNo[:10])
				mu.Lock()
				assert.False(t, seen[resp.TokenRefNo], "duplicate TokenRefNo")
				seen[resp.TokenRefNo] = true
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	assert.Len(t, seen, workers*each)
	assert.Positive(t, clock.sleeps.Load(), "the run outgrew a second")
}

// TestIssueFixedClock: a host's unit test with a fixed clock issues at
// once; only the real clock skips its start-up second.
func TestIssueFixedClock(t *testing.T) {
	s, err := NewSigner(SignerConfig{Keys: testRing(t, testSecret), Now: func() time.Time { return seedTime }})
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	req := Request{CIINo: "10001004", LOBId: "01", Functionality: "D"}
	for _, want := range []string{"173736298600000", "173736298600001"} {
		resp, err := s.Issue(ctx, req)
		require.NoError(t, err)
		assert.Equal(t, want, resp.TokenRefNo)
	}
}
