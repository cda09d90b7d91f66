package store

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// implementations lists every Store; each contract test runs against all of them.
var implementations = []struct {
	name string
	open func(t *testing.T) Store
}{
	{"memory", func(t *testing.T) Store { return NewMemory() }},
	{"badger", func(t *testing.T) Store {
		s, err := OpenBadger(BadgerOptions{Dir: t.TempDir(), GCInterval: -1})
		require.NoError(t, err)
		return s
	}},
	{"badger with fsync", func(t *testing.T) Store { // its commits gather longer (syncCommitDelay)
		s, err := OpenBadger(BadgerOptions{Dir: t.TempDir(), GCInterval: -1, SyncWrites: true})
		require.NoError(t, err)
		return s
	}},
}

func forEachStore(t *testing.T, test func(t *testing.T, s Store)) {
	for _, impl := range implementations {
		t.Run(impl.name, func(t *testing.T) {
			s := impl.open(t)
			defer func() { _ = s.Close() }()
			test(t, s)
		})
	}
}

func get(t *testing.T, s Store, key string) ([]byte, error) {
	t.Helper()
	var out []byte
	err := s.Get([]byte(key), func(v []byte) error { out = bytes.Clone(v); return nil })
	return out, err
}

func apply(t *testing.T, s Store, kv ...string) {
	t.Helper()
	var b Batch
	for i := 0; i < len(kv); i += 2 {
		b.Set([]byte(kv[i]), []byte(kv[i+1]))
	}
	require.NoError(t, s.Apply(&b))
}

func scanKeys(t *testing.T, s Store, prefix string) []string {
	t.Helper()
	var keys []string
	require.NoError(t, s.Scan([]byte(prefix), func(k, v []byte) error {
		keys = append(keys, string(k)+"="+string(v))
		return nil
	}))
	return keys
}

func TestContractGetMissing(t *testing.T) {
	forEachStore(t, func(t *testing.T, s Store) {
		_, err := get(t, s, "nope")
		require.ErrorIs(t, err, ErrNotFound)
	})
}

func TestContractSetGetCopiesValue(t *testing.T) {
	forEachStore(t, func(t *testing.T, s Store) {
		val := []byte("hello")
		var b Batch
		b.Set([]byte("k"), val)
		require.NoError(t, s.Apply(&b))
		val[0] = 'J' // the store must have taken its own copy
		got, err := get(t, s, "k")
		require.NoError(t, err)
		require.Equal(t, "hello", string(got))
	})
}

func TestContractEmptyValue(t *testing.T) {
	forEachStore(t, func(t *testing.T, s Store) {
		var b Batch
		b.Set([]byte("empty"), nil)
		require.NoError(t, s.Apply(&b))
		got, err := get(t, s, "empty")
		require.NoError(t, err)
		require.Len(t, got, 0)
	})
}

func TestContractGetPassesCallbackError(t *testing.T) {
	forEachStore(t, func(t *testing.T, s Store) {
		apply(t, s, "k", "v")
		boom := errors.New("boom")
		require.ErrorIs(t, s.Get([]byte("k"), func([]byte) error { return boom }), boom)
	})
}

func TestContractBatchOrder(t *testing.T) {
	forEachStore(t, func(t *testing.T, s Store) {
		var b Batch
		b.Set([]byte("a"), []byte("1"))
		b.Delete([]byte("a"))
		b.Delete([]byte("b"))
		b.Set([]byte("b"), []byte("2"))
		b.Delete([]byte("never-set"))
		require.Equal(t, 5, b.Len())
		require.NoError(t, s.Apply(&b))
		_, err := get(t, s, "a")
		require.ErrorIs(t, err, ErrNotFound)
		got, err := get(t, s, "b")
		require.NoError(t, err)
		require.Equal(t, "2", string(got))
		b.Reset()
		require.Zero(t, b.Len())
		require.Zero(t, b.Size())
	})
}

func TestContractOverwrite(t *testing.T) {
	forEachStore(t, func(t *testing.T, s Store) {
		apply(t, s, "k", "first")
		apply(t, s, "k", "second, longer")
		apply(t, s, "k", "3")
		got, err := get(t, s, "k")
		require.NoError(t, err)
		require.Equal(t, "3", string(got))
	})
}

func TestContractScan(t *testing.T) {
	forEachStore(t, func(t *testing.T, s Store) {
		apply(t, s, "b/2", "x", "a/1", "y", "b/1", "z", "b/10", "w", "c", "v", "b", "u")
		require.Equal(t, []string{"b=u", "b/1=z", "b/10=w", "b/2=x"}, scanKeys(t, s, "b"))
		require.Equal(t, []string{"b/1=z", "b/10=w", "b/2=x"}, scanKeys(t, s, "b/"))
		require.Len(t, scanKeys(t, s, ""), 6)
		require.Empty(t, scanKeys(t, s, "zz"))

		var b Batch
		b.Delete([]byte("b/10"))
		require.NoError(t, s.Apply(&b))
		require.Equal(t, []string{"b/1=z", "b/2=x"}, scanKeys(t, s, "b/"))

		stop := errors.New("stop")
		n := 0
		err := s.Scan([]byte("b"), func(k, v []byte) error { n++; return stop })
		require.ErrorIs(t, err, stop)
		require.Equal(t, 1, n)
	})
}

