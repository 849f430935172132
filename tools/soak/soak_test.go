package main

import (
	"context"
	"encoding/base64"
	"flag"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var (
	buildOnce sync.Once
	buildDir  string
	buildCfg  config
	buildErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// binaries builds ssoserver and lobapp once per test binary, without
// -race: they run as separate processes.
func binaries(t *testing.T) config {
	t.Helper()
	buildOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		if buildDir, buildErr = os.MkdirTemp("", "ssokit-soak-test"); buildErr == nil {
			buildErr = build(ctx, &buildCfg, buildDir)
		}
	})
	require.NoError(t, buildErr)
	return buildCfg
}

// TestSoak runs a short soak: every check must pass. It needs
// redis-server; the full one is go -C tools run ./soak.
func TestSoak(t *testing.T) {
	if testing.Short() {
		t.Skip("a 25-second soak of real processes (run without -short)")
	}
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Skip("the soak needs redis-server on PATH: apt-get install redis-server (CI's .ci/run installs it); " +
			"or run it by hand: go -C tools run ./soak -duration 1m")
	}
	bins := binaries(t)
	cfg := config{
		Duration: 25 * time.Second, Workers: 4, Rate: 60, Users: 400, LOBApps: 3, Seed: 18,
		SSOServer: bins.SSOServer, LOBApp: bins.LOBApp, RedisServer: "redis-server", ReqTimeout: 15 * time.Second,
	}
	if testing.Verbose() {
		cfg.Progress = os.Stderr
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	rep, err := run(ctx, cfg)
	require.NoError(t, err)
	require.NotNil(t, rep)
	var text strings.Builder
	rep.writeText(&text)
	t.Log("\n" + text.String())
	require.True(t, rep.Pass, "every check passes")

	byName := map[string]classReport{}
	for _, c := range rep.Classes {
		byName[c.Name] = c
	}
	for _, name := range []string{"generate", "redeem", "replay", "session", "exchange", "user.json", "replay-after-restart"} {
		assert.Positive(t, byName[name].Total, "class %s was exercised", name)
	}
	require.Len(t, rep.Windows, 3)
	assert.Equal(t, "redis-restart", rep.Windows[0].Name)
	assert.Positive(t, rep.Windows[0].FiveXX, "the outage was seen, and failed closed")
	assert.Positive(t, rep.Ledger.Accepted)
	assert.Positive(t, rep.Credentials.Count)
	assert.Positive(t, rep.Credentials.Lines)
	assert.Len(t, rep.Processes, 1+cfg.LOBApps+1)

	var js strings.Builder
	require.NoError(t, rep.writeJSON(&js))
	assert.Contains(t, js.String(), `"pass": true`)
}

// jwt makes a token-shaped string whose payload and signature are long
// and distinct.
func jwt(payload, sig string) string {
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(`{"alg":"HS256","typ":"JWT"}`)) + "." + enc([]byte(payload)) + "." + enc([]byte(sig))
}

