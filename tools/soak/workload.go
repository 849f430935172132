package main

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"

	"github.com/ssokit/ssokit/cognito/cognitotest"
	"github.com/ssokit/ssokit/cookiesso"
	"github.com/ssokit/ssokit/cookiesso/cookiessotest"
	"github.com/ssokit/ssokit/ssotoken"
)

// What a worker does in a round, by weight: a journey is four requests
// (GenerateSSOToken, the redemption, the replay at another lobapp, the
// session at a third), an exchange two (the cookie exchange, user.json), a
// late replay one, a malformed round one (two for redeem-wrong-lob, which
// asks for a LOBId 01 token first). With these weights about 10% of the
// requests are malformed or forged.
const (
	weightJourney    = 50
	weightExchange   = 20
	weightLateReplay = 6
	weightMalformed  = 27
	totalWeight      = weightJourney + weightExchange + weightLateReplay + weightMalformed
)

// requestsPerRound is the mean number of requests of a round.
func requestsPerRound() float64 {
	malformed := 1 + 1/float64(len(malformedClasses)) // redeem-wrong-lob's GenerateSSOToken
	return (weightJourney*4 + weightExchange*2 + weightLateReplay + weightMalformed*malformed) / totalWeight
}

// issuesPerRound is the mean number of GenerateSSOToken calls of a round
// that reach the issuing limit: the journey's, and the malformed rounds
// of redeem-wrong-lob and gen-dropped-key (the others are refused before).
func issuesPerRound() float64 {
	return (weightJourney + weightMalformed*2/float64(len(malformedClasses))) / totalWeight
}

// ssoserver's issuing limit, which run passes explicitly: its defaults.
const (
	issueRate  = 60 // a minute, per user
	issueBurst = 20
)

// userIssueRate is how many TokenNo a minute the workload of cfg asks for
// each user: its users take turns, so each gets an even share.
func userIssueRate(cfg config) float64 {
	return cfg.Rate / requestsPerRound() * issuesPerRound() * 60 / float64(cfg.Users)
}

// The registration of the workload's x-lob-client-id, and the LOBs.
const (
	lobClientID = "1RrLMyLrZGA="
	lobXX       = "XX" // the lobapps'
	lob01       = "01" // registered too, but no lobapp's
	apiVersion  = "1.0.0"
)

// cookieSSOPath is the cookie exchange's route (httpadapter.CookieSSOPath,
// which this module does not import: it would bring in rs/cors).
const cookieSSOPath = "/services/v2/auth/cookiesso/token.json"

// user is a signed-in user: a Cognito subject and username, the CIINo
// its tokens carry, its access token (re-minted when the signing key
// changes; the previous one kept for gen-dropped-key) and its SSO cookie.
// A user belongs to one worker.
type user struct {
	sub, name, ciino string
	token, tokenKID  string
	oldToken         string
	cookie           string
}

// newUsers returns n users.
func newUsers(n int) []*user {
	us := make([]*user, n)
	for i := range us {
		us[i] = &user{
			sub:   fmt.Sprintf("50a4c0de-0000-4000-8000-%012d", i),
			name:  fmt.Sprintf("soak%06d", i),
			ciino: fmt.Sprintf("2%08d", i),
		}
	}
	return us
}

// secrets are the run's configuration secrets, all different, each 52
// random characters.
type secrets struct {
	SSO, Cookie, API, Session string
}

func newSecrets() secrets {
	r := func() string { return rand.Text() + rand.Text() }
	return secrets{SSO: r(), Cookie: r(), API: r(), Session: r()}
}

// target is a process the workload sends to.
type target struct {
	name, base string
}

