package main

import (
	"fmt"
	"slices"
	"time"
)

// A fault is what a window stands for; a class may be allowed answers in
// the window of a fault that it would not get otherwise (class.allow).
type fault uint8

const (
	faultRedis    fault = iota + 1 // Redis is down, or was a moment ago
	faultRotation                  // the new Cognito key signs, ssoserver may not have it yet
	faultDrop                      // the old key left the JWKS, ssoserver may still hold it
)

// window is one fault's declared time span, its grace included: a request
// whose span meets it may get the answers its class allows for the fault.
type window struct {
	Fault      fault
	Name       string
	Start, End time.Duration
	Detail     string // how its ends were fixed
}

func (w window) overlaps(start, end time.Duration) bool {
	return start <= w.End && end >= w.Start
}

// windows derives the fault windows of a run from what happened:
//
//   - redis-restart: from the SIGTERM to the first PONG after the restart,
//     plus recoveryGrace; to the end of the run if Redis never answered
//     again;
//   - jwks-rotation: from the first token signed with the new key to the
//     first JWKS fetch that gave ssoserver that key, plus rotationGrace;
//     empty when that fetch came before the signing (the key was
//     published ahead and fetched); to the end if it never came;
//   - jwks-drop: from the drop of the old key to the first fetch without
//     it, plus rotationGrace; to the end if none came (ssoserver then
//     rightly still holds it until its hourly refresh).
func windows(e *events) []window {
	var ws []window
	if e.RedisStop > 0 {
		w := window{Fault: faultRedis, Name: "redis-restart", Start: e.RedisStop, End: e.End,
			Detail: "Redis never answered again"}
		if e.RedisRestarted {
			w.End = e.RedisReady + recoveryGrace
			w.Detail = fmt.Sprintf("SIGTERM at %s, exited at %s, started at %s, answered at %s, + %s grace",
				secs(e.RedisStop), secs(e.RedisExited), secs(e.RedisStarted), secs(e.RedisReady), secs(recoveryGrace))
		}
		ws = append(ws, w)
	}
	if e.Sign > 0 {
		has := func(kids []string) bool { return slices.Contains(kids, e.NewKID) }
		w := window{Fault: faultRotation, Name: "jwks-rotation", Start: e.Sign, End: e.End,
			Detail: fmt.Sprintf("published at %s, signing from %s; ssoserver never fetched the new key", secs(e.Publish), secs(e.Sign))}
		if at, ok := e.firstFetch(e.Publish, has); ok {
			w.End = max(at+rotationGrace, e.Sign)
			w.Detail = fmt.Sprintf("published at %s, signing from %s, first fetched by ssoserver at %s, + %s grace",
				secs(e.Publish), secs(e.Sign), secs(at), secs(rotationGrace))
			if at+rotationGrace <= e.Sign {
				w.End = e.Sign // empty: the key was there before its first token
				w.Detail = fmt.Sprintf("published at %s and fetched by ssoserver at %s, before signing from %s: no window",
					secs(e.Publish), secs(at), secs(e.Sign))
			}
		}
		ws = append(ws, w)
	}
	if e.Drop > 0 {
		lacks := func(kids []string) bool { return !slices.Contains(kids, e.OldKID) }
		w := window{Fault: faultDrop, Name: "jwks-drop", Start: e.Drop, End: e.End,
			Detail: fmt.Sprintf("old key dropped at %s; ssoserver did not fetch the JWKS again (it keeps the key until its hourly refresh)", secs(e.Drop))}
		if at, ok := e.firstFetch(e.Drop, lacks); ok {
			w.End = at + rotationGrace
			w.Detail = fmt.Sprintf("old key dropped at %s, first fetch without it at %s, + %s grace", secs(e.Drop), secs(at), secs(rotationGrace))
		}
		ws = append(ws, w)
	}
	return ws
}

// want is an answer a class expects: a status and, unless empty, the
// envelope's ErrorCode.
type want struct {
	Status int
	Code   string
}

func (w want) matches(status int, code string) bool {
	return w.Status == status && (w.Code == "" || w.Code == code)
}

func (w want) String() string {
	if w.Code == "" {
		return fmt.Sprint(w.Status)
	}
	return fmt.Sprintf("%d %s", w.Status, w.Code)
}

// verdict is how one outcome is judged.
type verdict struct {
	Expected  bool  // its answer is one its class expects, always or in a window it meets
	Windows   []int // the windows (indices) its span meets
	InWindow  bool  // expected only because of a window
	AllowedBy int   // with InWindow, that window
}

// judge judges outcome o of class c against the windows ws.
func judge(c *class, o *outcome, ws []window) verdict {
	var v verdict
	for i, w := range ws {
		if w.overlaps(o.Start, o.End) {
			v.Windows = append(v.Windows, i)
		}
	}
	if o.Problem != "" || o.Status == 0 {
		return v // a wrong answer, or none at all
	}
	for _, w := range c.ok {
		if w.matches(o.Status, o.Code) {
			v.Expected = true
			return v
		}
	}
	for _, i := range v.Windows {
		for _, w := range c.allow[ws[i].Fault] {
			if w.matches(o.Status, o.Code) {
				v.Expected, v.InWindow, v.AllowedBy = true, true, i
				return v
			}
		}
	}
	return v
}

// secs formats d as seconds with a tenth: "12.3s".
func secs(d time.Duration) string {
	return fmt.Sprintf("%.1fs", d.Seconds())
}
