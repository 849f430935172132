package cookiessotest

import (
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/ssokit/ssokit/cookiesso"
)

// SessionPath is the path of a MainSite's session endpoint.
const SessionPath = "/api/session"

// MainSite is a main site whose SSO cookie is an opaque session id, served
// over httptest: a cookiesso.RemoteValidator asks it who a cookie belongs
// to. GET or POST SessionPath with the cookie "AnswerHubCookieSSO=<id>"
// answers 200 {"username": ..., "roles": [...]} for a session of Login,
// 401 for any other cookie or none, and 503 while Down. It is safe for
// concurrent use.
type MainSite struct {
	srv      *httptest.Server
	requests atomic.Int64

	mu       sync.Mutex
	sessions map[string]session
	down     bool
}

type session struct {
	Username string   `json:"username"`
	Roles    []string `json:"roles"`
}

// NewMainSite starts a MainSite. Close it when done (t.Cleanup(m.Close)).
func NewMainSite() *MainSite {
	m := &MainSite{sessions: map[string]session{}}
	mux := http.NewServeMux()
	mux.HandleFunc(SessionPath, m.serve)
	m.srv = httptest.NewServer(mux)
	return m
}

// Close shuts the main site down: a RemoteValidator then cannot reach it.
func (m *MainSite) Close() { m.srv.Close() }

// URL returns the URL of the session endpoint.
func (m *MainSite) URL() string { return m.srv.URL + SessionPath }

// ValidatorConfig returns the configuration of a cookiesso.RemoteValidator
// that asks this main site; change its caching as the test needs.
func (m *MainSite) ValidatorConfig() cookiesso.RemoteValidatorConfig {
	return cookiesso.RemoteValidatorConfig{URL: m.URL()}
}

// Login opens a session of username with roles and returns its id, the
// SSO cookie's value.
func (m *MainSite) Login(username string, roles ...string) string {
	id := rand.Text()
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sessions[id] = session{Username: username, Roles: append([]string{}, roles...)}
	return id
}

// Logout ends the session id: the main site answers 401 for it from now
// on (a RemoteValidator may still hold its last answer in its cache).
func (m *MainSite) Logout(id string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.sessions, id)
}

// Down makes the session endpoint answer 503 until Up.
func (m *MainSite) Down() { m.setDown(true) }

// Up ends Down.
func (m *MainSite) Up() { m.setDown(false) }

func (m *MainSite) setDown(d bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.down = d
}

// Requests returns the number of requests the session endpoint has had.
func (m *MainSite) Requests() int { return int(m.requests.Load()) }

func (m *MainSite) serve(w http.ResponseWriter, r *http.Request) {
	m.requests.Add(1)
	if !slices.Contains([]string{http.MethodGet, http.MethodPost}, r.Method) {
		w.Header().Set("Allow", "GET, POST")
		http.Error(w, "Method Not Allowed", http.StatusMethodNotAllowed)
		return
	}
	m.mu.Lock()
	down := m.down
	var s session
	ok := false
	if c, err := r.Cookie(cookiesso.DefaultCookieName); err == nil {
		s, ok = m.sessions[c.Value]
	}
	m.mu.Unlock()
	switch {
	case down:
		http.Error(w, "Service Unavailable", http.StatusServiceUnavailable)
	case !ok:
		http.Error(w, "Unauthorized", http.StatusUnauthorized)
	default:
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(s)
	}
}
