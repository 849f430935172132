package redisreplay_test

import (
	"context"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ssokit/ssokit/ssotoken"
	"github.com/ssokit/ssokit/ssotoken/redisreplay"
)

// The benchmarks compare one redemption in Redis over loopback with one
// in the in-memory store, in one run (the Redis ones need
// SSOKIT_REDIS_ADDR):
//
//	SSOKIT_REDIS_ADDR=127.0.0.1:6379 go test -run '^$' -bench . -benchmem ./ssotoken/redisreplay/
//
// Every iteration redeems a new id, as every genuine token does.

// BenchmarkRedeemRedis is one first redemption: one SET NX PX round trip.
func BenchmarkRedeemRedis(b *testing.B) {
	addr := redisAddr(b)
	s := newStore(b, redisreplay.Config{Client: newClient(b, addr), Prefix: testPrefix(b, addr)})
	benchRedeem(b, s)
}

// BenchmarkRedeemRedisParallel is the same from GOMAXPROCS goroutines
// sharing one client, as the requests of one instance do.
func BenchmarkRedeemRedisParallel(b *testing.B) {
	addr := redisAddr(b)
	s := newStore(b, redisreplay.Config{Client: newClient(b, addr), Prefix: testPrefix(b, addr)})
	benchRedeemParallel(b, s)
}

// BenchmarkRedeemMemory is one first redemption in ssotoken's
// MemoryReplayStore, for comparison.
func BenchmarkRedeemMemory(b *testing.B) {
	benchRedeem(b, ssotoken.NewMemoryReplayStore(ssotoken.MemoryReplayConfig{MaxEntries: 1 << 30}))
}

// BenchmarkRedeemMemoryParallel is BenchmarkRedeemMemory from GOMAXPROCS
// goroutines.
func BenchmarkRedeemMemoryParallel(b *testing.B) {
	benchRedeemParallel(b, ssotoken.NewMemoryReplayStore(ssotoken.MemoryReplayConfig{MaxEntries: 1 << 30}))
}

func benchRedeem(b *testing.B, s ssotoken.ReplayStore) {
	ctx := context.Background()
	exp := time.Now().Add(time.Hour)
	id := make([]byte, 0, 32)
	n := 0
	b.ReportAllocs()
	for b.Loop() {
		n++
		id = strconv.AppendInt(append(id[:0], "bench-"...), int64(n), 10)
		first, err := s.Redeem(ctx, string(id), exp)
		if err != nil || !first {
			b.Fatal(first, err)
		}
	}
}

func benchRedeemParallel(b *testing.B, s ssotoken.ReplayStore) {
	ctx := context.Background()
	exp := time.Now().Add(time.Hour)
	var n atomic.Int64
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		id := make([]byte, 0, 32)
		for pb.Next() {
			id = strconv.AppendInt(append(id[:0], "bench-"...), n.Add(1), 10)
			first, err := s.Redeem(ctx, string(id), exp)
			if err != nil || !first {
				b.Error(first, err)
				return
			}
		}
	})
}
