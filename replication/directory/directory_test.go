package directory

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"

	"github.com/clckpt/libclckpt/engine"
	"github.com/clckpt/libclckpt/replication/natsconn"
)

var bg = context.Background()

// startJetStream starts a NATS server with JetStream for the test and connects to it.
func startJetStream(t *testing.T) jetstream.JetStream {
	s, err := natsconn.StartServer(natsconn.ServerOptions{Name: "t", Host: "127.0.0.1", Port: -1, StoreDir: t.TempDir()})
	require.NoError(t, err)
	t.Cleanup(s.Shutdown)
	nc, err := nats.Connect(s.ClientURL())
	require.NoError(t, err)
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	require.NoError(t, err)
	return js
}

func openDir(t *testing.T, lease time.Duration) *Directory {
	d, err := Open(bg, startJetStream(t), Options{Prefix: "t", Replicas: 1, Lease: lease})
	require.NoError(t, err)
	return d
}

func entry(id uint64, name string) *Entry {
	return &Entry{ID: id, Name: []byte(name), Attrs: engine.Attributes{MaxSections: 2}, Epoch: 1, Active: "a",
		Replicas: []string{"a", "b"}, Synced: []string{"a", "b"}, History: []EpochStart{{Epoch: 1, Start: 0}},
		Openers: map[string]int{"a": 1}}
}

func TestEntriesNamesAndCompareAndSwap(t *testing.T) {
	d := openDir(t, time.Second)
	e := entry(0xabc, "name.with*odd>chars/\x00\xff")
	require.NoError(t, d.Create(bg, e))
	id, err := d.Lookup(bg, e.Name)
	require.NoError(t, err)
	require.Equal(t, uint64(0xabc), id)
	require.ErrorIs(t, d.Create(bg, entry(0xdef, string(e.Name))), ErrNameTaken)
	_, err = d.Get(bg, 0xdef)
	require.ErrorIs(t, err, ErrNotFound, "the losing entry is removed")

	// Concurrent updates all land.
	var wg sync.WaitGroup
	for i := 0; i < 10; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := d.Update(bg, 0xabc, func(e *Entry) error { e.Openers["a"]++; return nil })
			require.NoError(t, err)
		}()
	}
	wg.Wait()
	got, err := d.Get(bg, 0xabc)
	require.NoError(t, err)
	require.Equal(t, 11, got.Opens())

	// A decision on a stale copy is refused.
	stale := *got
	_, err = d.Update(bg, 0xabc, func(e *Entry) error { e.NewEpoch("b", 5); return nil })
	require.NoError(t, err)
	stale.NewEpoch("a", 3)
	require.ErrorIs(t, d.UpdateAt(bg, &stale), ErrConflict)
	got, _ = d.Get(bg, 0xabc)
	require.Equal(t, "b", got.Active)
	require.Equal(t, uint64(2), got.Epoch)

	// Unlink frees the name; Remove deletes the entry.
	require.NoError(t, d.Unlink(bg, got.Name, got.ID))
	_, err = d.Lookup(bg, got.Name)
	require.ErrorIs(t, err, ErrNotFound)
	require.NoError(t, d.Remove(bg, got))
	_, err = d.Get(bg, got.ID)
	require.ErrorIs(t, err, ErrNotFound)
	list, err := d.List(bg)
	require.NoError(t, err)
	require.Empty(t, list)
}

func TestWatchSeesChangesAndRemovals(t *testing.T) {
	d := openDir(t, time.Second)
	require.NoError(t, d.Create(bg, entry(1, "one")))
	ctx, cancel := context.WithCancel(bg)
	defer cancel()
	ch := make(chan EntryEvent, 10)
	require.NoError(t, d.WatchEntries(ctx, ch))
	ev := <-ch
	require.Equal(t, uint64(1), ev.ID)
	require.NotNil(t, ev.Entry)
	e, err := d.Update(bg, 1, func(e *Entry) error { e.Deleted = true; return nil })
	require.NoError(t, err)
	ev = <-ch
	require.True(t, ev.Entry.Deleted)
	require.NoError(t, d.Remove(bg, e))
	ev = <-ch
	require.Nil(t, ev.Entry)
}

