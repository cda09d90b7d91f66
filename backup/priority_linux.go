package backup

import (
	"runtime"

	"golang.org/x/sys/unix"
)

// backupNice is how much lower than the program's own the scheduling priority of the threads
// that hash a backup's chunks is (nice values: the program's plus this, at most 19).
const backupNice = 5

// lowerPriority gives the calling goroutine a thread of its own whose scheduling priority is
// lowered by backupNice, for as long as the goroutine lives: the thread ends with it and never
// runs another goroutine. A backup's hashing, its main use of processors, then yields them to the
// program's other threads (its writers) and to other programs when they want them, instead of
// taking turns with them as an equal; on idle processors it runs at full speed all the same.
func lowerPriority() {
	runtime.LockOSThread()
	tid := unix.Gettid()
	prio, err := unix.Getpriority(unix.PRIO_PROCESS, tid) // the kernel's 20 - nice
	if err != nil {
		return
	}
	_ = unix.Setpriority(unix.PRIO_PROCESS, tid, min(20-prio+backupNice, 19))
}
