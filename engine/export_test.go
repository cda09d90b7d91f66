package engine

// Crash stops a Local as a killed process would stop (for the external tests).
func Crash(l *Local) { l.crash() }

// Kept returns how many checkpoints a Local keeps: live ones and deleted ones still open.
func Kept(l *Local) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.all)
}