func TestCredentialScan(t *testing.T) {
	tokenNo := jwt(`{"CIINo":"200000001","LOBId":"XX","exp":1}`, "signature-of-the-tokenno-32-bytes")
	access := jwt(`{"sub":"someone","token_use":"access","exp":2}`, "signature-of-the-access-token-32b")
	other := jwt(`{"sub":"someone else","token_use":"access","exp":3}`, "signature-of-another-token-32-byt")
	parts := strings.Split(tokenNo, ".")
	c := newCredentials()
	c.add(credTokenNo, tokenNo)
	c.add(credAccessToken, access)
	c.addSecret("SSO_SECRET", "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")

	tests := []struct {
		name string
		line string
		kind string // "" for no leak
	}{
		{"a whole TokenNo in JSON", `{"msg":"issued","token":"` + tokenNo + `"}`, "TokenNo"},
		{"a form body", `body=TokenNo=` + tokenNo + `&x=1`, "TokenNo"},
		{"a Bearer header", `Authorization: Bearer ` + access, "access token"},
		{"the payload alone", `payload ` + parts[1], "TokenNo"},
		{"the signature alone", `sig=` + parts[2] + `;`, "TokenNo"},
		{"the header alone is no secret", `header ` + parts[0], ""},
		{"a token the run never saw", `token=` + other, ""},
		{"a secret", `key "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567" loaded`, "secret SSO_SECRET"},
		{"a secret inside a longer run", `xxABCDEFGHIJKLMNOPQRSTUVWXYZ234567yy`, "secret SSO_SECRET"},
		{"an audit line", `{"msg":"GenerateSSOToken","token_ref_no":"179598884500000","subject":"50a4c0de-0000-4000-8000-000000000001"}`, ""},
		{"a signature run glued to more base64url", `sig=` + parts[2] + `AAAA`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lines, leaks, leaked, err := c.scan("p", strings.NewReader("first line\n"+tt.line+"\nlast line"))
			require.NoError(t, err)
			assert.Equal(t, 3, lines)
			if tt.kind == "" {
				assert.Zero(t, leaked)
				assert.Empty(t, leaks)
				return
			}
			assert.Equal(t, 1, leaked)
			require.Len(t, leaks, 1)
			assert.Equal(t, leak{Process: "p", Line: 2, Kind: tt.kind}, leaks[0])
			assert.NotContains(t, leaks[0].String(), tokenNo, "a leak never repeats the credential")
		})
	}

	t.Run("many leaks are counted, a few listed", func(t *testing.T) {
		log := strings.Repeat(tokenNo+"\n", maxLeaks+5)
		_, leaks, leaked, err := c.scan("p", strings.NewReader(log))
		require.NoError(t, err)
		assert.Equal(t, maxLeaks+5, leaked)
		assert.Len(t, leaks, maxLeaks)
	})
	assert.Equal(t, 3, c.total())
	assert.Equal(t, map[string]int{"secret": 1, "TokenNo": 1, "access token": 1}, c.byKind())
}

func TestWindows(t *testing.T) {
	s := func(n float64) time.Duration { return time.Duration(n * float64(time.Second)) }
	const oldKID, newKID = "old", "new"
	base := func() *events {
		return &events{
			Publish: s(10), Sign: s(14), Drop: s(20), OldKID: oldKID, NewKID: newKID,
			RedisStop: s(24), RedisExited: s(24.1), RedisStarted: s(26.1), RedisReady: s(26.2), RedisRestarted: true,
			End: s(40),
		}
	}
	tests := []struct {
		name    string
		fetches []jwksFetch
		mod     func(e *events)
		want    map[string][2]time.Duration // window name -> start, end
	}{
		{
			name:    "fetched after signing; dropped and fetched",
			fetches: []jwksFetch{{s(-1), []string{oldKID}}, {s(16), []string{oldKID, newKID}}, {s(23), []string{newKID}}},
			want: map[string][2]time.Duration{
				"redis-restart": {s(24), s(26.2) + recoveryGrace},
				"jwks-rotation": {s(14), s(16) + rotationGrace},
				"jwks-drop":     {s(20), s(23) + rotationGrace},
			},
		},
		{
			name:    "published ahead and fetched before signing: no rotation window",
			fetches: []jwksFetch{{s(11), []string{oldKID, newKID}}},
			want:    map[string][2]time.Duration{"jwks-rotation": {s(14), s(14)}, "jwks-drop": {s(20), s(40)}},
		},
		{
			name:    "fetched just before signing: the grace reaches past it",
			fetches: []jwksFetch{{s(13.5), []string{oldKID, newKID}}},
			want:    map[string][2]time.Duration{"jwks-rotation": {s(14), s(13.5) + rotationGrace}},
		},
		{
			name:    "never fetched: open to the end",
			fetches: []jwksFetch{{s(5), []string{oldKID}}},
			want:    map[string][2]time.Duration{"jwks-rotation": {s(14), s(40)}},
		},
		{
			name: "Redis never came back",
			mod:  func(e *events) { e.RedisRestarted = false },
			want: map[string][2]time.Duration{"redis-restart": {s(24), s(40)}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := base()
			e.Fetches = tt.fetches
			if tt.mod != nil {
				tt.mod(e)
			}
			got := map[string][2]time.Duration{}
			for _, w := range windows(e) {
				got[w.Name] = [2]time.Duration{w.Start, w.End}
				assert.NotEmpty(t, w.Detail)
			}
			for name, want := range tt.want {
				assert.Equal(t, want, got[name], name)
			}
		})
	}
}