// workload is the clients of a run.
type workload struct {
	cfg     config
	now     func() time.Duration // the run's clock
	hc      *http.Client
	tr      *http.Transport
	limiter *rate.Limiter
	ctx     context.Context // the run's: every request
	stop    context.Context // the workload's: ends the rounds (the limiter's waits)
	halt    context.CancelFunc
	gate    sync.RWMutex // a round reads; pause writes
	wg      sync.WaitGroup

	sso  target
	lobs []target
	cog  *cognitoStandIn

	cookies       *cookiessotest.Signer // the main site's: the SSO cookies
	forger        *cookiessotest.Signer // another secret: forged cookies, API JWTs and sessions
	forgedTokenNo *ssotoken.Signer      // another secret
	expiredToken  *ssotoken.Signer      // the right secret, two hours behind

	users  []*user
	rec    *recorder
	ledger *ledger
	creds  *credentials

	dropped atomic.Bool // the old key has left the JWKS

	mu           sync.Mutex
	firstErr     error
	redeemed     ring     // TokenNo accepted, for late replays
	retry        []string // TokenNo whose redemption failed 5xx, to present again after the outage
	afterRestart []string // TokenNo accepted before the Redis restart, to present after it
	afterFrom    time.Duration
}

// workloadConfig is what startWorkload needs besides cfg.
type workloadConfig struct {
	ctx     context.Context
	now     func() time.Duration
	seed    int64
	sso     target
	lobs    []target
	cog     *cognitoStandIn
	secrets secrets
	rec     *recorder
	ledger  *ledger
	creds   *credentials
}

// startWorkload makes the workload of cfg and starts its workers.
func startWorkload(cfg config, wc workloadConfig) (*workload, error) {
	cookies, err := cookiessotest.NewSigner(cookiessotest.Secret([]byte(wc.secrets.Cookie)))
	if err != nil {
		return nil, err
	}
	forger, err := cookiessotest.NewSigner()
	if err != nil {
		return nil, err
	}
	forgedTokenNo, err := hmacSigner(rand.Text()+rand.Text(), time.Now)
	if err != nil {
		return nil, err
	}
	expiredToken, err := hmacSigner(wc.secrets.SSO, func() time.Time { return time.Now().Add(-2 * time.Hour) })
	if err != nil {
		return nil, err
	}
	tr := &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        cfg.Workers * (len(wc.lobs) + 1),
		MaxIdleConnsPerHost: cfg.Workers,
		IdleConnTimeout:     30 * time.Second,
		DisableCompression:  true,
	}
	stop, halt := context.WithCancel(wc.ctx)
	w := &workload{
		cfg: cfg, now: wc.now, tr: tr, ctx: wc.ctx, stop: stop, halt: halt,
		hc: &http.Client{Transport: tr, Timeout: cfg.ReqTimeout,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }},
		limiter: rate.NewLimiter(rate.Limit(cfg.Rate), cfg.Workers),
		sso:     wc.sso, lobs: wc.lobs, cog: wc.cog,
		cookies: cookies, forger: forger, forgedTokenNo: forgedTokenNo, expiredToken: expiredToken,
		users: newUsers(cfg.Users), rec: wc.rec, ledger: wc.ledger, creds: wc.creds,
		redeemed: ring{max: redeemedKept},
	}
	for i := range cfg.Workers {
		k := &worker{w: w, rng: mrand.New(mrand.NewPCG(uint64(wc.seed), uint64(i)))}
		for j := i; j < len(w.users); j += cfg.Workers {
			k.users = append(k.users, w.users[j])
		}
		w.wg.Go(k.loop)
	}
	return w, nil
}

// hmacSigner is an HS256 TokenNo signer of secret on the clock now.
func hmacSigner(secret string, now func() time.Time) (*ssotoken.Signer, error) {
	key, err := ssotoken.NewHMACKey("", []byte(secret))
	if err != nil {
		return nil, err
	}
	ring, err := ssotoken.NewKeyring(key)
	if err != nil {
		return nil, err
	}
	return ssotoken.NewSigner(ssotoken.SignerConfig{Keys: ring, Now: now})
}

// redeemedKept bounds the TokenNo kept for late replays.
const redeemedKept = 4096

// ring keeps the last max strings added.
type ring struct {
	max  int
	next int
	s    []string
}

func (r *ring) add(s string) {
	if len(r.s) < r.max {
		r.s = append(r.s, s)
		return
	}
	r.s[r.next] = s
	r.next = (r.next + 1) % r.max
}

// pause stops new rounds once those under way have ended, and returns the
// func that resumes them.
func (w *workload) pause() (resume func()) {
	w.gate.Lock()
	return w.gate.Unlock
}

// closeIdle closes the clients' idle connections.
func (w *workload) closeIdle() { w.tr.CloseIdleConnections() }