// TestContractAtomicBatches checks that readers never see part of a batch: every batch sets all ten
// keys to the same generation number.
func TestContractAtomicBatches(t *testing.T) {
	forEachStore(t, func(t *testing.T, s Store) {
		const keys = 10
		write := func(gen int) {
			var b Batch
			for k := 0; k < keys; k++ {
				b.Set([]byte(fmt.Sprintf("g/%02d", k)), []byte(fmt.Sprint(gen)))
			}
			require.NoError(t, s.Apply(&b))
		}
		write(0)
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			for gen := 1; gen <= 300; gen++ {
				write(gen)
			}
		}()
		for i := 0; i < 300; i++ {
			seen := map[string]bool{}
			require.NoError(t, s.Scan([]byte("g/"), func(k, v []byte) error {
				seen[string(v)] = true
				return nil
			}))
			require.Len(t, seen, 1, "a scan saw several generations: %v", seen)
		}
		wg.Wait()
	})
}

func TestContractConcurrentWriters(t *testing.T) {
	forEachStore(t, func(t *testing.T, s Store) {
		var wg sync.WaitGroup
		for w := 0; w < 8; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < 200; i++ {
					var b Batch
					b.Set([]byte(fmt.Sprintf("w%d/%03d", w, i)), []byte(fmt.Sprint(i)))
					if err := s.Apply(&b); err != nil {
						t.Error(err)
						return
					}
					if _, err := get(t, s, fmt.Sprintf("w%d/%03d", w, i)); err != nil {
						t.Error(err)
						return
					}
				}
			}()
		}
		wg.Wait()
		require.Len(t, scanKeys(t, s, "w"), 8*200)
	})
}

func TestContractClosed(t *testing.T) {
	forEachStore(t, func(t *testing.T, s Store) {
		apply(t, s, "k", "v")
		require.NoError(t, s.Close())
		_, err := get(t, s, "k")
		require.ErrorIs(t, err, ErrClosed)
		require.ErrorIs(t, s.Scan(nil, func(k, v []byte) error { return nil }), ErrClosed)
		var b Batch
		b.Set([]byte("x"), []byte("y"))
		require.ErrorIs(t, s.Apply(&b), ErrClosed)
		require.ErrorIs(t, s.Close(), ErrClosed)
	})
}

func TestBadgerPersistsAcrossReopen(t *testing.T) {
	dir := t.TempDir()
	s, err := OpenBadger(BadgerOptions{Dir: dir})
	require.NoError(t, err)
	apply(t, s, "k", "v", "gone", "x")
	var b Batch
	b.Delete([]byte("gone"))
	require.NoError(t, s.Apply(&b))
	require.NoError(t, s.Close())

	s, err = OpenBadger(BadgerOptions{Dir: dir})
	require.NoError(t, err)
	defer s.Close()
	got, err := get(t, s, "k")
	require.NoError(t, err)
	require.Equal(t, "v", string(got))
	_, err = get(t, s, "gone")
	require.ErrorIs(t, err, ErrNotFound)
}

func TestBadgerSecondOpenFails(t *testing.T) {
	dir := t.TempDir()
	s, err := OpenBadger(BadgerOptions{Dir: dir})
	require.NoError(t, err)
	defer s.Close()
	_, err = OpenBadger(BadgerOptions{Dir: dir})
	require.Error(t, err)
}

func TestBadgerRejectsOversizedValue(t *testing.T) {
	s, err := OpenBadger(BadgerOptions{Dir: t.TempDir(), ValueLogFileSize: 2 << 20})
	require.NoError(t, err)
	defer s.Close()
	var b Batch
	b.Set([]byte("big"), make([]byte, 2<<20+1))
	require.ErrorIs(t, s.Apply(&b), ErrTooBig)
	b.Reset()
	b.Set([]byte("ok"), make([]byte, 2<<20))
	require.NoError(t, s.Apply(&b))
}

// A key Badger would refuse is refused by Apply, not logged: the applier would retry it forever and
// every later write would wait behind it.
func TestBadgerRejectsOversizedKey(t *testing.T) {
	s, err := OpenBadger(BadgerOptions{Dir: t.TempDir(), GCInterval: -1})
	require.NoError(t, err)
	defer s.Close()
	var b Batch
	b.Set(make([]byte, 65535+9), []byte("v"))
	b.Set([]byte("other"), []byte("v"))
	require.ErrorIs(t, s.Apply(&b), ErrTooBig)
	for i := range 3 * maxBacklog / (64 << 10) {
		b.Reset()
		b.Set([]byte("k"), make([]byte, 64<<10+i))
		require.NoError(t, s.Apply(&b))
	}
	require.NoError(t, s.View(func(r Reader) error { return nil })) // everything logged reached Badger
	_, err = get(t, s, "other")
	require.ErrorIs(t, err, ErrNotFound)
}