func TestJudge(t *testing.T) {
	s := func(n float64) time.Duration { return time.Duration(n * float64(time.Second)) }
	ws := []window{
		{Fault: faultRedis, Name: "redis-restart", Start: s(10), End: s(14)},
		{Fault: faultRotation, Name: "jwks-rotation", Start: s(20), End: s(22)},
	}
	o := func(c classID, start, end float64, status int, code string) outcome {
		return outcome{Class: c, Start: s(start), End: s(end), Status: status, Code: code}
	}
	tests := []struct {
		name             string
		out              outcome
		expected, inside bool
		windows          []int
	}{
		{"a 200", o(clsGenerate, 1, 1.1, 200, ""), true, false, nil},
		{"a 502 outside the windows", o(clsGenerate, 5, 5.1, 502, "rate_limiter_unavailable"), false, false, nil},
		{"a 502 in the outage", o(clsGenerate, 11, 11.1, 502, "rate_limiter_unavailable"), true, true, []int{0}},
		{"a 504 in the outage", o(clsRedeem, 12, 12.1, 504, "deadline_exceeded"), true, true, []int{0}},
		{"a 502 with another code", o(clsRedeem, 12, 12.1, 502, "internal_error"), false, false, []int{0}},
		{"a request that started before the window and ended in it", o(clsRedeem, 9.5, 10.5, 502, "replay_store_unavailable"), true, true, []int{0}},
		{"a request that ended just after the window", o(clsRedeem, 14, 14.2, 502, "replay_store_unavailable"), true, true, []int{0}},
		{"a 502 just after the window", o(clsRedeem, 14.1, 14.2, 502, "replay_store_unavailable"), false, false, nil},
		{"a cookie exchange does not need Redis", o(clsExchange, 11, 11.1, 502, "internal_error"), false, false, []int{0}},
		{"a replay refused", o(clsReplay, 3, 3.1, 401, "token_replayed"), true, false, nil},
		{"a replay accepted", o(clsReplay, 3, 3.1, 200, ""), false, false, nil},
		{"unknown_key in the rotation", o(clsGenerate, 21, 21.1, 401, "unknown_key"), true, true, []int{1}},
		{"unknown_key after it", o(clsGenerate, 23, 23.1, 401, "unknown_key"), false, false, nil},
		{"no 5xx in the rotation", o(clsGenerate, 21, 21.1, 502, "jwks_unavailable"), false, false, []int{1}},
		{"a right status with a wrong answer", outcome{Class: clsGenerate, Start: s(1), End: s(1.1), Status: 200, Problem: "no TokenNo"}, false, false, nil},
		{"no answer", outcome{Class: clsGenerate, Start: s(1), End: s(1.1), Problem: "connection refused"}, false, false, nil},
		{"a malformed class's 4xx", o(clsGenAlgNone, 11, 11.1, 401, "alg_not_allowed"), true, false, []int{0}},
		{"a code not checked: any 401", o(clsSessionForged, 1, 1.1, 401, ""), true, false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := judge(&classes[tt.out.Class], &tt.out, ws)
			assert.Equal(t, tt.expected, v.Expected, "expected")
			assert.Equal(t, tt.inside, v.InWindow, "in a window")
			assert.Equal(t, tt.windows, v.Windows, "windows met")
		})
	}
}

func TestLedger(t *testing.T) {
	l := newLedger()
	assert.True(t, l.issue("a.b.c", "1"))
	assert.True(t, l.issue("d.e.f", "2"))
	assert.False(t, l.issue("a.b.c", "1"), "the same TokenNo again")
	assert.True(t, l.accept("a.b.c", "lobapp-1", time.Second))
	assert.False(t, l.accept("a.b.c", "lobapp-2", 2*time.Second))
	assert.True(t, l.accept("x.y.z", "lobapp-3", 3*time.Second), "a token never issued is noticed as accepted")
	s := l.summary()
	assert.Equal(t, ledgerSummary{Issued: 3, Accepted: 3, AcceptedTwice: 1, DupRefNos: 1, DupTokenNos: 1,
		Twice: []acceptance{{"lobapp-1", time.Second}, {"lobapp-2", 2 * time.Second}}}, s)
}