func TestLeasesExpireAndAreSeen(t *testing.T) {
	d := openDir(t, time.Second)
	ctx, cancel := context.WithCancel(bg)
	defer cancel()
	ch := make(chan MemberEvent, 10)
	require.NoError(t, d.WatchMembers(ctx, ch))
	a := MemberInfo{Name: "a", Kind: KindServer, Incarnation: "1"}
	revA, err := d.Register(bg, a, "")
	require.NoError(t, err)
	ev := <-ch
	require.True(t, ev.Alive)
	require.Equal(t, KindServer, ev.Info.Kind)
	// A renewal rewrites the revision the member last wrote; one from before a write of its own
	// that it did not hear of (an attempt that timed out but was stored) is read again and works.
	revA2, err := d.Refresh(bg, a, revA)
	require.NoError(t, err)
	require.Greater(t, revA2, revA)
	<-ch
	revA, err = d.Refresh(bg, a, revA)
	require.NoError(t, err)
	<-ch

	// Another incarnation cannot take a live name, unless it is the remembered predecessor.
	_, err = d.Register(bg, MemberInfo{Name: "a", Incarnation: "2"}, "")
	require.ErrorIs(t, err, ErrNameTaken)
	_, err = d.Register(bg, MemberInfo{Name: "a", Kind: KindServer, Incarnation: "2"}, "1")
	require.NoError(t, err)
	<-ch
	_, err = d.Refresh(bg, a, revA)
	require.ErrorIs(t, err, ErrNameTaken)
	_, err = d.Refresh(bg, MemberInfo{Name: "b", Incarnation: "1"}, 0)
	require.ErrorIs(t, err, ErrNotFound, "a lease never taken is not found")

	members, err := d.Members(bg)
	require.NoError(t, err)
	require.Contains(t, members, "a")
	// Nobody refreshes: the lease runs out and watchers hear of it.
	select {
	case ev = <-ch:
		require.False(t, ev.Alive)
		require.Equal(t, "a", ev.Name)
	case <-time.After(10 * time.Second):
		t.Fatal("the expired lease was not seen")
	}
	members, err = d.Members(bg)
	require.NoError(t, err)
	require.NotContains(t, members, "a")
}

func TestContinues(t *testing.T) {
	e := &Entry{History: []EpochStart{{1, 0}, {2, 10}, {4, 15}}}
	for _, c := range []struct {
		epoch, lsn uint64
		ok         bool
	}{
		{1, 5, true}, {1, 10, true}, {1, 11, false}, // epoch 1 ended at 10
		{2, 12, true}, {2, 15, true}, {2, 16, false},
		{4, 15, true}, {4, 99, true},
		{4, 10, true},  // adopted epoch 4 while lagging: its ops are shared history
		{3, 12, false}, // an epoch this history does not know
		{0, 0, false},
	} {
		require.Equal(t, c.ok, e.Continues(c.epoch, c.lsn), "%+v", c)
	}
	require.True(t, errors.Is(ErrNotFound, ErrNotFound))
}

// Fuzz targets: the directory's records come from JetStream, written by other members (or by
// anyone with access to the bucket). A decoder returns an error, never panics, and what it accepts
// is sane: member names that are safe as subject tokens, entries that encode back to themselves.

func FuzzDecodeEntry(f *testing.F) {
	good, err := json.Marshal(entry(7, "a.b*>\x00\xff"))
	require.NoError(f, err)
	f.Add(good)
	f.Add([]byte(`{"id":1,"name":"YQ==","attrs":{"MaxSections":1},"active":"a.>"}`))
	f.Add([]byte(`{"id":1,"name":"YQ==","attrs":{"MaxSections":1},"openers":{"*":1}}`))
	f.Fuzz(func(t *testing.T, v []byte) {
		e, err := DecodeEntry(v, 3)
		if err != nil {
			return
		}
		require.NotZero(t, e.ID)
		require.True(t, e.Active == "" || ValidMemberName(e.Active))
		for _, names := range [][]string{e.Replicas, e.Synced} {
			for _, n := range names {
				require.True(t, ValidMemberName(n), n)
			}
		}
		for n := range e.Openers {
			require.True(t, ValidMemberName(n), n)
		}
		again, err := json.Marshal(e)
		require.NoError(t, err)
		back, err := DecodeEntry(again, 3)
		require.NoError(t, err)
		require.Equal(t, e, back)
	})
}

