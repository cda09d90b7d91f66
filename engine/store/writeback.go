package store

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Writeback of the value log.
//
// Badger writes its value log through a memory map and, without SyncWrites, does not sync it as it
// goes, but closing a full value-log file (logFile.doneWriting -> MmapFile.Truncate) msyncs the
// whole file (MS_SYNC) on Badger's write goroutine: every commit waits while the file's dirty pages
// are written out. The kernel starts writing dirty pages by itself only after 30 s or past
// dirty_background_ratio (10% of memory, gigabytes), so under a stream of large writes (a copy's
// install) nearly the whole file, 64 MiB, is still dirty then: a stall of tens of milliseconds per
// 64 MiB on an idle disk, hundreds under load (BENCHMARKS.md, catch-up).
//
// So the store asks the kernel to start writing the file being written out as it grows
// (sync_file_range with SYNC_FILE_RANGE_WRITE, which waits for nothing), every writebackEvery bytes
// of values, on a goroutine of its own: when the file is closed, its msync finds little left to
// write. This changes when the pages reach the disk (sooner), not what a write's acknowledgement
// means: nothing waits for it and nothing relies on it.

// writebackEvery is the growth of the value log after which its writeback is started.
const writebackEvery = 8 << 20

// writebackLoop starts the writeback of the newest value-log file whenever the value log grew by
// writebackEvery (wbKick), until the store closes. Kicks that come while one is pending are one:
// a writeback covers the whole file, every byte committed before it starts.
func (b *Badger) writebackLoop(dir string) {
	defer b.gcDone.Done()
	var f *os.File
	fid := -1
	defer func() {
		if f != nil {
			_ = f.Close()
		}
	}()
	for {
		select {
		case <-b.stop:
			return
		case <-b.wbKick:
		}
		newest := newestValueLog(dir)
		if newest < 0 {
			continue
		}
		if newest != fid {
			if f != nil {
				_ = f.Close()
			}
			var err error
			if f, err = os.Open(filepath.Join(dir, valueLogName(newest))); err != nil {
				f, fid = nil, -1
				continue
			}
			fid = newest
		}
		covered := b.logged.Load() // committed, so in the file: this writeback starts on them
		startWriteback(f)
		b.counts.writebacks.Add(1)
		b.counts.writtenBack.Store(covered)
	}
}

// valueLogName is the name of Badger's value-log file fid (value.go: vlogFilePath).
func valueLogName(fid int) string { return fmt.Sprintf("%06d.vlog", fid) }

// newestValueLog returns the number of the newest value-log file in dir, -1 if none.
func newestValueLog(dir string) int {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return -1
	}
	newest := -1
	for _, e := range entries {
		name, ok := strings.CutSuffix(e.Name(), ".vlog")
		if !ok {
			continue
		}
		if n, err := strconv.Atoi(name); err == nil && n > newest {
			newest = n
		}
	}
	return newest
}