func TestBadgerOptionsValidated(t *testing.T) {
	_, err := OpenBadger(BadgerOptions{})
	require.Error(t, err)
	_, err = OpenBadger(BadgerOptions{Dir: t.TempDir(), MemTableSize: 1 << 20, ValueThreshold: 1 << 20})
	require.Error(t, err)
	_, err = OpenBadger(BadgerOptions{Dir: t.TempDir(), MemTableSize: 40 << 20}) // over half the 64 MiB reserve
	require.ErrorContains(t, err, "reserve")
	s, err := OpenBadger(BadgerOptions{Dir: t.TempDir(), MemTableSize: 40 << 20, Reserve: 80 << 20})
	require.NoError(t, err)
	require.NoError(t, s.Close())
}

// TestContractViewIsOneSnapshot checks that two scans inside one View see the same batches even
// while a writer changes both prefixes in every batch.
func TestContractViewIsOneSnapshot(t *testing.T) {
	forEachStore(t, func(t *testing.T, s Store) {
		write := func(gen int) {
			var b Batch
			b.Set([]byte("a/k"), []byte(fmt.Sprint(gen)))
			b.Set([]byte("b/k"), []byte(fmt.Sprint(gen)))
			require.NoError(t, s.Apply(&b))
		}
		write(0)
		done := make(chan struct{})
		go func() {
			defer close(done)
			for gen := 1; gen <= 300; gen++ {
				write(gen)
			}
		}()
		for i := 0; i < 200; i++ {
			var a, b string
			require.NoError(t, s.View(func(r Reader) error {
				if err := r.Scan([]byte("a/"), func(k, v []byte) error { a = string(v); return nil }); err != nil {
					return err
				}
				return r.Get([]byte("b/k"), func(v []byte) error { b = string(v); return nil })
			}))
			require.Equal(t, a, b)
		}
		<-done
		err := s.View(func(r Reader) error { return r.Get([]byte("missing"), func([]byte) error { return nil }) })
		require.ErrorIs(t, err, ErrNotFound)
	})
}

// A table file the MANIFEST does not list, next to a MANIFEST that ends cleanly, is what a flush or
// compaction leaves when the process is killed while writing it (seen as an empty 000003.sst after a
// SIGKILL): the store opens, and the data is there.
func TestBadgerOpensPastATableLeftByACrash(t *testing.T) {
	dir := t.TempDir()
	s, err := OpenBadger(BadgerOptions{Dir: dir, GCInterval: -1})
	require.NoError(t, err)
	var b Batch
	b.Set([]byte("k"), []byte("v"))
	require.NoError(t, s.Apply(&b))
	require.NoError(t, s.Close())
	require.NoError(t, os.WriteFile(filepath.Join(dir, "000099.sst"), nil, 0o600))
	s, err = OpenBadger(BadgerOptions{Dir: dir, GCInterval: -1})
	require.NoError(t, err)
	defer s.Close()
	require.NoError(t, s.Get([]byte("k"), func(v []byte) error {
		require.Equal(t, []byte("v"), v)
		return nil
	}))
}

// TestContractViewDoesNotHoldWriters: a batch applied by another goroutine while a View runs
// completes during the view, which goes on reading its own snapshot (the old values, no new key,
// a deleted key still there).
func TestContractViewDoesNotHoldWriters(t *testing.T) {
	forEachStore(t, func(t *testing.T, s Store) {
		var b Batch
		b.Set([]byte("v/a"), []byte("old"))
		b.Set([]byte("v/b"), []byte("gone"))
		require.NoError(t, s.Apply(&b))
		err := s.View(func(r Reader) error {
			applied := make(chan error, 1)
			go func() {
				var b Batch
				b.Set([]byte("v/a"), []byte("new"))
				b.Delete([]byte("v/b"))
				b.Set([]byte("v/c"), []byte("added"))
				applied <- s.Apply(&b)
			}()
			select {
			case err := <-applied:
				require.NoError(t, err)
			case <-time.After(time.Minute):
				t.Fatal("a write waited for the end of a view")
			}
			got := map[string]string{}
			require.NoError(t, r.Scan([]byte("v/"), func(k, v []byte) error { got[string(k)] = string(v); return nil }))
			require.Equal(t, map[string]string{"v/a": "old", "v/b": "gone"}, got)
			return r.Get([]byte("v/a"), func(v []byte) error { require.Equal(t, "old", string(v)); return nil })
		})
		require.NoError(t, err)
		v, err := get(t, s, "v/a")
		require.NoError(t, err)
		require.Equal(t, "new", string(v))
		_, err = get(t, s, "v/b")
		require.ErrorIs(t, err, ErrNotFound)
	})
}