// testReport is a run whose every check passes: a Redis restart and a
// rotation, one request of each kind, healthy processes.
func testReport(mod func(ev *events, out *[]outcome, led *ledgerSummary, procs []processReport, counts map[string]float64)) *report {
	s := func(n float64) time.Duration { return time.Duration(n * float64(time.Second)) }
	ev := &events{
		Publish: s(5), Sign: s(7), Drop: s(10), OldKID: "old", NewKID: "new",
		RedisStop: s(12), RedisExited: s(12.1), RedisStarted: s(14.1), RedisReady: s(14.2), RedisRestarted: true, End: s(20),
		Fetches: []jwksFetch{{s(6), []string{"old", "new"}}, {s(11), []string{"new"}}},
	}
	out := []outcome{
		{Class: clsGenerate, Start: s(1), End: s(1.1), Status: 200},
		{Class: clsRedeem, Start: s(1.2), End: s(1.3), Status: 200},
		{Class: clsReplay, Start: s(1.4), End: s(1.5), Status: 401, Code: "token_replayed"},
		{Class: clsGenerate, Start: s(13), End: s(13.1), Status: 502, Code: "rate_limiter_unavailable"},
		{Class: clsRedeem, Start: s(13), End: s(13.1), Status: 502, Code: "replay_store_unavailable"},
		{Class: clsGenerate, Start: s(15), End: s(15.1), Status: 200},
		{Class: clsRedeem, Start: s(15.2), End: s(15.3), Status: 200},
		{Class: clsReplayAfter, Start: s(17), End: s(17.1), Status: 401, Code: "token_replayed"},
	}
	led := ledgerSummary{Issued: 2, Accepted: 2}
	procs := []processReport{
		{Name: "ssoserver", Go: true, RSSStart: 100, RSSEnd: 120, GorStart: 10, GorEnd: 10, Alive: true, Exit: "ok"},
		{Name: "lobapp-1", Go: true, RSSStart: 100, RSSEnd: 100, GorStart: 8, GorEnd: 9, Alive: true, Exit: "ok"},
		{Name: "redis-server", RSSEnd: 1000, Alive: true, Exit: "ok"},
	}
	counts := map[string]float64{"ssoserver issued": 2, "lobapps accepted": 2}
	if mod != nil {
		mod(ev, &out, &led, procs, counts)
	}
	r := newReport(config{Duration: 20 * time.Second, Workers: 1, Rate: 10, Users: 10, LOBApps: 2}, 1, newSchedule(20*time.Second), ev, out, led, newCredentials())
	r.Processes, r.ServerCounts = procs, counts
	r.judge()
	return r
}

