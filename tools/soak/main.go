// Command soak runs a mixed workload against real processes for a bounded
// time, injects two faults, and exits non-zero when any promise of the
// README's "Operating it" and "Deployment" sections breaks. From the
// repository's root:
//
//	go -C tools run ./soak                  # one minute
//	go -C tools run ./soak -duration 10m    # the figures README quotes
//
// It builds examples/ssoserver and examples/lobapp of the checkout it
// finds (or takes -ssoserver and -lobapp binaries) and starts, on
// 127.0.0.1 ports of their own:
//
//   - a private redis-server in a temporary directory, with appendonly yes,
//     appendfsync always and maxmemory-policy noeviction, so that a restart
//     keeps every redeemed id;
//   - a Cognito user pool, served by this process (cognitotest), with a
//     second pool that ssoserver does not trust;
//   - ssoserver in real mode against that pool (-cognito-issuer,
//     -cognito-jwks-url, -cognito-client-id, -ciino-claim custom:ciino, one
//     -lob-client), with the cookie exchange on (COOKIE_SECRET and
//     API_SECRET) and its issuing limit in the same Redis
//     (-issue-limit-redis) at its defaults, 60 a minute and 20 at once per
//     user: the workload spreads over -users distinct users (subjects and
//     CIINos), so that no user comes near it and no 429 is expected;
//   - three lobapp instances (-lobapps) that share single use through that
//     Redis (-redis-addr) and sessions through one -session-key.
//
// Secrets travel in the environment, never on a command line. -workers
// clients share -rate requests a second. Each round a worker picks one of:
// a journey (GenerateSSOToken for one of its users, the TokenNo redeemed at
// one lobapp, replayed at another, which must refuse it 401
// token_replayed, and the session cookie shown at a third); a cookie
// exchange and a user.json call with the JWT it returned; a replay of a
// TokenNo redeemed earlier; or, for about a tenth of the requests, a
// malformed or forged input, each expecting its documented 4xx (see
// classes.go).
//
// Two faults happen at fixed fractions of -duration (schedule.go): the
// Cognito key rotates (the new key is published beside the old, then signs
// the users' new tokens, then the old key leaves the JWKS), and Redis
// restarts (SIGTERM, down for a few seconds, started again on the same
// directory and port). Each fault has a declared window inside which some
// classes may get some answers (windows.go): during the outage, and for
// recoveryGrace after Redis answers again, GenerateSSOToken and
// redemptions fail closed with 502 or 504 (counted); from the rotation's
// signing until ssoserver has fetched the new key, and rotationGrace
// after, a valid token may be refused 401 unknown_key (ssoserver fetches
// an unknown kid's JWKS at most once per 10 s) but never answered 5xx.
// Redemptions that failed in the outage are retried after it, and a sample
// of the TokenNo accepted before it is replayed after it.
//
// The run fails, exit status 1, on: any TokenNo accepted twice (every
// lobapp, the whole run, across the restart); any TokenRefNo issued twice;
// any 5xx outside the fault windows; any answer not expected for its
// request class (its status and ErrorCode, the body a success must hold,
// and the headers README promises for every answer of the library's
// handlers: Cache-Control no-store, and WWW-Authenticate Bearer on a
// 401); a 200 for an issue or a redemption while Redis is down; a fault
// not recovered from (no 200 since Redis answered again, a TokenNo
// accepted before the restart not refused after it, the new key not in
// use within ssoserver's refetch interval); RSS (VmRSS) or goroutines of a
// Go process growing from the end of the warm-up to the end beyond
// maxRSSGrowth and maxGoroutineGrowth (both read with the clients idle);
// any credential of the run (access tokens, TokenNo, SSO cookies,
// exchanged JWTs, session cookies, whole or a JWT's payload or signature
// alone, and the four secrets) in any process's output; a process that
// exits early, does not stop cleanly on SIGINT (SIGTERM for Redis), or
// logs a panic or a data race; counts of ssoserver (TokenNo issued) and of
// the lobapps (redemptions accepted) that disagree with the clients'. Bad
// flags are status 2. Every process is stopped on every exit, Ctrl-C
// included (then without a verdict), and on Linux they die with the tool.
//
// The report gives the counts per request class and answer with their
// p50 and p99 latency, each fault window with the 5xx inside it and the
// recovery times, ssoserver's JWKS fetches, RSS and goroutines of each
// process at both readings, and requests/s; -json writes it as JSON
// instead. -keep-logs keeps every process's output in a directory
// (otherwise it is scanned for credentials and removed).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	os.Exit(mainStatus(os.Args[1:], os.Stdout, os.Stderr))
}

