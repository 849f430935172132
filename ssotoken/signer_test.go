package ssotoken

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
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

func TestSignerMatchesSeed(t *testing.T) {
	ring := testRing(t, testSecret)
	s, err := NewSigner(SignerConfig{Keys: ring, Now: fixedClock(seedTime)})
	require.NoError(t, err)

	resp, err := s.Issue(context.Background(), Request{CIINo: "10001004", LOBId: "01", Functionality: "D"})
	require.NoError(t, err)

	assert.Equal(t, ReturnCodeSuccess, resp.ReturnCode)
	assert.Equal(t, "Token Generated successfully", resp.ReturnMessage)
	assert.True(t, ValidRefNo(resp.TokenRefNo), "TokenRefNo %q", resp.TokenRefNo)
	assert.True(t, strings.HasPrefix(resp.TokenRefNo, "1737362986"), "TokenRefNo starts with the Unix second")

	assert.Equal(t, seedHeader, string(segment(t, resp.TokenNo, 0)), "header is exactly the seed's")
	assert.True(t, strings.HasPrefix(resp.TokenNo, "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."))

	// The payload is the seed's sample plus jti = TokenRefNo.
	want := strings.TrimSuffix(seedPayload, "}") + `,"jti":"` + resp.TokenRefNo + `"}`
	assert.Equal(t, want, string(segment(t, resp.TokenNo, 1)))

	// golang-jwt, pinned to HS256, accepts the token.
	parsed, err := jwt.Parse(resp.TokenNo, func(*jwt.Token) (any, error) { return testSecret, nil },
		jwt.WithValidMethods([]string{"HS256"}), jwt.WithTimeFunc(fixedClock(seedTime)), jwt.WithExpirationRequired())
	require.NoError(t, err)
	mc := parsed.Claims.(jwt.MapClaims)
	assert.Equal(t, "10001004", mc["CIINo"])
	assert.Equal(t, resp.TokenRefNo, mc["jti"])
}

func TestSignerOptions(t *testing.T) {
	ring := testRing(t, testSecret)
	s, err := NewSigner(SignerConfig{Keys: ring, TTL: 5 * time.Minute, Issuer: "https://sso.example", Audience: "lob-01", Now: fixedClock(seedTime)})
	require.NoError(t, err)
	resp, err := s.Issue(context.Background(), Request{CIINo: `quote" back\ tab`, LOBId: "01", Functionality: "Ünïcödé"})
	require.NoError(t, err)

	var c Claims
	require.NoError(t, json.Unmarshal(segment(t, resp.TokenNo, 1), &c))
	assert.Equal(t, seedTime.Unix()+300, c.ExpiresAt)
	assert.Equal(t, "https://sso.example", c.Issuer)
	assert.Equal(t, "lob-01", c.Audience)
	assert.Equal(t, `quote" back\ tab`, c.CIINo)
	assert.Equal(t, "Ünïcödé", c.Functionality)
	assert.Equal(t, resp.TokenRefNo, c.ID)
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
	s, err := NewSigner(SignerConfig{Keys: testRing(t, testSecret), Now: fixedClock(seedTime)})
	require.NoError(t, err)
	inject := `01","exp":9999999999,"aud":"x`
	resp, err := s.Issue(context.Background(), Request{CIINo: "1", LOBId: inject, Functionality: "D"})
	require.NoError(t, err)

	var c map[string]any
	require.NoError(t, json.Unmarshal(segment(t, resp.TokenNo, 1), &c))
	assert.Equal(t, inject, c["LOBId"], "the body's value stays one string")
	assert.Equal(t, float64(seedTime.Unix()+3600), c["exp"])
	assert.NotContains(t, c, "aud")
	assert.Len(t, c, 7, "only the documented claims and jti")
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
	s, err := NewSigner(SignerConfig{Keys: ring})
	require.NoError(t, err)
	v, err := NewVerifier(VerifierConfig{Keys: ring, LOBId: "01"})
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
				mu.Lock()
				assert.False(t, seen[resp.TokenRefNo], "duplicate TokenRefNo")
				seen[resp.TokenRefNo] = true
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	assert.Len(t, seen, workers*each)
}
