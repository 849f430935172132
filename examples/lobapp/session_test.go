package main

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ssokit/ssokit/ssotoken"
)

// testSessionKey is the -session-key of the tests that need a given one.
const testSessionKey = "lobapp's test session key, 32 bytes or more"

// get answers GET / with a session cookie of value v (none when empty).
func get(a *app, v string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	if v != "" {
		r.AddCookie(&http.Cookie{Name: sessionCookie, Value: v})
	}
	rec := httptest.NewRecorder()
	a.ServeHTTP(rec, r)
	return rec
}

// sessionOf returns the value of the session cookie rec sets.
func sessionOf(t *testing.T, rec *httptest.ResponseRecorder) string {
	t.Helper()
	for _, c := range rec.Result().Cookies() {
		if c.Name == sessionCookie {
			return c.Value
		}
	}
	t.Fatalf("no session cookie: %d %s", rec.Code, rec.Body.String())
	return ""
}

// mint signs claims with key under method, as a forger would.
func mint(t *testing.T, method jwt.SigningMethod, key any, claims jwt.Claims) string {
	t.Helper()
	v, err := jwt.NewWithClaims(method, claims).SignedString(key)
	require.NoError(t, err)
	return v
}

// TestSessionCookie: a session is a cookie that only this LOB's session
// key makes, for 8 hours; any other cookie is no session (401, never a
// 500).
func TestSessionCookie(t *testing.T) {
	start := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	valid := func(now time.Time) sessionClaims {
		return sessionClaims{CIINo: "10001XXX", LOBId: "XX", Functionality: "D", Date: "2026-11-29T12:00:00.000Z",
			RegisteredClaims: jwt.RegisteredClaims{
				Issuer: "urn:ssokit:lobapp:XX", Audience: jwt.ClaimStrings{"urn:ssokit:lobapp:XX:session"},
				IssuedAt: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(now.Add(sessionTTL)),
			}}
	}
	for _, tt := range []struct {
		name   string
		cookie func(t *testing.T, a *app, tokenNo string) string
		later  time.Duration // the clock's step after the cookie was made
		want   int
	}{
		{"the LOB's own", func(t *testing.T, a *app, tok string) string { return sessionOf(t, post(a, tok, "")) }, 0, 200},
		{"the LOB's own, near its end", func(t *testing.T, a *app, tok string) string { return sessionOf(t, post(a, tok, "")) }, sessionTTL, 200},
		{"expired", func(t *testing.T, a *app, tok string) string { return sessionOf(t, post(a, tok, "")) }, sessionTTL + sessionLeeway + time.Second, 401},
		{"made by hand like the LOB's", func(t *testing.T, _ *app, _ string) string {
			return mint(t, jwt.SigningMethodHS256, []byte(testSessionKey), valid(start))
		}, 0, 200},
		{"tampered claims", func(t *testing.T, a *app, tok string) string {
			v := sessionOf(t, post(a, tok, ""))
			other := strings.Split(mint(t, jwt.SigningMethodHS256, []byte(testSessionKey), sessionClaims{CIINo: "99999XXX"}), ".")[1]
			parts := strings.Split(v, ".")
			return parts[0] + "." + other + "." + parts[2]
		}, 0, 401},
		{"tampered signature", func(t *testing.T, a *app, tok string) string {
			v := []byte(sessionOf(t, post(a, tok, "")))
			if v[len(v)-5] == 'A' { // not the last character, whose low bits may be unused
				v[len(v)-5] = 'B'
			} else {
				v[len(v)-5] = 'A'
			}
			return string(v)
		}, 0, 401},
		{"another session key", func(t *testing.T, _ *app, _ string) string {
			return mint(t, jwt.SigningMethodHS256, []byte("another session key, 32 bytes or more"), valid(start))
		}, 0, 401},
		{"another LOB's, same key", func(t *testing.T, _ *app, _ string) string {
			c := valid(start)
			c.LOBId, c.Issuer, c.Audience = "01", "urn:ssokit:lobapp:01", jwt.ClaimStrings{"urn:ssokit:lobapp:01:session"}
			return mint(t, jwt.SigningMethodHS256, []byte(testSessionKey), c)
		}, 0, 401},
		{"alg none", func(t *testing.T, _ *app, _ string) string {
			return mint(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, valid(start))
		}, 0, 401},
		{"HS512 under the session key", func(t *testing.T, _ *app, _ string) string {
			return mint(t, jwt.SigningMethodHS512, []byte(testSessionKey), valid(start))
		}, 0, 401},
		{"no exp", func(t *testing.T, _ *app, _ string) string {
			c := valid(start)
			c.ExpiresAt = nil
			return mint(t, jwt.SigningMethodHS256, []byte(testSessionKey), c)
		}, 0, 401},
		{"issued in the future", func(t *testing.T, _ *app, _ string) string {
			return mint(t, jwt.SigningMethodHS256, []byte(testSessionKey), valid(start.Add(time.Hour)))
		}, 0, 401},
		{"a TokenNo", func(t *testing.T, _ *app, tok string) string { return tok }, 0, 401},
		{"a TokenNo's claims under the session key", func(t *testing.T, _ *app, _ string) string {
			c := valid(start)
			c.Issuer, c.Audience = "", nil // as a TokenNo has them
			return mint(t, jwt.SigningMethodHS256, []byte(testSessionKey), c)
		}, 0, 401},
		{"oversize, signed well", func(t *testing.T, _ *app, _ string) string {
			c := valid(start)
			c.Functionality = strings.Repeat("D", maxSessionCookieBytes)
			return mint(t, jwt.SigningMethodHS256, []byte(testSessionKey), c)
		}, 0, 401},
		{"oversize garbage", func(*testing.T, *app, string) string { return strings.Repeat("A", 64<<10) }, 0, 401},
		{"not a JWT", func(*testing.T, *app, string) string { return "Zm9v" }, 0, 401},
		{"empty segments", func(*testing.T, *app, string) string { return ".." }, 0, 401},
		{"none", func(*testing.T, *app, string) string { return "" }, 0, 401},
	} {
		t.Run(tt.name, func(t *testing.T) {
			clk := &clock{t: start}
			a, err := newApp(appConfig{secret: testSecret, sessionKeyText: testSessionKey, lob: "XX", leeway: 30 * time.Second, maxLifetime: time.Hour, now: clk.now})
			require.NoError(t, err)
			t.Cleanup(a.Close)
			signer := newSigner(t, clk)
			v := tt.cookie(t, a, issueTo(t, signer, "10001XXX", "D"))
			clk.add(tt.later)
			rec := get(a, v)
			require.Equal(t, tt.want, rec.Code, rec.Body.String())
			if tt.want == http.StatusOK {
				assert.Contains(t, rec.Body.String(), "Welcome, CIINo 10001XXX: you arrived at LOB XX for functionality D")
			} else {
				assert.Equal(t, "no session: POST a TokenNo to /sso\n", rec.Body.String())
			}
		})
	}
}

