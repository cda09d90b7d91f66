package gotests

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestTheFlatnessRuleSeesLeaksNotNoise: the soak's rule over series shaped like the soak's: a level
// with dips and bursts of 25% (one sample in five) is flat; the same with a leak of 25% over the run
// grows; so does a goroutine leaked every other sample.
func TestTheFlatnessRuleSeesLeaksNotNoise(t *testing.T) {
	run := 10 * time.Minute
	seed := uint64(0)
	series := func(metric string, value func(i int, rng *rand.Rand) int64) []sample {
		rng := rand.New(rand.NewPCG(seed, 2))
		t0 := time.Now()
		var ss []sample
		for i := range 60 {
			ss = append(ss, sample{at: t0.Add(time.Duration(i) * 10 * time.Second), v: map[string]int64{metric: value(i, rng)}})
		}
		return ss
	}
	const level = 32 << 20
	noise := func(rng *rand.Rand) int64 {
		switch r := rng.IntN(10); {
		case r == 0:
			return -level / 4 // a dip
		case r == 1:
			return level / 4 // a burst
		default:
			return rng.Int64N(level/10) - level/20
		}
	}
	for seed = range 50 {
		verdict, ok := flatnessRule(series("rss_anon", func(i int, rng *rand.Rand) int64 { return level + noise(rng) }), "rss_anon", run)
		require.True(t, ok, "seed %d: %s", seed, verdict)
		verdict, ok = flatnessRule(series("rss_anon", func(i int, rng *rand.Rand) int64 {
			return level + int64(i)*level*25/100/60 + noise(rng)
		}), "rss_anon", run)
		require.False(t, ok, "seed %d: %s", seed, verdict)
	}
	verdict, ok := flatnessRule(series("goroutines", func(i int, _ *rand.Rand) int64 { return 60 + int64(i/2) }), "goroutines", run)
	require.False(t, ok, verdict)
	verdict, ok = flatnessRule(series("goroutines", func(i int, rng *rand.Rand) int64 { return 60 + rng.Int64N(20) }), "goroutines", run)
	require.True(t, ok, verdict)
}