func TestReportChecks(t *testing.T) {
	type mod = func(ev *events, out *[]outcome, led *ledgerSummary, procs []processReport, counts map[string]float64)
	s := func(n float64) time.Duration { return time.Duration(n * float64(time.Second)) }
	tests := []struct {
		name  string
		mod   mod
		fails []string
	}{
		{name: "all pass"},
		{name: "a TokenNo accepted twice", mod: func(_ *events, _ *[]outcome, led *ledgerSummary, _ []processReport, _ map[string]float64) {
			led.AcceptedTwice = 1
		}, fails: []string{"single use"}},
		{name: "a TokenRefNo twice", mod: func(_ *events, _ *[]outcome, led *ledgerSummary, _ []processReport, _ map[string]float64) {
			led.DupRefNos = 1
		}, fails: []string{"TokenRefNo unique"}},
		{name: "a 5xx outside the windows", mod: func(_ *events, out *[]outcome, _ *ledgerSummary, _ []processReport, _ map[string]float64) {
			*out = append(*out, outcome{Class: clsExchange, Start: s(2), End: s(2.1), Status: 503})
		}, fails: []string{"no 5xx outside the fault windows", "expected answers"}},
		{name: "a 4xx not expected", mod: func(_ *events, out *[]outcome, _ *ledgerSummary, _ []processReport, _ map[string]float64) {
			*out = append(*out, outcome{Class: clsRedeemForged, Start: s(2), End: s(2.1), Status: 401, Code: "token_expired"})
		}, fails: []string{"expected answers"}},
		{name: "a redemption accepted while Redis was down", mod: func(_ *events, out *[]outcome, _ *ledgerSummary, _ []processReport, _ map[string]float64) {
			*out = append(*out, outcome{Class: clsRedeem, Start: s(13), End: s(13.1), Status: 200})
		}, fails: []string{"fails closed while Redis is down"}},
		{name: "no recovery", mod: func(_ *events, out *[]outcome, _ *ledgerSummary, _ []processReport, _ map[string]float64) {
			*out = (*out)[:5]
			*out = append(*out, outcome{Class: clsReplayAfter, Start: s(17), End: s(17.1), Status: 401, Code: "token_replayed"})
		}, fails: []string{"recovers from the Redis restart"}},
		{name: "a redeemed id forgotten", mod: func(_ *events, out *[]outcome, _ *ledgerSummary, _ []processReport, _ map[string]float64) {
			(*out)[7] = outcome{Class: clsReplayAfter, Start: s(17), End: s(17.1), Status: 200}
		}, fails: []string{"expected answers", "the restart forgets no redeemed TokenNo"}},
		{name: "the new key never fetched", mod: func(ev *events, _ *[]outcome, _ *ledgerSummary, _ []processReport, _ map[string]float64) {
			ev.Fetches = nil
		}, fails: []string{"key rotation"}},
		{name: "the new key fetched late", mod: func(ev *events, _ *[]outcome, _ *ledgerSummary, _ []processReport, _ map[string]float64) {
			ev.Fetches = []jwksFetch{{ev.Sign + refetchInterval + 2*rotationGrace, []string{"new"}}}
		}, fails: []string{"key rotation"}},
		{name: "the outage's 5xx in the drop's window are not the rotation's", mod: func(ev *events, _ *[]outcome, _ *ledgerSummary, _ []processReport, _ map[string]float64) {
			ev.Fetches = []jwksFetch{{s(6), []string{"old", "new"}}, {s(15), []string{"new"}}}
		}},
		{name: "a 5xx in the rotation", mod: func(ev *events, out *[]outcome, _ *ledgerSummary, _ []processReport, _ map[string]float64) {
			ev.Fetches = []jwksFetch{{s(8), []string{"old", "new"}}}
			*out = append(*out, outcome{Class: clsGenerate, Start: s(7.5), End: s(7.6), Status: 502, Code: "jwks_unavailable"})
		}, fails: []string{"expected answers", "key rotation"}},
		{name: "RSS grew", mod: func(_ *events, _ *[]outcome, _ *ledgerSummary, procs []processReport, _ map[string]float64) {
			procs[0].RSSEnd = 151
		}, fails: []string{"ssoserver memory"}},
		{name: "goroutines grew", mod: func(_ *events, _ *[]outcome, _ *ledgerSummary, procs []processReport, _ map[string]float64) {
			procs[1].GorEnd = procs[1].GorStart + maxGoroutineGrowth + 1
		}, fails: []string{"lobapp-1 goroutines"}},
		{name: "Redis's memory is not judged", mod: func(_ *events, _ *[]outcome, _ *ledgerSummary, procs []processReport, _ map[string]float64) {
			procs[2].RSSStart, procs[2].RSSEnd = 1, 1000
		}},
		{name: "a process died", mod: func(_ *events, _ *[]outcome, _ *ledgerSummary, procs []processReport, _ map[string]float64) {
			procs[1].Alive = false
		}, fails: []string{"processes healthy"}},
		{name: "a process did not stop", mod: func(_ *events, _ *[]outcome, _ *ledgerSummary, procs []processReport, _ map[string]float64) {
			procs[2].Exit = "redis-server did not stop within 30s of terminated and was killed"
		}, fails: []string{"processes healthy"}},
		{name: "counts disagree", mod: func(_ *events, _ *[]outcome, _ *ledgerSummary, _ []processReport, counts map[string]float64) {
			counts["lobapps accepted"] = 3
		}, fails: []string{"server counts agree"}},
		{name: "counts not compared after lost answers", mod: func(_ *events, out *[]outcome, _ *ledgerSummary, _ []processReport, counts map[string]float64) {
			counts["lobapps accepted"] = 3
			*out = append(*out, outcome{Class: clsRedeem, Start: s(13), End: s(13.1), Problem: "timeout"})
		}, fails: []string{"expected answers"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := testReport(tt.mod)
			var fails []string
			for _, c := range r.Checks {
				if !c.Pass {
					fails = append(fails, c.Name)
				}
			}
			assert.Equal(t, tt.fails, fails)
			assert.Equal(t, len(tt.fails) == 0, r.Pass)
		})
	}

	t.Run("a leak fails", func(t *testing.T) {
		r := testReport(nil)
		c := newCredentials()
		c.add(credTokenNo, jwt(`{"CIINo":"200000001","exp":12345}`, "a-signature-of-thirty-two-bytes!"))
		path := filepath.Join(t.TempDir(), "x.log")
		require.NoError(t, os.WriteFile(path, []byte("ok\nleaked: "+jwt(`{"CIINo":"200000001","exp":12345}`, "a-signature-of-thirty-two-bytes!")+"\n"), 0o600))
		require.NoError(t, r.scanLog(c, "lobapp-1", path))
		r.Checks = nil
		r.judge()
		assert.False(t, r.Pass)
		assert.Equal(t, []leak{{Process: "lobapp-1", Line: 2, Kind: "TokenNo"}}, r.Credentials.Leaks)
	})
}

