package main

import (
	"embed"
	"encoding/json"
	"html/template"
	"net/http"
)

// Dev mode's browser demo: the portal of the GenerateSSOToken document
// (the "ABC" site, which is also the main site that sets the SSO cookie)
// and the forum of the Cookie SSO document, each on an origin of its own
// (another port of the same host), so that the browser treats their calls
// to the API as cross-origin, as it would in a real deployment.

//go:embed demo/*.html
var demoFiles embed.FS

var (
	portalPage = template.Must(template.ParseFS(demoFiles, "demo/portal.html"))
	forumPage  = template.Must(template.ParseFS(demoFiles, "demo/forum.html"))
)

// demoSite serves the demo pages.
type demoSite struct {
	api, portal, forum string // base URLs, http://host:port
	lobURL             string // where the portal hands the TokenNo
	sample             devSample
	apiVersion         string
	accessToken        string
	cookie             http.Cookie // the SSO cookie the portal sets
}

// portalData is what portal.html shows.
type portalData struct {
	Portal, Forum, LOBURL, LOBId string
	AccessToken                  string
	Sample                       string      // the fetch sample, shown
	SampleJS                     template.JS // the same text, run
}

// forumData is what forum.html shows.
type forumData struct {
	API, Portal, Forum string
}

// newDemoSite returns the demo for dev mode's credentials. The SSO cookie
// is HttpOnly (no page script reads it), Secure on https, and
// SameSite=Strict: the forum's call is same-site (another port of the same
// host here, another host of the same registrable domain in a real
// deployment), so Strict costs the journey nothing and keeps the cookie
// off every request that another site starts.
func newDemoSite(api, portal, forum, lobURL string, s devSample, apiVersion string, dev *devCreds, cookieName string) *demoSite {
	return &demoSite{
		api: api, portal: portal, forum: forum, lobURL: lobURL, sample: s, apiVersion: apiVersion,
		accessToken: dev.accessToken,
		cookie: http.Cookie{
			Name: cookieName, Value: dev.cookie, Path: "/", Expires: dev.expires,
			HttpOnly: true, SameSite: http.SameSiteStrictMode,
		},
	}
}

// fetchSample is the GenerateSSOToken document's fetch sample, as written
// but for the URL and the token (the variable accessToken), and with the
// quotes JavaScript needs around header names with a dash. Every value is
// JSON-encoded, which escapes <, > and &, so the text is safe to run
// inside a script element.
func (d *demoSite) fetchSample() string {
	q := func(s string) string {
		b, _ := json.Marshal(s)
		return string(b)
	}
	return `function generateSSOToken() {
  return fetch(` + q(d.api+"/v2/get_sso_token") + `, {
    method: "POST",
    headers: {
      "x-api-version": ` + q(d.apiVersion) + `,
      "x-lob-client-id": ` + q(d.sample.clientID) + `,
      "Content-Type": "application/json",
      Authorization: accessToken,
    },
    body: JSON.stringify({
      CIINo: ` + q(d.sample.ciino) + `,
      LOBId: ` + q(d.sample.lobID) + `,
      Functionality: ` + q(d.sample.functionality) + `,
    }),
  });
}`
}

// portalHandler serves the portal's page; each visit sets the SSO cookie,
// as the main site does when the user signs in.
func (d *demoSite) portalHandler() http.Handler {
	sample := d.fetchSample()
	data := portalData{
		Portal: d.portal, Forum: d.forum, LOBURL: d.lobURL, LOBId: d.sample.lobID,
		AccessToken: d.accessToken, Sample: sample, SampleJS: template.JS(sample),
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		c := d.cookie
		c.Secure = r.TLS != nil
		http.SetCookie(w, &c)
		renderDemo(w, portalPage, data)
	})
	return mux
}

// forumHandler serves the forum's page.
func (d *demoSite) forumHandler() http.Handler {
	data := forumData{API: d.api, Portal: d.portal, Forum: d.forum}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, _ *http.Request) {
		renderDemo(w, forumPage, data)
	})
	return mux
}

func renderDemo(w http.ResponseWriter, page *template.Template, data any) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store") // the portal's page holds the access token
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	_ = page.Execute(w, data)
}
