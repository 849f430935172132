package ssotoken

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// appendDate writes what time.Time.AppendFormat writes for DateLayout, for
// every year, zone and millisecond, including the years it hands back to
// AppendFormat.
func TestAppendDate(t *testing.T) {
	ist := time.FixedZone("IST", 5*3600+1800)
	cases := []time.Time{
		time.Date(2025, 1, 20, 8, 49, 46, 756_000_000, time.UTC), // the document's sample
		time.Date(2025, 1, 20, 8, 49, 46, 756_999_999, time.UTC), // truncated, not rounded
		time.Date(2025, 12, 31, 23, 59, 59, 999_999_999, time.UTC),
		time.Date(2026, 1, 1, 5, 29, 59, 0, ist), // the day before in UTC
		time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC),
		time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(9999, 12, 31, 23, 59, 59, 999_000_000, time.UTC),
		time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(-1, 6, 1, 0, 0, 0, 0, time.UTC),
		time.Unix(0, 0),
		{},
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		cases = append(cases, time.Unix(rng.Int64N(400_000_000_000)-62_135_596_800-1_000_000, rng.Int64N(1e9)).In(ist))
	}
	for _, at := range cases {
		want := at.UTC().AppendFormat([]byte("x"), DateLayout)
		if got := appendDate([]byte("x"), at); !assert.Equal(t, string(want), string(got), "%v", at) {
			return
		}
	}
}
