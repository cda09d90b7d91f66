package main

import (
	"os"
	"regexp"
	"testing"

	"github.com/stretchr/testify/require"
)

// The version of builds without the Makefile is the Makefile's VERSION.
func TestVersionIsTheMakefiles(t *testing.T) {
	b, err := os.ReadFile("../../Makefile")
	require.NoError(t, err)
	m := regexp.MustCompile(`(?m)^VERSION := (\S+)$`).FindSubmatch(b)
	require.NotNil(t, m, "no VERSION in the Makefile")
	require.Equal(t, string(m[1]), version)
}

// Bad command lines are usage errors (2), before anything is reached.
func TestUsageExitCodes(t *testing.T) {
	for _, args := range [][]string{{}, {"nope"}, {"ls", "--nope"}, {"get"}, {"put", "a"}, {"serve", "extra"}, {"rm", "--hex", "0"}} {
		require.Equal(t, exitUsage, run(args), "%v", args)
	}
	require.Equal(t, exitOK, run([]string{"--version"}))
	require.Equal(t, exitOK, run([]string{"help"}))
}
