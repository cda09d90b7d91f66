package clock

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestFakeRunsTimersInOrderAtTheirDeadline(t *testing.T) {
	start := time.Unix(1000, 0)
	c := NewFake(start)
	var got []string
	var at []time.Duration
	record := func(name string) func() {
		return func() { got = append(got, name); at = append(at, c.Now().Sub(start)) }
	}
	c.AfterFunc(3*time.Second, record("c"))
	c.AfterFunc(1*time.Second, record("a"))
	c.AfterFunc(1*time.Second, record("a2"))
	stopped := c.AfterFunc(2*time.Second, record("never"))
	c.AfterFunc(10*time.Second, record("late"))
	require.True(t, stopped.Stop())
	require.False(t, stopped.Stop())

	c.Advance(5 * time.Second)
	require.Equal(t, []string{"a", "a2", "c"}, got)
	require.Equal(t, []time.Duration{time.Second, time.Second, 3 * time.Second}, at)
	require.Equal(t, start.Add(5*time.Second), c.Now())
	require.Equal(t, 1, c.Pending())
}

func TestFakeCallbackMaySchedule(t *testing.T) {
	c := NewFake(time.Unix(0, 0))
	n := 0
	var tick func()
	tick = func() {
		n++
		c.AfterFunc(time.Second, tick)
	}
	c.AfterFunc(time.Second, tick)
	c.Advance(10 * time.Second)
	require.Equal(t, 10, n)
}

func TestFakeStopAfterRunReportsFalse(t *testing.T) {
	c := NewFake(time.Unix(0, 0))
	tm := c.AfterFunc(0, func() {})
	c.Advance(0)
	require.False(t, tm.Stop())
}

func TestRealAfterFunc(t *testing.T) {
	done := make(chan struct{})
	Real{}.AfterFunc(time.Millisecond, func() { close(done) })
	<-done
	require.False(t, Real{}.Now().IsZero())
}
