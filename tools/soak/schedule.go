package main

import "time"

// schedule is when things happen in a run, as offsets from the start of
// the workload.
type schedule struct {
	WarmUp    time.Duration // the first readings of RSS and goroutines
	Publish   time.Duration // the new Cognito key joins the JWKS, beside the old
	Sign      time.Duration // the users' new tokens are signed with it
	Drop      time.Duration // the old key leaves the JWKS
	RedisStop time.Duration // Redis gets SIGTERM
	RedisDown time.Duration // how long it stays down once it has exited
	End       time.Duration // the workload stops
}

// newSchedule spreads a run of d: a warm-up of 15% (at least 3 s), the
// rotation from 25% to 50%, the Redis restart at 60%, down for 5% of d (2
// to 10 s), and at least a quarter of the run after it to see the
// recovery hold.
func newSchedule(d time.Duration) schedule {
	at := func(pct int64) time.Duration { return d * time.Duration(pct) / 100 }
	return schedule{
		WarmUp:    max(at(15), 3*time.Second),
		Publish:   at(25),
		Sign:      at(35),
		Drop:      at(50),
		RedisStop: at(60),
		RedisDown: min(max(at(5), 2*time.Second), 10*time.Second),
		End:       d,
	}
}

// Graces after a fault during which its window stays open.
const (
	// recoveryGrace follows Redis's first PONG after the restart: the
	// clients of ssoserver and lobapp reconnect on their next command.
	recoveryGrace = 2 * time.Second
	// rotationGrace follows the first JWKS fetch that gave ssoserver the
	// new key (or took the old one away): calls that were waiting for
	// that fetch end within it.
	rotationGrace = time.Second
	// refetchInterval is ssoserver's least time between two JWKS fetches
	// caused by unknown kids (cognito.DefaultRefetchInterval): a new key
	// must be in use at most that long after its first token.
	refetchInterval = 10 * time.Second
)

// events is what happened when, as observed: the schedule's times, and
// those only the run tells (Redis exited, answered again).
type events struct {
	Publish, Sign, Drop time.Duration
	OldKID, NewKID      string

	RedisStop, RedisExited, RedisStarted, RedisReady time.Duration
	RedisRestarted                                   bool // started again and answered

	Fetches []jwksFetch // every JWKS fetch the Cognito stand-in served
	End     time.Duration
}

// jwksFetch is one JWKS fetch: when it was answered and the kids it held.
type jwksFetch struct {
	At   time.Duration
	KIDs []string
}

// firstFetch returns the time of the first fetch at or after from whose
// kids satisfy ok, and whether there was one.
func (e *events) firstFetch(from time.Duration, ok func(kids []string) bool) (time.Duration, bool) {
	for _, f := range e.Fetches {
		if f.At >= from && ok(f.KIDs) {
			return f.At, true
		}
	}
	return 0, false
}