func FuzzDecodeMember(f *testing.F) {
	f.Add([]byte(`{"name":"n1-2","kind":"server","incarnation":"00ff"}`))
	f.Add([]byte(`{"name":"n1.x.>","kind":"server"}`))
	f.Fuzz(func(t *testing.T, v []byte) {
		m, err := DecodeMember(v)
		if err == nil {
			require.True(t, ValidMemberName(m.Name), m.Name)
			require.NotContains(t, m.Name, ".")
		}
	})
}

func FuzzEntryKeysAndNameRecords(f *testing.F) {
	f.Add("c.1f", []byte("1f"))
	f.Add("c.", []byte(""))
	f.Add("c.-1", []byte("0"))
	f.Fuzz(func(t *testing.T, key string, record []byte) {
		if id, ok := ParseEntryKey(key); ok {
			back, ok := ParseEntryKey(entryKey(id))
			require.True(t, ok)
			require.Equal(t, id, back)
		}
		for _, name := range [][]byte{[]byte("n"), bytes.Repeat([]byte{'n'}, hexKeyNames+1)} {
			if id, err := decodeNameRecord(name, record); err == nil {
				require.NotZero(t, id)
				require.Equal(t, record, nameRecord(name, id))
			}
		}
	})
}

// Names of up to 256 bytes keep the key they always had ("n." + hex of the name: a directory written
// before long names is read as it is); longer ones, up to 2048 bytes, get a fixed-length key, and two
// of them differing in their last byte only are two names.
func TestNameKeysShortAsBeforeLongByHash(t *testing.T) {
	d := openDir(t, time.Second)
	short := bytes.Repeat([]byte{'s'}, hexKeyNames)
	// A name record as a directory written before long names holds it.
	_, err := d.dir.Create(bg, "n."+hex.EncodeToString(short), []byte("5a"))
	require.NoError(t, err)
	id, err := d.Lookup(bg, short)
	require.NoError(t, err)
	require.Equal(t, uint64(0x5a), id)

	long := bytes.Repeat([]byte{'l'}, engine.MaxNameLength)
	other := bytes.Clone(long)
	other[len(other)-1] = 'm'
	require.NoError(t, d.Create(bg, entry(0x1, string(long))))
	require.NoError(t, d.Create(bg, entry(0x2, string(other))))
	require.Len(t, nameKey(long), len("n.h.")+64)
	for want, name := range map[uint64][]byte{1: long, 2: other} {
		id, err := d.Lookup(bg, name)
		require.NoError(t, err)
		require.Equal(t, want, id)
		e, err := d.Get(bg, want)
		require.NoError(t, err)
		require.Equal(t, name, e.Name)
	}
	require.ErrorIs(t, d.Create(bg, entry(0x3, string(long))), ErrNameTaken)
	require.ErrorIs(t, d.Unlink(bg, long, 2), ErrNotFound, "the name names another checkpoint")
	require.NoError(t, d.Unlink(bg, long, 1))
	_, err = d.Lookup(bg, long)
	require.ErrorIs(t, err, ErrNotFound)
	id, err = d.Lookup(bg, other)
	require.NoError(t, err)
	require.Equal(t, uint64(2), id)
}