// TestSessionCookieIsNoTokenNo: a session cookie posted to /sso as a
// TokenNo is refused (another key), and is not redeemed.
func TestSessionCookieIsNoTokenNo(t *testing.T) {
	a, _, issue := newTestApp(t)
	v := sessionOf(t, post(a, issue("XX"), ""))
	rec := post(a, v, "")
	assert.Equal(t, http.StatusUnauthorized, rec.Code)
	assert.Contains(t, rec.Body.String(), `"ErrorCode":"bad_signature"`)
}

// TestSessionCookieAttributes: HttpOnly, SameSite=Lax, Path=/, 8 hours,
// Secure over TLS; and what the welcome page shows comes from the cookie,
// TokenRefNo included.
func TestSessionCookieAttributes(t *testing.T) {
	clk := &clock{t: time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)}
	a, err := newApp(appConfig{secret: testSecret, lob: "XX", leeway: 30 * time.Second, maxLifetime: time.Hour, now: clk.now})
	require.NoError(t, err)
	t.Cleanup(a.Close)
	signer := newSigner(t, clk)
	for _, tls := range []bool{false, true} {
		tok := issueTo(t, signer, "10001XXX", "D")
		r := httptest.NewRequest(http.MethodPost, "https://lob.example/sso", nil)
		if !tls {
			r = httptest.NewRequest(http.MethodPost, "/sso", nil)
		}
		r.Header.Set("Authorization", tok)
		r.Header.Set("Accept", browserAccept)
		rec := httptest.NewRecorder()
		a.ServeHTTP(rec, r)
		require.Equal(t, http.StatusSeeOther, rec.Code, rec.Body.String())
		cookies := rec.Result().Cookies()
		require.Len(t, cookies, 1)
		c := cookies[0]
		assert.Equal(t, sessionCookie, c.Name)
		assert.Equal(t, "/", c.Path)
		assert.Equal(t, int(sessionTTL/time.Second), c.MaxAge)
		assert.True(t, c.HttpOnly)
		assert.Equal(t, http.SameSiteLaxMode, c.SameSite)
		assert.Equal(t, tls, c.Secure, "Secure over TLS")
		assert.Less(t, len(c.Value), 1024)

		rec = get(a, c.Value)
		require.Equal(t, http.StatusOK, rec.Code)
		var claims map[string]any
		payload, err := jwt.NewParser().DecodeSegment(strings.Split(c.Value, ".")[1])
		require.NoError(t, err)
		require.NoError(t, json.Unmarshal(payload, &claims))
		assert.Contains(t, rec.Body.String(), "(TokenRefNo "+claims["TokenRefNo"].(string)+", issued 2026-11-29T12:00:00.000Z)")
		assert.Regexp(t, `^\d{15}$`, claims["TokenRefNo"])
		assert.Equal(t, "urn:ssokit:lobapp:XX", claims["iss"])
		assert.Equal(t, "urn:ssokit:lobapp:XX:session", claims["aud"].([]any)[0])
		assert.InDelta(t, sessionTTL.Seconds(), claims["exp"].(float64)-claims["iat"].(float64), 0)
	}
}