// finish ends the workload: no round starts, the requests in flight end,
// and the workers return.
func (w *workload) finish() {
	w.halt()
	w.wg.Wait()
	w.closeIdle()
}

// err returns the first internal error of a worker (a token that could not
// be minted), which ends the workload.
func (w *workload) err() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.firstErr
}

func (w *workload) fail(err error) {
	w.mu.Lock()
	if w.firstErr == nil {
		w.firstErr = err
	}
	w.mu.Unlock()
	w.halt()
}

// setDropped lets gen-dropped-key rounds start.
func (w *workload) setDropped() { w.dropped.Store(true) }

// snapshotForRestart keeps up to n TokenNo accepted so far, to present
// again after the Redis restart.
func (w *workload) snapshotForRestart(n int) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	k := min(n, len(w.redeemed.s))
	w.afterRestart = append([]string(nil), w.redeemed.s[len(w.redeemed.s)-k:]...)
	return k
}

// releaseAfterRestart lets the replays after the restart and the retries
// of failed redemptions start at from.
func (w *workload) releaseAfterRestart(from time.Duration) {
	w.mu.Lock()
	w.afterFrom = from
	w.mu.Unlock()
}

// worker is one client: its users, taken in turn, and its random choices.
type worker struct {
	w     *workload
	rng   *mrand.Rand
	users []*user
	next  int
}

func (k *worker) loop() {
	for k.w.stop.Err() == nil {
		k.w.gate.RLock()
		k.round()
		k.w.gate.RUnlock()
	}
}

// nextUser returns the worker's next user, in turn: a user's calls are a
// whole round of its worker's users apart.
func (k *worker) nextUser() *user {
	u := k.users[k.next]
	k.next = (k.next + 1) % len(k.users)
	return u
}

// round does one thing: first, once released, half the time a retry of
// a redemption that failed in the outage or a replay of a TokenNo
// accepted before the restart; else a weighted pick.
func (k *worker) round() {
	if c, tok, ok := k.w.takeAfterRestart(k.rng); ok {
		k.redeem(c, k.rng.IntN(len(k.w.lobs)), tok, "")
		return
	}
	switch n := k.rng.IntN(totalWeight); {
	case n < weightJourney:
		k.journey(k.nextUser())
	case n < weightJourney+weightExchange:
		k.exchange(k.nextUser())
	case n < weightJourney+weightExchange+weightLateReplay:
		k.lateReplay()
	default:
		k.malformed(k.nextUser())
	}
}

// takeAfterRestart returns a TokenNo to present again after the restart
// and its class, half the time once released and while there are any.
func (w *workload) takeAfterRestart(rng *mrand.Rand) (classID, string, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.afterFrom == 0 || w.now() < w.afterFrom || len(w.retry)+len(w.afterRestart) == 0 || rng.IntN(2) == 0 {
		return 0, "", false
	}
	if n := len(w.retry); n > 0 {
		tok := w.retry[n-1]
		w.retry = w.retry[:n-1]
		return clsRetryAfter, tok, true
	}
	n := len(w.afterRestart)
	tok := w.afterRestart[n-1]
	w.afterRestart = w.afterRestart[:n-1]
	return clsReplayAfter, tok, true
}

// journey: a TokenNo for u, redeemed at one lobapp, replayed at another,
// and the session shown at a third.
func (k *worker) journey(u *user) {
	tok, ok := k.generate(clsGenerate, u, lobXX)
	if !ok {
		return
	}
	n := len(k.w.lobs)
	a := k.rng.IntN(n)
	status, session := k.redeem(clsRedeem, a, tok, u.ciino)
	switch {
	case status == http.StatusOK:
		k.w.mu.Lock()
		k.w.redeemed.add(tok)
		k.w.mu.Unlock()
	case status >= 500:
		k.w.mu.Lock()
		k.w.retry = append(k.w.retry, tok)
		k.w.mu.Unlock()
		return
	default:
		return
	}
	b := (a + 1 + k.rng.IntN(n-1)) % n
	k.redeem(clsReplay, b, tok, "")
	c := (a + 1 + k.rng.IntN(n-1)) % n
	if n > 2 {
		for c == b {
			c = (a + 1 + k.rng.IntN(n-1)) % n
		}
	}
	k.session(clsSession, c, session, u.ciino)
}