// The record of a hashed key holds the name: a name whose key holds another name's record (two
// names with one hash) finds nothing, cannot be created and never takes the other name's place.
func TestLongNamesSharingAKeyAreNeverConfused(t *testing.T) {
	d := openDir(t, time.Second)
	mine := bytes.Repeat([]byte{'a'}, hexKeyNames+1)
	theirs := bytes.Repeat([]byte{'b'}, hexKeyNames+1)
	_, err := d.dir.Create(bg, nameKey(mine), nameRecord(theirs, 0x77)) // as if theirs hashed as mine does
	require.NoError(t, err)
	_, err = d.Lookup(bg, mine)
	require.ErrorIs(t, err, ErrNotFound)
	err = d.Create(bg, entry(0x9, string(mine)))
	require.ErrorIs(t, err, ErrNameCollision)
	require.ErrorIs(t, err, engine.ErrStorage)
	_, err = d.Get(bg, 0x9)
	require.ErrorIs(t, err, ErrNotFound, "the entry is removed again")
	require.ErrorIs(t, d.Unlink(bg, mine, 0x77), ErrNotFound)
	require.ErrorIs(t, d.Replace(bg, 0x77, entry(0xa, string(mine))), ErrConflict)
	kve, err := d.dir.Get(bg, nameKey(mine))
	require.NoError(t, err)
	require.Equal(t, nameRecord(theirs, 0x77), kve.Value(), "the other name's record is untouched")
}

func TestEntriesNamingNonMembersAreRefused(t *testing.T) {
	for _, bad := range []string{"a.b", "*", ">", "a b", "", "é", string(make([]byte, 73))} {
		e := entry(1, "x")
		e.Active = bad
		if bad == "" {
			e.Replicas = []string{""}
		}
		v, err := json.Marshal(e)
		require.NoError(t, err)
		_, err = DecodeEntry(v, 1)
		require.Error(t, err, "member %q", bad)
	}
	_, err := DecodeMember([]byte(`{"name":"a.>"}`))
	require.Error(t, err)
}

// TestUnavailableIsTryAgain: what JetStream answers while it cannot serve the buckets becomes
// ErrUnavailable (an engine.ErrTryAgain, so that calls wait and retry), and so does a request that
// nobody answered within the client library's own timeout; the caller's own timeout and other
// failures do not.
func TestUnavailableIsTryAgain(t *testing.T) {
	for _, err := range []error{nats.ErrNoResponders, nats.ErrTimeout, jetstream.ErrNoStreamResponse,
		&jetstream.APIError{Code: 503, ErrorCode: 10008, Description: "JetStream system temporarily unavailable"},
		context.DeadlineExceeded} {
		got := mapErr(bg, fmt.Errorf("get: %w", err))
		require.ErrorIs(t, got, ErrUnavailable, "%v", err)
		require.ErrorIs(t, got, engine.ErrTryAgain, "%v", err)
		require.ErrorIs(t, got, err, "the cause is kept")
	}
	for _, err := range []error{jetstream.ErrKeyExists,
		&jetstream.APIError{Code: 400, ErrorCode: 10071, Description: "wrong last sequence"}} {
		require.NotErrorIs(t, mapErr(bg, err), ErrUnavailable, "%v", err)
	}
	ended, cancel := context.WithTimeout(bg, 0)
	defer cancel()
	<-ended.Done()
	require.NotErrorIs(t, mapErr(ended, context.DeadlineExceeded), ErrUnavailable, "the caller's own deadline")
	require.ErrorIs(t, mapErr(bg, jetstream.ErrKeyNotFound), ErrNotFound)
}

