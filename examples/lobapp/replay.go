package main

import (
	"fmt"

	"github.com/ssokit/ssokit/internal/redisaddr"
	"github.com/ssokit/ssokit/ssotoken"
	"github.com/ssokit/ssokit/ssotoken/redisreplay"
)

// replayStore returns the store in which c's Verifier redeems each TokenNo
// once, and the func that releases it: with -redis-addr a Store in the
// Redis that every instance shares, else a MemoryReplayStore of this
// process, bounded in all (-replay-entries) and per CIINo
// (-replay-entries-per-caller), so that one user's flood of tokens is
// refused 429 too_many_tokens and never fills the store for the others.
func (c appConfig) replayStore() (ssotoken.ReplayStore, func(), error) {
	if c.redisAddr == "" {
		return ssotoken.NewMemoryReplayStore(ssotoken.MemoryReplayConfig{
			MaxEntries: c.replayEntries, MaxEntriesPerCaller: c.replayPerCaller, Now: c.now,
		}), func() {}, nil
	}
	client, err := redisaddr.NewClient(c.redisAddr)
	if err != nil {
		return nil, nil, fmt.Errorf("-redis-addr: %w", err)
	}
	store, err := redisreplay.New(redisreplay.Config{Client: client, Now: c.now})
	if err != nil {
		_ = client.Close()
		return nil, nil, err
	}
	return store, func() { _ = client.Close() }, nil
}

// replayStoreName names c's replay store for the log: "memory" or
// "redis" (never its address, which may hold a password).
func (c appConfig) replayStoreName() string {
	if c.redisAddr != "" {
		return "redis"
	}
	return "memory"
}