// exchange: u's SSO cookie for a JWT, then user.json with it.
func (k *worker) exchange(u *user) {
	if u.cookie == "" {
		v, err := k.w.cookies.Sign(k.w.cookies.Claims(u.sub, cookiesso.DefaultRole))
		if err != nil {
			k.w.fail(err)
			return
		}
		u.cookie = v
		k.w.creds.add(credSSOCookie, v)
	}
	a, ok := k.w.send(k.w.exchangeRequest(u.cookie))
	if !ok {
		return
	}
	problem := ""
	if a.status == http.StatusOK {
		if strings.Count(a.env.JWT, ".") != 2 {
			problem = "200 without a JWT"
		} else {
			k.w.creds.add(credExchangedJWT, a.env.JWT)
		}
	}
	k.w.record(clsExchange, k.w.sso, a, problem)
	if problem != "" || a.status != http.StatusOK {
		return
	}
	k.userJSON(clsUserJSON, a.env.JWT, u.sub)
}

// userJSON calls user.json with jwt as class c; a 200 must name sub
// (when given) with the Use API role.
func (k *worker) userJSON(c classID, jwt, sub string) {
	req := k.w.request(http.MethodGet, k.w.sso.base+"/services/v2/user.json", nil)
	req.Header.Set("Authorization", "Bearer "+jwt)
	a, ok := k.w.send(req)
	if !ok {
		return
	}
	problem := ""
	if a.status == http.StatusOK && (a.env.Username != sub || !containsString(a.env.Roles, cookiesso.DefaultRole)) {
		problem = "200 without the user's name and role"
	}
	k.w.record(c, k.w.sso, a, problem)
}

// lateReplay presents a TokenNo accepted earlier at any lobapp.
func (k *worker) lateReplay() {
	k.w.mu.Lock()
	var tok string
	if n := len(k.w.redeemed.s); n > 0 {
		tok = k.w.redeemed.s[k.rng.IntN(n)]
	}
	k.w.mu.Unlock()
	if tok == "" {
		return
	}
	k.redeem(clsLateReplay, k.rng.IntN(len(k.w.lobs)), tok, "")
}

// accessToken returns u's access token, minted again when the signing
// key has changed since.
func (k *worker) accessToken(u *user) (string, bool) {
	kid, _ := k.w.cog.keys()
	if u.token == "" || u.tokenKID != kid {
		tok, err := k.w.cog.accessToken(u, kid)
		if err != nil {
			k.w.fail(err)
			return "", false
		}
		if u.token != "" {
			u.oldToken = u.token
		}
		u.token, u.tokenKID = tok, kid
		k.w.creds.add(credAccessToken, tok)
	}
	return u.token, true
}

// generate asks for a TokenNo for u and lob as class c, and returns it.
func (k *worker) generate(c classID, u *user, lob string) (string, bool) {
	tok, ok := k.accessToken(u)
	if !ok {
		return "", false
	}
	return k.generateWith(c, tok, requestBody(u.ciino, lob))
}

// requestBody is GenerateSSOToken's body.
func requestBody(ciino, lob string) string {
	return fmt.Sprintf(`{"CIINo":%q,"LOBId":%q,"Functionality":"D"}`, ciino, lob)
}

