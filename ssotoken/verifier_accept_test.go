package ssotoken

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestVerifyAcceptPaths: the LOB verifier's accept paths, each beside the
// refusal one unit away, so that a check that refuses everything, or
// nothing, fails here: "nbf" inside the leeway verifies; with an audience
// configured the right "aud" verifies and is what Claims.Audience holds;
// a token whose "exp" equals its "iat" (a lifetime of zero) is refused
// however the clock reads.
func TestVerifyAcceptPaths(t *testing.T) {
	key, err := NewHMACKey("", testSecret)
	require.NoError(t, err)
	ring, err := NewKeyring(key)
	require.NoError(t, err)
	with := func(f func(*Claims)) string { c := validClaims(); f(&c); return mint(t, key, c) }
	iat := seedTime.Unix()
	const leeway = 30 * time.Second

	tests := []struct {
		name     string
		token    string
		now      time.Time
		leeway   time.Duration
		audience string
		issuer   string
		code     string // "" verifies
		wantAud  string
	}{
		{name: "nbf inside the leeway", token: with(func(c *Claims) { c.NotBefore = iat + 29 }), now: seedTime, leeway: leeway},
		{name: "nbf at the leeway's end", token: with(func(c *Claims) { c.NotBefore = iat + 30 }), now: seedTime, leeway: leeway},
		{name: "nbf beyond the leeway", token: with(func(c *Claims) { c.NotBefore = iat + 31 }), now: seedTime, leeway: leeway, code: CodeTokenNotYetValid},
		{name: "nbf now, no leeway", token: with(func(c *Claims) { c.NotBefore = iat }), now: seedTime},
		{name: "nbf a second ahead, no leeway", token: with(func(c *Claims) { c.NotBefore = iat + 1 }), now: seedTime, code: CodeTokenNotYetValid},
		{name: "nbf in the past", token: with(func(c *Claims) { c.NotBefore = iat - 60 }), now: seedTime},

		{name: "the right aud", token: with(func(c *Claims) { c.Audience = "lob-01" }), now: seedTime, audience: "lob-01", wantAud: "lob-01"},
		{name: "another aud", token: with(func(c *Claims) { c.Audience = "lob-02" }), now: seedTime, audience: "lob-01", code: CodeWrongAudience},
		{name: "aud a prefix of the configured one", token: with(func(c *Claims) { c.Audience = "lob-0" }), now: seedTime, audience: "lob-01", code: CodeWrongAudience},
		{name: "aud in another case", token: with(func(c *Claims) { c.Audience = "LOB-01" }), now: seedTime, audience: "lob-01", code: CodeWrongAudience},
		{name: "aud present, none configured", token: with(func(c *Claims) { c.Audience = "lob-02" }), now: seedTime, wantAud: "lob-02"},
		{name: "the right iss and aud", token: with(func(c *Claims) { c.Issuer, c.Audience = "https://sso.example", "lob-01" }), now: seedTime, issuer: "https://sso.example", audience: "lob-01", wantAud: "lob-01"},
		{name: "the right aud, another iss", token: with(func(c *Claims) { c.Issuer, c.Audience = "https://evil.example", "lob-01" }), now: seedTime, issuer: "https://sso.example", audience: "lob-01", code: CodeWrongIssuer},

		{name: "exp equal to iat, read at iat within the leeway", token: with(func(c *Claims) { c.ExpiresAt = c.IssuedAt }), now: seedTime, leeway: leeway, code: CodeLifetimeTooLong},
		{name: "exp equal to iat, read before iat within the leeway", token: with(func(c *Claims) { c.ExpiresAt = c.IssuedAt }), now: seedTime.Add(-10 * time.Second), leeway: leeway, code: CodeLifetimeTooLong},
		{name: "exp one second after iat", token: with(func(c *Claims) { c.ExpiresAt = c.IssuedAt + 1 }), now: seedTime},
		{name: "a lifetime of exactly the maximum", token: with(func(c *Claims) { c.ExpiresAt = c.IssuedAt + 3600 }), now: seedTime},
		{name: "a second over the maximum lifetime", token: with(func(c *Claims) { c.ExpiresAt = c.IssuedAt + 3601 }), now: seedTime, code: CodeLifetimeTooLong},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := NewVerifier(VerifierConfig{Keys: ring, LOBId: "01", Leeway: tt.leeway, Audience: tt.audience, Issuer: tt.issuer, Now: fixedClock(tt.now)})
			require.NoError(t, err)
			c, err := v.Verify(context.Background(), tt.token)
			if tt.code != "" {
				assert.Nil(t, c)
				assert.ErrorIs(t, err, ErrUnauthorized)
				assert.Equal(t, tt.code, CodeOf(err), "%v", err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, "10001004", c.CIINo)
			assert.Equal(t, tt.wantAud, c.Audience)
		})
	}
}