func TestReportText(t *testing.T) {
	r := testReport(nil)
	var b strings.Builder
	r.writeText(&b)
	for _, want := range []string{"generate", "502 rate_limiter_unavailable: 1 (*1)", "redis-restart [12.0s, 16.2s]",
		"jwks-rotation", "recovery: first 5xx after SIGTERM +1.000s", "first generate 200 +0.900s", "PASS  single use", "RSS start"} {
		assert.Contains(t, b.String(), want)
	}
	var js strings.Builder
	require.NoError(t, r.writeJSON(&js))
	assert.Contains(t, js.String(), `"durationSeconds": 20.000`)
}

func TestParseProm(t *testing.T) {
	text := `# HELP go_goroutines Number of goroutines that currently exist.
# TYPE go_goroutines gauge
go_goroutines 11
ssokit_sso_redemptions_total{result="accepted"} 240
ssokit_sso_redemptions_total{result="replayed"} 300
ssokit_requests_total{code="",endpoint="generate_sso_token",outcome="issued"} 1.5e+03
ssokit_requests_total{code="rate_limited",endpoint="generate_sso_token",outcome="refused"} 2
broken{ 1
`
	p := parseProm([]byte(text))
	for _, tt := range []struct {
		name   string
		labels map[string]string
		want   float64
		ok     bool
	}{
		{"go_goroutines", nil, 11, true},
		{"ssokit_sso_redemptions_total", map[string]string{"result": "accepted"}, 240, true},
		{"ssokit_sso_redemptions_total", nil, 540, true},
		{"ssokit_requests_total", map[string]string{"endpoint": "generate_sso_token", "outcome": "issued"}, 1500, true},
		{"ssokit_requests_total", map[string]string{"outcome": "failed"}, 0, false},
		{"nothing", nil, 0, false},
	} {
		got, ok := p.sum(tt.name, tt.labels)
		assert.Equal(t, tt.ok, ok, "%s %v", tt.name, tt.labels)
		assert.InDelta(t, tt.want, got, 1e-9, "%s %v", tt.name, tt.labels)
	}
}

func TestSchedule(t *testing.T) {
	for _, d := range []time.Duration{minDuration, 25 * time.Second, time.Minute, 10 * time.Minute, time.Hour} {
		t.Run(d.String(), func(t *testing.T) {
			s := newSchedule(d)
			assert.Less(t, s.WarmUp, s.Publish)
			assert.Less(t, s.Publish, s.Sign)
			assert.Less(t, s.Sign, s.Drop)
			assert.Less(t, s.Drop, s.RedisStop)
			assert.GreaterOrEqual(t, s.RedisDown, 2*time.Second)
			assert.LessOrEqual(t, s.RedisDown, 10*time.Second)
			assert.GreaterOrEqual(t, s.End-(s.RedisStop+s.RedisDown+recoveryGrace), d/5, "time to see the recovery hold")
			assert.Equal(t, d, s.End)
		})
	}
}

func TestMix(t *testing.T) {
	malformed := weightMalformed * (1 + 1/float64(len(malformedClasses))) / totalWeight
	share := malformed / requestsPerRound()
	assert.InDelta(t, 0.10, share, 0.015, "about a tenth of the requests are malformed")
	for _, c := range malformedClasses {
		assert.True(t, classes[c].Malformed, classes[c].Name)
	}
	for id := range numClasses {
		c := classes[id]
		assert.NotEmpty(t, c.Name)
		assert.NotEmpty(t, c.ok, c.Name)
		assert.Contains(t, []string{targetSSO, targetLOB}, c.Target, c.Name)
	}
}