// generateWith calls GenerateSSOToken with access token tok and body as
// class c, and returns the TokenNo of a 200, if new.
func (k *worker) generateWith(c classID, tok, body string) (string, bool) {
	w := k.w
	req := w.request(http.MethodPost, w.sso.base+"/v2/get_sso_token", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("X-Api-Version", apiVersion)
	req.Header.Set("X-Lob-Client-Id", lobClientID)
	req.Header.Set("Content-Type", "application/json")
	a, ok := w.send(req)
	if !ok {
		return "", false
	}
	problem, tokenNo, fresh := "", "", false
	if a.status == http.StatusOK {
		e := a.env
		if e.ReturnCode == nil || *e.ReturnCode != ssotoken.ReturnCodeSuccess || strings.Count(e.TokenNo, ".") != 2 || e.TokenRefNo == "" {
			problem = "200 without ReturnCode 1, a TokenNo and a TokenRefNo"
		} else {
			w.creds.add(credTokenNo, e.TokenNo)
			tokenNo, fresh = e.TokenNo, w.ledger.issue(e.TokenNo, e.TokenRefNo)
		}
	}
	w.record(c, w.sso, a, problem)
	return tokenNo, fresh
}

// redeem presents tokenNo at lobapp i as class c, records the answer, and
// returns its status (-1: not sent) and the session cookie of a 200, which
// must name ciino when it is given.
func (k *worker) redeem(c classID, i int, tokenNo, ciino string) (int, string) {
	return k.redeemForm(c, i, "TokenNo="+url.QueryEscape(tokenNo), tokenNo, ciino)
}

// redeemForm posts form to lobapp i's /sso as class c (tokenNo is the
// token it holds, for the ledger).
func (k *worker) redeemForm(c classID, i int, form, tokenNo, ciino string) (int, string) {
	w, t := k.w, k.w.lobs[i]
	req := w.request(http.MethodPost, t.base+"/sso", strings.NewReader(form))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	a, ok := w.send(req)
	if !ok {
		return -1, ""
	}
	problem, session := "", ""
	if a.status == http.StatusOK {
		w.ledger.accept(tokenNo, t.name, a.end)
		for _, ck := range (&http.Response{Header: a.header}).Cookies() {
			if ck.Name == "lob_session" {
				session = ck.Value
			}
		}
		switch {
		case session == "":
			problem = "200 without a lob_session cookie"
		case a.env.ReturnCode == nil || *a.env.ReturnCode != ssotoken.ReturnCodeSuccess || ciino != "" && a.env.CIINo != ciino:
			problem = "200 without ReturnCode 1 and the user's CIINo"
		}
		if session != "" {
			w.creds.add(credSessionCookie, session)
		}
	}
	w.record(c, t, a, problem)
	return a.status, session
}

// session shows lobapp i's welcome page with the session cookie as class
// c; a 200 must name ciino.
func (k *worker) session(c classID, i int, cookie, ciino string) {
	w, t := k.w, k.w.lobs[i]
	req := w.request(http.MethodGet, t.base+"/", nil)
	req.Header.Set("Accept", "text/html")
	req.AddCookie(&http.Cookie{Name: "lob_session", Value: cookie})
	a, ok := w.send(req)
	if !ok {
		return
	}
	problem := ""
	if a.status == http.StatusOK && !strings.Contains(string(a.body), "CIINo "+ciino) {
		problem = "welcome page without the user's CIINo"
	}
	w.record(c, t, a, problem)
}

// malformed sends one malformed or forged request, of a class picked
// evenly.
func (k *worker) malformed(u *user) {
	w := k.w
	c := malformedClasses[k.rng.IntN(len(malformedClasses))]
	if c == clsGenDroppedKey && !w.dropped.Load() {
		c = clsGenOtherPool
	}
	switch c {
	case clsGenBadJSON:
		if tok, ok := k.accessToken(u); ok {
			k.generateWith(c, tok, `{"CIINo":"`+u.ciino+`","LOBId":`)
		}
	case clsGenBadSignature:
		v := k.users[(k.next+len(k.users)/2)%len(k.users)] // another user of this worker
		tok, ok1 := k.accessToken(u)
		other, ok2 := k.accessToken(v)
		if ok1 && ok2 {
			k.generateWith(c, signingInput(tok)+"."+signature(other), requestBody(u.ciino, lobXX))
		}
	case clsGenAlgNone:
		if tok, ok := k.accessToken(u); ok {
			kid, _ := w.cog.keys()
			header := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","kid":"` + kid + `"}`))
			k.generateWith(c, header+"."+payload(tok)+".", requestBody(u.ciino, lobXX))
		}
	case clsGenExpired:
		now := time.Now()
		tok, err := w.cog.accessToken(u, "", cognitotest.With("iat", now.Add(-2*time.Hour)),
			cognitotest.With("auth_time", now.Add(-2*time.Hour)), cognitotest.With("exp", now.Add(-time.Hour)))
		if err != nil {
			w.fail(err)
			return
		}
		w.creds.add(credAccessToken, tok)
		k.generateWith(c, tok, requestBody(u.ciino, lobXX))
	case clsGenOtherPool:
		tok, err := w.cog.otherPoolToken(u)
		if err != nil {
			w.fail(err)
			return
		}
		w.creds.add(credOtherPool, tok)
		k.generateWith(c, tok, requestBody(u.ciino, lobXX))
	case clsGenCIINoMismatch:
		if tok, ok := k.accessToken(u); ok {
			k.generateWith(c, tok, requestBody(k.nextUser().ciino, lobXX))
		}
	case clsGenOversized:
		if tok, ok := k.accessToken(u); ok {
			k.generateWith(c, tok, fmt.Sprintf(`{"CIINo":%q,"LOBId":"XX","Functionality":"D","Padding":%q}`, u.ciino, strings.Repeat("x", 9<<10)))
		}
	case clsGenDroppedKey:
		k.droppedKey(u)
	case clsExchangeGarbage:
		k.exchangeWith(c, "not-a-jwt")
	case clsExchangeForged:
		k.exchangeWith(c, k.forge(credForged, w.forger.Claims(u.sub, cookiesso.DefaultRole)))
	case clsExchangeExpired:
		claims := w.cookies.Claims(u.sub, cookiesso.DefaultRole)
		claims["iat"], claims["exp"] = time.Now().Add(-9*time.Hour).Unix(), time.Now().Add(-time.Hour).Unix()
		v, err := w.cookies.Sign(claims)
		if err != nil {
			w.fail(err)
			return
		}
		w.creds.add(credSSOCookie, v)
		k.exchangeWith(c, v)
	case clsUserJSONForged:
		k.userJSON(c, k.forge(credForged, w.forger.Claims(u.sub, cookiesso.DefaultRole)), "")
	case clsRedeemForged, clsRedeemExpired:
		signer := w.forgedTokenNo
		if c == clsRedeemExpired {
			signer = w.expiredToken
		}
		res, err := signer.Issue(w.ctx, ssotoken.Request{CIINo: u.ciino, LOBId: lobXX, Functionality: "D"})
		if err != nil {
			w.fail(err)
			return
		}
		w.creds.add(credForged, res.TokenNo)
		k.redeem(c, k.rng.IntN(len(w.lobs)), res.TokenNo, "")
	case clsRedeemGarbage:
		k.redeem(c, k.rng.IntN(len(w.lobs)), "not-a-token", "")
	case clsRedeemOversized:
		k.redeemForm(c, k.rng.IntN(len(w.lobs)), "TokenNo="+strings.Repeat("a", 17<<10), "", "")
	case clsRedeemWrongLOB:
		if tok, ok := k.generate(clsGenerateLOB01, u, lob01); ok {
			k.redeem(c, k.rng.IntN(len(w.lobs)), tok, "")
		}
	case clsSessionForged:
		now := time.Now()
		iss := "urn:ssokit:lobapp:" + lobXX
		v := k.forge(credForged, map[string]any{"CIINo": u.ciino, "LOBId": lobXX, "Functionality": "D",
			"iss": iss, "aud": iss + ":session", "iat": now.Unix(), "exp": now.Add(time.Hour).Unix()})
		k.session(c, k.rng.IntN(len(w.lobs)), v, u.ciino)
	}
}

// droppedKey calls GenerateSSOToken with u's token of the dropped key
// (minted now if u had none).
func (k *worker) droppedKey(u *user) {
	tok := u.oldToken
	if tok == "" {
		_, old := k.w.cog.keys()
		var err error
		if tok, err = k.w.cog.accessToken(u, old); err != nil {
			k.w.fail(err)
			return
		}
		k.w.creds.add(credAccessToken, tok)
		u.oldToken = tok
	}
	k.generateWith(clsGenDroppedKey, tok, requestBody(u.ciino, lobXX))
}

// forge signs claims with the forger's secret, and records the result as
// a credential of kind.
func (k *worker) forge(kind credKind, claims map[string]any) string {
	v, err := k.w.forger.Sign(claims)
	if err != nil {
		k.w.fail(err)
		return "x.y.z"
	}
	k.w.creds.add(kind, v)
	return v
}

// exchangeWith sends the cookie exchange with cookie value v as class c.
func (k *worker) exchangeWith(c classID, v string) {
	if a, ok := k.w.send(k.w.exchangeRequest(v)); ok {
		k.w.record(c, k.w.sso, a, "")
	}
}

func (w *workload) exchangeRequest(cookie string) *http.Request {
	req := w.request(http.MethodPost, w.sso.base+cookieSSOPath, nil)
	req.Header.Set("Accept", "application/json")
	req.AddCookie(&http.Cookie{Name: cookiesso.DefaultCookieName, Value: cookie})
	return req
}

// signingInput, payload and signature cut a JWT.
func signingInput(jwt string) string {
	i := strings.LastIndexByte(jwt, '.')
	return jwt[:max(i, 0)]
}

func payload(jwt string) string {
	parts := strings.SplitN(jwt, ".", 3)
	if len(parts) < 2 {
		return ""
	}
	return parts[1]
}

func signature(jwt string) string {
	return jwt[strings.LastIndexByte(jwt, '.')+1:]
}

func containsString(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// request makes a request under the run's context.
func (w *workload) request(method, url string, body io.Reader) *http.Request {
	req, err := http.NewRequestWithContext(w.ctx, method, url, body)
	if err != nil {
		panic(err) // the URLs are the servers' own
	}
	return req
}

// answer is what one request got.
type answer struct {
	status     int
	header     http.Header
	body       []byte
	env        envelope // the JSON body, when it is JSON
	err        error    // no answer
	bad        string   // an answer that is not what its Content-Type says
	start, end time.Duration
}

// envelope is every member of the JSON answers the workload reads.
type envelope struct {
	ReturnCode *int     `json:"ReturnCode"`
	ErrorCode  string   `json:"ErrorCode"`
	TokenNo    string   `json:"TokenNo"`
	TokenRefNo string   `json:"TokenRefNo"`
	CIINo      string   `json:"CIINo"`
	JWT        string   `json:"jwt"`
	Username   string   `json:"username"`
	Roles      []string `json:"roles"`
}

// maxAnswer bounds an answer's body.
const maxAnswer = 64 << 10

// send waits for the rate limiter, then sends req and reads the answer.
// It returns false, and nothing is recorded, when the workload stops
// before the request is sent or the run is interrupted during it.
func (w *workload) send(req *http.Request) (answer, bool) {
	if err := w.limiter.Wait(w.stop); err != nil {
		return answer{}, false
	}
	a := answer{start: w.now()}
	res, err := w.hc.Do(req)
	if err == nil {
		a.status, a.header = res.StatusCode, res.Header
		a.body, err = io.ReadAll(io.LimitReader(res.Body, maxAnswer))
		res.Body.Close()
	}
	a.end = w.now()
	if w.ctx.Err() != nil {
		return a, false
	}
	if err != nil {
		a.err = err
		return a, true
	}
	if mt, _, _ := mime.ParseMediaType(a.header.Get("Content-Type")); mt == "application/json" {
		if jerr := json.Unmarshal(a.body, &a.env); jerr != nil {
			a.bad = "a JSON body that does not parse: " + jerr.Error()
		}
	}
	return a, true
}

// record records a's outcome as class c at t, with problem when the
// answer's status was right but the answer was not.
func (w *workload) record(c classID, t target, a answer, problem string) {
	o := outcome{Class: c, Target: t.name, Start: a.start, End: a.end, Status: a.status, Code: a.env.ErrorCode,
		Problem: cmp.Or(problem, a.bad, headerProblem(c, a))}
	if a.err != nil {
		o.Status, o.Code, o.Problem = 0, "", errorText(a.err)
	}
	w.rec.add(o)
}

// headerProblem checks the headers README promises for every answer of
// the library's handlers (all but lobapp's own welcome page): Cache-Control
// no-store, and on a 401 a WWW-Authenticate Bearer challenge.
func headerProblem(c classID, a answer) string {
	if a.err != nil || c == clsSession || c == clsSessionForged {
		return ""
	}
	switch {
	case !strings.Contains(a.header.Get("Cache-Control"), "no-store"):
		return "no Cache-Control: no-store"
	case a.status == http.StatusUnauthorized && !strings.HasPrefix(a.header.Get("WWW-Authenticate"), "Bearer"):
		return "a 401 without WWW-Authenticate: Bearer"
	}
	return ""
}

// errorText is err without the request's URL.
func errorText(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Op + ": " + ue.Err.Error()
	}
	return err.Error()
}