// mainStatus is main without os.Exit, so that deferred cleanups run.
func mainStatus(args []string, stdout, stderr io.Writer) int {
	cfg, err := parseFlags(args, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintln(stderr, "soak:", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, cfg.Duration+setupTimeout)
	defer cancel()

	rep, err := run(ctx, cfg)
	if rep != nil {
		if cfg.JSON {
			if werr := rep.writeJSON(stdout); werr != nil {
				fmt.Fprintln(stderr, "soak:", werr)
			}
		} else {
			rep.writeText(stdout)
		}
	}
	switch {
	case err != nil:
		fmt.Fprintln(stderr, "soak:", err)
		return 1
	case !rep.Pass:
		return 1
	}
	return 0
}

// setupTimeout bounds what a run does besides its workload: the builds,
// the starts and stops, the readings and the log scan.
const setupTimeout = 5 * time.Minute

// config is one run.
type config struct {
	Duration    time.Duration // the workload's, warm-up and faults included
	Workers     int           // concurrent clients
	Rate        float64       // requests a second, all workers together
	Users       int           // distinct users (subject, CIINo)
	LOBApps     int           // lobapp instances
	Seed        int64         // of the workload's choices; 0 picks one
	KeepLogs    string        // directory that keeps every process's output; "" scans and removes it
	JSON        bool          // the report as JSON
	SSOServer   string        // binaries; "" builds them
	LOBApp      string        //
	RedisServer string        // redis-server, found on PATH when not a path
	ReqTimeout  time.Duration // bound of one request
	Progress    io.Writer     // progress lines; nil discards them
}

// Bounds of the flags.
const (
	minDuration = 20 * time.Second // room for the warm-up, both faults and a fifth of the run after them
	maxDuration = 24 * time.Hour
	maxWorkers  = 256
	maxRate     = 5000
	minUsers    = 10
	maxUsers    = 1_000_000
)

func parseFlags(args []string, stderr io.Writer) (config, error) {
	cfg := config{Progress: stderr}
	fs := flag.NewFlagSet("soak", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `Usage: go -C tools run ./soak [flags]

Runs redis-server, a Cognito stand-in, ssoserver and several lobapps on loopback,
drives a mixed workload with malformed input through a Cognito key rotation and a
Redis restart, and exits 1 when a TokenNo is accepted twice, a 5xx falls outside a
fault window, an answer is not its class's, memory or goroutines grow, a credential
shows up in a log, or a process misbehaves. The report goes to stdout.

Flags:
`)
		fs.PrintDefaults()
	}
	fs.DurationVar(&cfg.Duration, "duration", time.Minute, "how long the workload runs, the warm-up and both faults included (at least 20s)")
	fs.IntVar(&cfg.Workers, "workers", 8, "concurrent `clients`")
	fs.Float64Var(&cfg.Rate, "rate", 150, "`n` requests a second, all workers together (a 2-core machine runs every process and the clients at the default)")
	fs.IntVar(&cfg.Users, "users", 2000, "`n` distinct users (Cognito subject and CIINo) the workload spreads over; each must stay well under ssoserver's issuing limit of 60 a minute")
	fs.IntVar(&cfg.LOBApps, "lobapps", 3, "lobapp `instances` sharing single use through Redis (at least 2)")
	fs.Int64Var(&cfg.Seed, "seed", 0, "`seed` of the workload's choices, for a run like another; 0 picks one (the report gives it)")
	fs.StringVar(&cfg.KeepLogs, "keep-logs", "", "keep every process's output in `dir` (created if needed); by default it is scanned for credentials and removed")
	fs.BoolVar(&cfg.JSON, "json", false, "write the report as JSON")
	fs.StringVar(&cfg.SSOServer, "ssoserver", "", "ssoserver `binary`; empty builds examples/ssoserver of this repository")
	fs.StringVar(&cfg.LOBApp, "lobapp", "", "lobapp `binary`; empty builds examples/lobapp of this repository")
	fs.StringVar(&cfg.RedisServer, "redis-server", "redis-server", "redis-server `binary` (7 or newer)")
	fs.DurationVar(&cfg.ReqTimeout, "req-timeout", 15*time.Second, "bound of one request")
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	switch {
	case fs.NArg() > 0:
		return cfg, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	case cfg.Duration < minDuration || cfg.Duration > maxDuration:
		return cfg, fmt.Errorf("-duration %s: want %s to %s", cfg.Duration, minDuration, maxDuration)
	case cfg.Workers < 1 || cfg.Workers > maxWorkers:
		return cfg, fmt.Errorf("-workers %d: want 1 to %d", cfg.Workers, maxWorkers)
	case !(cfg.Rate >= 1 && cfg.Rate <= maxRate):
		return cfg, fmt.Errorf("-rate %g: want 1 to %d", cfg.Rate, maxRate)
	case cfg.Users < minUsers || cfg.Users > maxUsers || cfg.Users < 2*cfg.Workers:
		return cfg, fmt.Errorf("-users %d: want %d to %d, and at least twice -workers", cfg.Users, minUsers, maxUsers)
	case cfg.LOBApps < 2 || cfg.LOBApps > 16:
		return cfg, fmt.Errorf("-lobapps %d: want 2 to 16", cfg.LOBApps)
	case cfg.ReqTimeout < time.Second:
		return cfg, fmt.Errorf("-req-timeout %s: want at least 1s", cfg.ReqTimeout)
	}
	if perMinute := userIssueRate(cfg); perMinute > issueRate/4 {
		return cfg, fmt.Errorf("-rate %g over -users %d asks about %.1f TokenNo a minute of each user: want at most %d (a quarter of ssoserver's -issue-rate %d), so that no 429 is expected: lower -rate or raise -users",
			cfg.Rate, cfg.Users, perMinute, issueRate/4, issueRate)
	}
	return cfg, nil
}