func TestParseFlags(t *testing.T) {
	cfg, err := parseFlags(nil, io.Discard)
	require.NoError(t, err)
	assert.Equal(t, time.Minute, cfg.Duration)
	assert.Equal(t, 8, cfg.Workers)
	assert.InDelta(t, 150, cfg.Rate, 0)
	assert.Equal(t, 3, cfg.LOBApps)
	assert.Less(t, userIssueRate(cfg), float64(issueRate)/4)

	cfg, err = parseFlags([]string{"-duration", "10m", "-workers", "2", "-rate", "40", "-keep-logs", "/tmp/x", "-json", "-seed", "7"}, io.Discard)
	require.NoError(t, err)
	assert.Equal(t, 10*time.Minute, cfg.Duration)
	assert.Equal(t, "/tmp/x", cfg.KeepLogs)
	assert.True(t, cfg.JSON)
	assert.Equal(t, int64(7), cfg.Seed)

	for _, args := range [][]string{
		{"-duration", "19s"}, {"-workers", "0"}, {"-rate", "0"}, {"-rate", "NaN"}, {"-users", "5"}, {"-lobapps", "1"},
		{"-req-timeout", "0s"}, {"extra"}, {"-nope"},
		{"-rate", "2000", "-users", "100"}, // far over the issuing limit of each user
	} {
		_, err := parseFlags(args, io.Discard)
		assert.Error(t, err, "%v", args)
	}
	_, err = parseFlags([]string{"-h"}, io.Discard)
	assert.ErrorIs(t, err, flag.ErrHelp)
}

func TestPanicCounter(t *testing.T) {
	var p panicCounter
	for _, l := range []string{"panic: runtime error: index out of range", "fatal error: concurrent map writes", "WARNING: DATA RACE",
		"1:M 29 Nov === REDIS BUG REPORT START: Cut & paste starting from here ===", `{"msg":"no panic: here"}`, "INFO all good"} {
		p.check("x", []byte(l))
	}
	assert.Equal(t, map[string]int{"x": 4}, p.counts())
}

func TestHeaderProblem(t *testing.T) {
	h := func(kv ...string) http.Header {
		out := http.Header{}
		for i := 0; i < len(kv); i += 2 {
			out.Set(kv[i], kv[i+1])
		}
		return out
	}
	for _, tt := range []struct {
		name   string
		c      classID
		a      answer
		wanted string
	}{
		{"a 200 with no-store", clsGenerate, answer{status: 200, header: h("Cache-Control", "no-store")}, ""},
		{"a 200 without", clsGenerate, answer{status: 200, header: h()}, "no Cache-Control: no-store"},
		{"a 401 with its challenge", clsReplay, answer{status: 401, header: h("Cache-Control", "no-store", "WWW-Authenticate", `Bearer error="invalid_token"`)}, ""},
		{"a 401 without", clsReplay, answer{status: 401, header: h("Cache-Control", "no-store")}, "a 401 without WWW-Authenticate: Bearer"},
		{"lobapp's own page is not the library's", clsSessionForged, answer{status: 401, header: h()}, ""},
		{"no answer", clsGenerate, answer{err: io.EOF}, ""},
	} {
		assert.Equal(t, tt.wanted, headerProblem(tt.c, tt.a), tt.name)
	}
}

func TestPercentile(t *testing.T) {
	var hundred []time.Duration
	for i := 1; i <= 100; i++ {
		hundred = append(hundred, time.Duration(i))
	}
	assert.Equal(t, time.Duration(0), percentile(nil, 50))
	assert.Equal(t, time.Duration(50), percentile(hundred, 50))
	assert.Equal(t, time.Duration(99), percentile(hundred, 99))
	assert.Equal(t, time.Duration(3), percentile([]time.Duration{1, 2, 3}, 99))
}

func TestRing(t *testing.T) {
	r := ring{max: 3}
	for _, s := range []string{"a", "b", "c", "d", "e"} {
		r.add(s)
	}
	assert.ElementsMatch(t, []string{"c", "d", "e"}, r.s)
}
