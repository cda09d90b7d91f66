package gotests

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestTheFlatnessRuleSeesLeaksNotNoise: the soak's rule over series shaped like the soak's: a level
// with dips and bursts of 25% (two samples in ten) is flat; the same with a leak of 25% over the run
// grows; so does a goroutine leaked every other sample, while bursts of goroutines are load.
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
	// In every ten samples one dip and one burst of 25%, at random places; the rest within 5%.
	var dip, burst int
	noise := func(i int, rng *rand.Rand) int64 {
		if i%10 == 0 {
			dip, burst = rng.IntN(10), rng.IntN(10)
		}
		switch i % 10 {
		case dip:
			return -level / 4
		case burst:
			return level / 4
		default:
			return rng.Int64N(level/10) - level/20
		}
	}
	for seed = range 50 {
		verdict, ok := flatnessRule(series("rss_anon", func(i int, rng *rand.Rand) int64 { return level + noise(i, rng) }), "rss_anon", run, 0)
		require.True(t, ok, "seed %d: %s", seed, verdict)
		verdict, ok = flatnessRule(series("rss_anon", func(i int, rng *rand.Rand) int64 {
			return level + int64(i)*level*25/100/60 + noise(i, rng)
		}), "rss_anon", run, 0)
		require.False(t, ok, "seed %d: %s", seed, verdict)
	}
	// The node that embeds the NATS server: a step of 3.75 MiB in the middle of the run (a block
	// cache of JetStream moving to a larger buffer) is within its allowance; a steady leak of 3 MiB
	// a minute is not (the allowance hides slower ones over 10 minutes: about 2 MiB a minute).
	step := func(i int, rng *rand.Rand) int64 { return level + int64(i/30)*(15<<18) + noise(i, rng) }
	seed = 7
	verdict, ok := flatnessRule(series("rss_anon", step), "rss_anon", run, 0)
	require.False(t, ok, "without the allowance: %s", verdict)
	verdict, ok = flatnessRule(series("rss_anon", step), "rss_anon", run, natsBlockCaches)
	require.True(t, ok, verdict)
	verdict, ok = flatnessRule(series("rss_anon", func(i int, rng *rand.Rand) int64 {
		return level + int64(i)*level*100/100/60 + noise(i, rng)
	}), "rss_anon", run, natsBlockCaches)
	require.False(t, ok, verdict)

	verdict, ok = flatnessRule(series("own_goroutines", func(i int, _ *rand.Rand) int64 { return 60 + int64(i/2) }), "own_goroutines", run, 0)
	require.False(t, ok, verdict)
	verdict, ok = flatnessRule(series("own_goroutines", func(i int, rng *rand.Rand) int64 { return 60 + rng.Int64N(20) }), "own_goroutines", run, 0)
	require.True(t, ok, verdict)

	// The short run: 15 samples 3 s apart, windows of three. Bursts of 20 goroutines (calls waiting
	// together) in two of the last three samples are load; 5 more every sample is a leak.
	short := func(value func(i int) int64) []sample {
		t0 := time.Now()
		var ss []sample
		for i := range 15 {
			ss = append(ss, sample{at: t0.Add(time.Duration(i) * 3 * time.Second), v: map[string]int64{"own_goroutines": value(i)}})
		}
		return ss
	}
	verdict, ok = flatnessRule(short(func(i int) int64 { return 38 + 20*int64(i%5/3) }), "own_goroutines", 45*time.Second, 0)
	require.True(t, ok, verdict)
	verdict, ok = flatnessRule(short(func(i int) int64 { return 38 + 5*int64(i) }), "own_goroutines", 45*time.Second, 0)
	require.False(t, ok, verdict)
}