// TestSessionKey: -session-key is at least 32 bytes and not the TokenNo
// secret; without one, a random key, and a warning that says what that
// means. Instances with the same key accept each other's sessions.
func TestSessionKey(t *testing.T) {
	base := appConfig{secret: testSecret, lob: "XX", leeway: 30 * time.Second, maxLifetime: time.Hour, now: time.Now}
	for _, tt := range []struct {
		name, key, err string
	}{
		{"short", "short", "-session-key (SSO_SESSION_KEY) is 5 bytes: at least 32"},
		{"the TokenNo secret", testSecret, "-session-key is the TokenNo secret (-sso-secret): give sessions a key of their own"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := base
			c.sessionKeyText = tt.key
			_, err := newApp(c)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.err)
			assert.NotContains(t, err.Error(), tt.key, "the key is never repeated")
		})
	}

	t.Run("random, and said so", func(t *testing.T) {
		var logs bytes.Buffer
		c := base
		c.logger = slog.New(slog.NewJSONHandler(&logs, nil))
		a, err := newApp(c)
		require.NoError(t, err)
		a.Close()
		assert.Contains(t, logs.String(), `"level":"WARN","msg":"lobapp sessions are signed with a random key of this process: they end when it restarts, and no other instance accepts them; give every instance the same -session-key (or SSO_SESSION_KEY)"`)

		logs.Reset()
		c.sessionKeyText = testSessionKey
		a, err = newApp(c)
		require.NoError(t, err)
		a.Close()
		assert.Empty(t, logs.String(), "a key given: nothing to warn of")
	})

	t.Run("shared by instances, or not", func(t *testing.T) {
		clk := &clock{t: time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)}
		c := base
		c.now = clk.now
		newInstance := func(key string) *app {
			c.sessionKeyText = key
			a, err := newApp(c)
			require.NoError(t, err)
			t.Cleanup(a.Close)
			return a
		}
		one, two, random := newInstance(testSessionKey), newInstance(testSessionKey), newInstance("")
		v := sessionOf(t, post(one, issueTo(t, newSigner(t, clk), "10001XXX", "D"), ""))
		assert.Equal(t, http.StatusOK, get(two, v).Code, "the same -session-key")
		assert.Equal(t, http.StatusUnauthorized, get(random, v).Code, "a random key is this process's alone")
	})
}

// TestSessionTooLarge: a TokenNo whose claims do not fit in a cookie (no
// issuer within the document's field lengths signs one) gets 400
// session_too_large, not a cookie a browser would drop.
func TestSessionTooLarge(t *testing.T) {
	a, clk, _ := newTestApp(t)
	now := clk.now()
	tok := mint(t, jwt.SigningMethodHS256, []byte(testSecret), jwt.MapClaims{
		"CIINo": "10001XXX", "LOBId": "XX", "Functionality": strings.Repeat("D", maxSessionCookieBytes),
		"Date": now.Format(ssotoken.DateLayout), "iat": now.Unix(), "exp": now.Add(time.Hour).Unix(),
	})
	rec := post(a, tok, "")
	assert.Equal(t, http.StatusBadRequest, rec.Code)
	assert.Contains(t, rec.Body.String(), `"ErrorCode":"session_too_large"`)
	assert.Empty(t, rec.Result().Cookies())
}