// TestRemovedKeysLeaveNothingForLong: destroying checkpoints all day must not grow the bucket: the
// markers of removed entries and names expire. A bucket made earlier without expiring markers is
// upgraded when opened.
func TestRemovedKeysLeaveNothingForLong(t *testing.T) {
	js := startJetStream(t)
	_, err := js.CreateKeyValue(bg, jetstream.KeyValueConfig{Bucket: "t-dir", History: 1})
	require.NoError(t, err, "a bucket of an earlier version")
	d, err := Open(bg, js, Options{Prefix: "t", Replicas: 1, Lease: time.Second, MarkerTTL: 2 * time.Second})
	require.NoError(t, err)
	for i := uint64(1); i <= 50; i++ {
		e := entry(i, fmt.Sprintf("tmp-%d", i))
		require.NoError(t, d.Create(bg, e))
		require.NoError(t, d.Remove(bg, e))
	}
	st, err := js.Stream(bg, "KV_t-dir")
	require.NoError(t, err)
	info, err := st.Info(bg, jetstream.WithSubjectFilter(">"))
	require.NoError(t, err)
	require.Equal(t, 101, len(info.State.Subjects), "a marker per removed entry and name, for now, and the identity")
	require.Eventually(t, func() bool {
		info, err := st.Info(bg, jetstream.WithSubjectFilter(">"))
		require.NoError(t, err)
		return info.State.Msgs == 1 && len(info.State.Subjects) == 1 // the identity
	}, 30*time.Second, 100*time.Millisecond, "the markers expire")
	// The name is free again, and the entry of a new checkpoint of that name is found.
	require.NoError(t, d.Create(bg, entry(99, "tmp-1")))
	id, err := d.Lookup(bg, []byte("tmp-1"))
	require.NoError(t, err)
	require.Equal(t, uint64(99), id)
	// And while a marker is still there.
	require.NoError(t, d.Remove(bg, entry(99, "tmp-1")))
	require.NoError(t, d.Create(bg, entry(100, "tmp-1")))
	id, err = d.Lookup(bg, []byte("tmp-1"))
	require.NoError(t, err)
	require.Equal(t, uint64(100), id)
}

// UpdateAll stores each entry at the revision it was read at, past what one round of sends holds,
// and refuses (ErrConflict) only the entries changed since.
func TestUpdateAllIsACompareAndSwapPerEntry(t *testing.T) {
	d := openDir(t, time.Second)
	const n = updatesInFlight + 500
	var es []*Entry
	for i := range n {
		e := entry(uint64(i+1), fmt.Sprintf("u-%d", i))
		require.NoError(t, d.Create(bg, e))
		es = append(es, e.Clone())
	}
	// Two entries change behind the caller's back: one in the first round of sends, one in the second.
	for _, i := range []int{7, updatesInFlight + 7} {
		_, err := d.Update(bg, es[i].ID, func(e *Entry) error { e.Epoch = 9; return nil })
		require.NoError(t, err)
	}
	read := make([]uint64, n)
	for i, e := range es {
		read[i] = e.Rev
		e.Openers = nil
		e.Deadline = int64(i + 1)
	}
	errs := d.UpdateAll(bg, es)
	require.Len(t, errs, n)
	for i, e := range es {
		got, err := d.Get(bg, e.ID)
		require.NoError(t, err)
		if i == 7 || i == updatesInFlight+7 {
			require.ErrorIs(t, errs[i], ErrConflict)
			require.Equal(t, uint64(9), got.Epoch, "the other change stays")
			require.Equal(t, map[string]int{"a": 1}, got.Openers)
			continue
		}
		require.NoError(t, errs[i])
		require.Greater(t, e.Rev, read[i], "the new revision")
		require.Equal(t, e.Rev, got.Rev)
		require.Empty(t, got.Openers)
		require.Equal(t, int64(i+1), got.Deadline)
	}
}

// Members opening one directory at once, and one opening it later, all find the same identity:
// the one stored under "id" by whichever creation landed first.
func TestOpenSharesIdentity(t *testing.T) {
	js := startJetStream(t)
	ids := make([]string, 8)
	var wg sync.WaitGroup
	for i := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d, err := Open(bg, js, Options{Prefix: "t", Replicas: 1, Lease: time.Second})
			require.NoError(t, err)
			ids[i] = d.ID()
		}()
	}
	wg.Wait()
	later, err := Open(bg, js, Options{Prefix: "t", Replicas: 1, Lease: time.Second})
	require.NoError(t, err)
	kv, err := js.KeyValue(bg, "t-dir")
	require.NoError(t, err)
	stored, err := kv.Get(bg, idKey)
	require.NoError(t, err)
	require.Len(t, string(stored.Value()), 32)
	for i, id := range ids {
		require.Equal(t, string(stored.Value()), id, "member %d", i)
	}
	require.Equal(t, string(stored.Value()), later.ID())
}
