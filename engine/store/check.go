package store

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/options"
	"github.com/dgraph-io/badger/v4/table"
	"github.com/dgraph-io/ristretto/v2/z"
)

// Checks of a data directory before and after Badger opens it. Badger takes damaged files badly: a
// garbled table makes a goroutine of its Open panic (the process dies), a truncated MANIFEST makes it
// delete the tables it no longer lists, and a truncated value log is taken for a torn last write.
// So the store looks first, and refuses with an error that names the file.

// badgerFile reports whether name is one of the files Badger or the store keeps in a directory.
func badgerFile(name string) bool {
	switch name {
	case "MANIFEST", "KEYREGISTRY", "DISCARD", "LOCK", "clckpt.wal":
		return true
	}
	for _, ext := range []string{".sst", ".vlog", ".mem"} {
		if strings.HasSuffix(name, ext) {
			return true
		}
	}
	return false
}

// checkBefore refuses a directory that is not a store of ours, or whose MANIFEST or tables are
// damaged.
func checkBefore(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("store: read data directory: %w", err)
	}
	var names, tables []string
	for _, e := range entries {
		names = append(names, e.Name())
		if strings.HasSuffix(e.Name(), ".sst") {
			tables = append(tables, e.Name())
		}
	}
	if !slices.Contains(names, "MANIFEST") {
		for _, n := range names {
			if !badgerFile(n) {
				return fmt.Errorf("store: %s is not a clckpt data directory: it holds %q (and no Badger MANIFEST)", dir, n)
			}
		}
		return nil // new, or created by an open that did not finish
	}
	listed, clean, err := manifestTables(dir)
	if err != nil {
		return err
	}
	for _, name := range tables {
		id, _ := table.ParseFileID(name)
		if _, ok := listed[id]; !ok {
			if clean {
				// The MANIFEST lists a table once it is written whole: this one is what a flush or
				// compaction left when the process died, and Badger deletes it at open.
				continue
			}
			// A torn MANIFEST lost its last changes: Badger would delete this table and its data.
			return fmt.Errorf("store: %s: the MANIFEST is damaged (cut short): it does not list %s", dir, name)
		}
		if err := checkTable(filepath.Join(dir, name)); err != nil {
			return err
		}
	}
	return nil
}

// manifestTables returns the tables the MANIFEST lists, and whether it ends cleanly (its last change
// written whole).
func manifestTables(dir string) (map[uint64]badger.TableManifest, bool, error) {
	path := filepath.Join(dir, "MANIFEST")
	f, err := os.Open(path)
	if err != nil {
		return nil, false, fmt.Errorf("store: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, false, fmt.Errorf("store: %w", err)
	}
	m, end, err := badger.ReplayManifestFile(f, 0, badger.DefaultOptions(dir))
	if err != nil {
		return nil, false, fmt.Errorf("store: %s is damaged: %w", path, err)
	}
	return m.Tables, end == fi.Size(), nil
}

// checkTable opens a table the way Badger does, verifying its checksums, and turns a panic into an
// error.
func checkTable(path string) (err error) {
	mf, err := z.OpenMmapFile(path, os.O_RDONLY, 0)
	if err != nil {
		return fmt.Errorf("store: open %s: %w", path, err)
	}
	defer mf.Close(-1)
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("store: table %s is damaged: its index cannot be read", path)
		}
	}()
	if _, err := table.OpenTable(mf, table.Options{ChkMode: options.OnTableRead, Compression: options.None}); err != nil {
		return fmt.Errorf("store: table %s is damaged: %w", path, err)
	}
	return nil
}

// checkValues reads every value once: a value log cut short or overwritten shows here, not as an
// empty value at the first read of a checkpoint.
func checkValues(db *badger.DB, dir string) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("store: %s: the value log is damaged: %v", dir, r)
		}
	}()
	return db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{PrefetchValues: false})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			item := it.Item()
			// Badger logs an unreadable value and returns it empty: compare with its recorded size.
			var n int
			if err := item.Value(func(v []byte) error { n = len(v); return nil }); err != nil || n == 0 && item.ValueSize() > 0 {
				return fmt.Errorf("store: %s: the value log is damaged: the value of key %q cannot be read (%v)", dir, item.Key(), err)
			}
		}
		return nil
	})
}