// TestVerifySignedAudience: a token of a Signer with an Audience verifies
// under a Verifier of that audience, and no other.
func TestVerifySignedAudience(t *testing.T) {
	ring := testRing(t, testSecret)
	s, clock := newTestSigner(t, SignerConfig{Keys: ring, Audience: "lob-01", Issuer: "https://sso.example"}, seedTime)
	resp, err := s.Issue(context.Background(), Request{CIINo: "10001004", LOBId: "01", Functionality: "D"})
	require.NoError(t, err)
	for aud, code := range map[string]string{"lob-01": "", "": "", "lob-02": CodeWrongAudience} {
		v, err := NewVerifier(VerifierConfig{Keys: ring, LOBId: "01", Audience: aud, Issuer: "https://sso.example", Now: clock.Now})
		require.NoError(t, err)
		c, err := v.Verify(context.Background(), resp.TokenNo)
		if code != "" {
			assert.Equal(t, code, CodeOf(err), "audience %q", aud)
			continue
		}
		require.NoError(t, err, "audience %q", aud)
		assert.Equal(t, "lob-01", c.Audience)
		assert.Equal(t, "https://sso.example", c.Issuer)
	}
}

// TestVerifierBoundaries: the limits that decide by one unit, each at the
// limit and one unit over. Every limit is inclusive, as its documentation
// says: a token of exactly MaxTokenBytes is read (one byte more is
// token_too_large before any parsing); a Leeway of exactly MaxLeeway is
// accepted, and applies in full (a token expired MaxLeeway - 1 s ago
// verifies, one expired MaxLeeway ago does not: "exp" itself is already
// past); 1 ns more is refused by NewVerifier.
func TestVerifierBoundaries(t *testing.T) {
	key, err := NewHMACKey("", testSecret)
	require.NoError(t, err)
	ring, err := NewKeyring(key)
	require.NoError(t, err)
	good := mint(t, key, validClaims())
	expT := time.Unix(validClaims().ExpiresAt, 0)

	t.Run("token length", func(t *testing.T) {
		for _, tt := range []struct {
			name     string
			maxBytes int
			code     string
		}{
			{name: "exactly the maximum", maxBytes: len(good)},
			{name: "one byte over the maximum", maxBytes: len(good) - 1, code: CodeTokenTooLarge},
			{name: "the default maximum", maxBytes: 0},
		} {
			t.Run(tt.name, func(t *testing.T) {
				v, err := NewVerifier(VerifierConfig{Keys: ring, LOBId: "01", MaxTokenBytes: tt.maxBytes, Now: fixedClock(seedTime)})
				require.NoError(t, err)
				_, err = v.Verify(context.Background(), good)
				if tt.code == "" {
					assert.NoError(t, err)
				} else {
					assert.Equal(t, tt.code, CodeOf(err), "%v", err)
				}
			})
		}
		v, err := NewVerifier(VerifierConfig{Keys: ring, LOBId: "01", Now: fixedClock(seedTime)})
		require.NoError(t, err)
		padded := good + string(make([]byte, DefaultMaxTokenBytes-len(good))) // exactly the default: read, then malformed
		_, err = v.Verify(context.Background(), padded)
		assert.Equal(t, CodeTokenMalformed, CodeOf(err), "a token of exactly DefaultMaxTokenBytes is parsed")
		_, err = v.Verify(context.Background(), padded+".")
		assert.Equal(t, CodeTokenTooLarge, CodeOf(err), "one byte over DefaultMaxTokenBytes is not")
	})

	t.Run("leeway", func(t *testing.T) {
		for _, tt := range []struct {
			name   string
			leeway time.Duration
			ok     bool
		}{
			{name: "zero", leeway: 0, ok: true},
			{name: "exactly the maximum", leeway: MaxLeeway, ok: true},
			{name: "a nanosecond over the maximum", leeway: MaxLeeway + 1},
			{name: "an hour", leeway: time.Hour},
			{name: "a nanosecond below zero", leeway: -1},
		} {
			t.Run(tt.name, func(t *testing.T) {
				v, err := NewVerifier(VerifierConfig{Keys: ring, LOBId: "01", Leeway: tt.leeway})
				if !tt.ok {
					assert.ErrorContains(t, err, "Leeway")
					assert.Nil(t, v)
					return
				}
				assert.NoError(t, err)
			})
		}
		for _, tt := range []struct {
			after time.Duration
			code  string
		}{
			{after: MaxLeeway - time.Second},
			{after: MaxLeeway, code: CodeTokenExpired},
		} {
			v, err := NewVerifier(VerifierConfig{Keys: ring, LOBId: "01", Leeway: MaxLeeway, Now: fixedClock(expT.Add(tt.after))})
			require.NoError(t, err)
			_, err = v.Verify(context.Background(), good)
			assert.Equal(t, tt.code, CodeOf(err), "%s after exp, under MaxLeeway: %v", tt.after, err)
		}
	})
}
