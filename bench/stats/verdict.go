package stats

import (
	"fmt"
	"time"
)

// Line prints one measurement beside its peer: both summaries, the p50 ratio, the goal and
// whether it is met (the ratio at most goal; a goal of 0 means none).
func Line(what string, ours, peer *Samples, goal float64) bool {
	r := float64(ours.Percentile(50)) / float64(max(peer.Percentile(50), 1))
	fmt.Printf("%s\n  ours  %s\n  peer  %s\n", what, ours.Summary(), peer.Summary())
	return Verdict(r, goal, false)
}

// Verdict prints a ratio beside its goal: at most goal, or with atLeast at least goal.
func Verdict(ratio, goal float64, atLeast bool) bool {
	if goal == 0 {
		fmt.Printf("  ratio %.2fx (no goal)\n", ratio)
		return true
	}
	met := ratio <= goal
	op := "<="
	if atLeast {
		met, op = ratio >= goal, ">="
	}
	fmt.Printf("  ratio %.2fx  goal %s %.2fx  %s\n", ratio, op, goal, Met(met))
	return met
}

// Met words a verdict.
func Met(ok bool) string {
	if ok {
		return "met"
	}
	return "NOT met"
}

// Within prints a duration beside a goal it must not exceed.
func Within(what string, d, goal time.Duration) bool {
	fmt.Printf("  %s %s  goal <= %s  %s\n", what, Round(d), goal, Met(d <= goal))
	return d <= goal
}
