// Package stats holds the small helpers the benchmark programs share: latency samples with
// percentiles, and the resident memory of the process.
package stats

import (
	"bufio"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Samples collects one duration per operation.
type Samples struct{ d []time.Duration }

// Add records one operation.
func (s *Samples) Add(d time.Duration) { s.d = append(s.d, d) }

// Time runs f and records how long it took.
func (s *Samples) Time(f func()) {
	start := time.Now()
	f()
	s.d = append(s.d, time.Since(start))
}

// All returns the samples, in no particular order.
func (s *Samples) All() []time.Duration { return s.d }

// Len is the number of samples.
func (s *Samples) Len() int { return len(s.d) }

// Percentile returns the p-th percentile (0 < p <= 100).
func (s *Samples) Percentile(p float64) time.Duration {
	if len(s.d) == 0 {
		return 0
	}
	slices.Sort(s.d)
	i := int(float64(len(s.d))*p/100+0.5) - 1
	return s.d[min(max(i, 0), len(s.d)-1)]
}

// Mean is the average duration.
func (s *Samples) Mean() time.Duration {
	var sum time.Duration
	for _, d := range s.d {
		sum += d
	}
	if len(s.d) == 0 {
		return 0
	}
	return sum / time.Duration(len(s.d))
}

// Summary formats p50, p99 and the mean.
func (s *Samples) Summary() string {
	return fmt.Sprintf("p50 %8s  p99 %8s  mean %8s", Round(s.Percentile(50)), Round(s.Percentile(99)), Round(s.Mean()))
}

// Round keeps three significant digits of a duration for printing.
func Round(d time.Duration) time.Duration {
	switch {
	case d > 100*time.Millisecond:
		return d.Round(time.Millisecond)
	case d > 100*time.Microsecond:
		return d.Round(time.Microsecond)
	case d > 10*time.Microsecond:
		return d.Round(100 * time.Nanosecond)
	}
	return d.Round(10 * time.Nanosecond)
}

// Ratio is a/b, printable.
func Ratio(a, b time.Duration) string {
	if b == 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.2fx", float64(a)/float64(b))
}

// RSS returns the resident set size of this process in bytes (VmRSS of /proc/self/status).
func RSS() (int64, error) {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb << 10, err
		}
	}
	return 0, fmt.Errorf("no VmRSS in /proc/self/status")
}

// MiB formats a byte count.
func MiB(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }
