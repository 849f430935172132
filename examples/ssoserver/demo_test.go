package main

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ssokit/ssokit/cookiesso"
)

// TestPortalPageEscapes renders the portal with hostile configured values:
// none can end the script element or the attribute it sits in.
func TestPortalPageEscapes(t *testing.T) {
	hostile := `</script><script>alert("x")</script>`
	d := newDemoSite("http://127.0.0.1:8080", "http://127.0.0.1:8082", "http://127.0.0.1:8083", `http://127.0.0.1:8081/sso"><script>alert(1)</script>`,
		devSample{clientID: hostile, ciino: sampleCIINo, lobID: sampleLOBId, functionality: sampleFunctionality}, hostile,
		&devCreds{accessToken: hostile, cookie: "c.o.okie"}, cookiesso.DefaultCookieName)
	rec := httptest.NewRecorder()
	d.portalHandler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	require.Equal(t, http.StatusOK, rec.Code)
	body := rec.Body.String()
	assert.NotContains(t, body, "<script>alert")
	assert.Equal(t, 1, strings.Count(body, "</script>"), "only the page's own script element ends")
	assert.Contains(t, body, `"x-api-version": "\u003c/script\u003e\u003cscript\u003ealert(\"x\")\u003c/script\u003e"`)
}

func TestDemoPagesOnlyAtTheRoot(t *testing.T) {
	d := newDemoSite("http://a", "http://p", "http://f", "http://l/sso", devSample{}, "1.0.0", &devCreds{}, cookiesso.DefaultCookieName)
	for _, h := range []http.Handler{d.portalHandler(), d.forumHandler()} {
		for path, want := range map[string]int{"/": 200, "/x": 404, "/.env": 404} {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
			assert.Equal(t, want, rec.Code, path)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/", nil))
		assert.Equal(t, http.StatusMethodNotAllowed, rec.Code)
	}
}
