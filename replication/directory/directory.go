// Package directory keeps the cluster-wide facts of the checkpoint service in JetStream KV: which
// checkpoints exist under which name, and for each its attributes, epoch, active member, replicas,
// openers and retention (bucket <prefix>-dir), and which members are alive (bucket
// <prefix>-members, whose max age is the lease). Every change is a compare-and-swap on one key.
package directory

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/clckpt/libclckpt/engine"
)

// Errors of the directory.
var (
	ErrNotFound  = errors.New("directory: not found")
	ErrNameTaken = errors.New("directory: name taken")
	ErrConflict  = errors.New("directory: changed concurrently")
	// ErrNameCollision: the name's key (a hash, for a long name) holds another name, which the
	// directory cannot record beside it. It is an engine.ErrStorage: retrying does not help.
	ErrNameCollision = fmt.Errorf("%w: the checkpoint directory holds another name under this name's key", engine.ErrStorage)
	// ErrUnavailable: JetStream could not answer now (no server answers for the bucket, or the
	// cluster is electing its leaders, as when a partition heals). It is an engine.ErrTryAgain.
	ErrUnavailable = fmt.Errorf("%w: the checkpoint directory is unavailable", engine.ErrTryAgain)
)

// Entry is a checkpoint's cluster-wide record.
type Entry struct {
	ID       uint64            `json:"id"`
	Name     []byte            `json:"name"` // bytes: names need not be UTF-8
	Attrs    engine.Attributes `json:"attrs"`
	Epoch    uint64            `json:"epoch"`
	Active   string            `json:"active,omitempty"` // member; empty: no active replica
	Replicas []string          `json:"replicas"`
	Synced   []string          `json:"synced"`  // replicas known to hold every acknowledged op
	History  []EpochStart      `json:"history"` // the most recent epochs and the LSN after which each began
	Openers  map[string]int    `json:"openers,omitempty"`
	Deleted  bool              `json:"deleted,omitempty"`  // the name was deleted; destroyed at the last close
	Deadline int64             `json:"deadline,omitempty"` // retention deadline (ns since the epoch); 0: none

	Rev uint64 `json:"-"` // KV revision this copy was read at
}

// EpochStart says that ops after LSN Start belong to Epoch (until the next entry).
type EpochStart struct {
	Epoch uint64 `json:"epoch"`
	Start uint64 `json:"start"`
}

// maxHistory bounds the epochs an entry remembers; a replica older than that takes a snapshot.
const maxHistory = 16

// Opens is the total open count.
func (e *Entry) Opens() int {
	n := 0
	for _, c := range e.Openers {
		n += c
	}
	return n
}

// Clone returns a copy of e that shares nothing with it.
func (e *Entry) Clone() *Entry {
	c := *e
	c.Name = slices.Clone(e.Name)
	c.Replicas = slices.Clone(e.Replicas)
	c.Synced = slices.Clone(e.Synced)
	c.History = slices.Clone(e.History)
	c.Openers = maps.Clone(e.Openers)
	return &c
}

// HasReplica reports whether member holds a replica.
func (e *Entry) HasReplica(member string) bool { return slices.Contains(e.Replicas, member) }

// IsSynced reports whether member is in the in-sync set.
func (e *Entry) IsSynced(member string) bool { return slices.Contains(e.Synced, member) }

// NewEpoch makes member the active replica from LSN start on: the epoch increases and the history
// records where it began.
func (e *Entry) NewEpoch(member string, start uint64) {
	e.Epoch++
	e.Active = member
	e.History = append(e.History, EpochStart{Epoch: e.Epoch, Start: start})
	if len(e.History) > maxHistory {
		e.History = e.History[len(e.History)-maxHistory:]
	}
}

// Continues reports whether a replica that follows epoch and holds ops up to lsn holds a prefix of
// the current history: its epoch is in the history and lsn is not beyond where the next epoch began.
// (A replica records an epoch only once it has checked its position against it, so its ops before
// that epoch's start are shared history.)
func (e *Entry) Continues(epoch, lsn uint64) bool {
	for i, h := range e.History {
		if h.Epoch == epoch {
			return i == len(e.History)-1 || lsn <= e.History[i+1].Start
		}
	}
	return false
}

// Directory is the KV side of the service.
type Directory struct {
	js        jetstream.JetStream
	dirPut    string // the subject prefix of the keys of the checkpoint bucket (UpdateAll publishes there)
	dir       jetstream.KeyValue
	members   jetstream.KeyValue
	lease     time.Duration
	markerTTL time.Duration // how long the marker of a removed key stays in the bucket
	id        string        // the directory's identity (see identity)
	leader    *leaderReads  // confirms "not found" answers; nil: the bucket has one replica
	// memberReads reads leases from the members bucket's stream leader (Register, Refresh).
	memberReads *leaderReads
}

// markerTTL is how long the marker of a removed entry or name stays: long enough for every member's
// watch to see it (a member cut off for longer has lost its lease, and on its return reconciles
// with the whole directory), short enough that creating and destroying checkpoints all day does not
// grow the bucket (every marker is a subject that the server indexes in memory).
func markerTTL(lease time.Duration) time.Duration { return max(time.Minute, 10*lease) }

// Options configure Open.
type Options struct {
	Prefix   string        // bucket prefix
	Replicas int           // KV replicas of the buckets (1 for a single server)
	Lease    time.Duration // member lease
	// MarkerTTL is how long the marker of a removed entry or name stays (0: markerTTL(Lease)).
	MarkerTTL time.Duration
	// BindOnly opens buckets that exist and makes none (ErrNoDirectory): a client that only
	// reads must not make them, with its own replica count, before the members do.
	BindOnly bool
}

// ErrNoDirectory: the buckets are not there (Options.BindOnly): no member has started here.
var ErrNoDirectory = errors.New("no checkpoint directory here yet (no member has started with this NATS server and subject)")

// Open binds (creating if needed) the two buckets.
func Open(ctx context.Context, js jetstream.JetStream, o Options) (*Directory, error) {
	if o.MarkerTTL == 0 {
		o.MarkerTTL = markerTTL(o.Lease)
	}
	// The two buckets are bound (or made) at once: each is a few round trips to the server, and
	// making one writes the stream's files.
	var members jetstream.KeyValue
	var membersErr error
	bound := make(chan struct{})
	go func() {
		defer close(bound)
		members, _, membersErr = bucket(ctx, js, jetstream.KeyValueConfig{
			Bucket: o.Prefix + "-members", Description: "clckpt member leases", History: 1,
			Storage: jetstream.FileStorage, Replicas: o.Replicas, TTL: o.Lease, LimitMarkerTTL: time.Second,
		}, o.BindOnly, nil)
	}()
	d := &Directory{js: js, dirPut: "$KV." + o.Prefix + "-dir.", lease: o.Lease, markerTTL: o.MarkerTTL}
	// LimitMarkerTTL lets removals leave markers that expire (the bucket has no limits of its own).
	var dirStream jetstream.StreamConfig
	var err error
	var claim identityClaim
	claimer := func(kv jetstream.KeyValue) { claim = claimIdentity(ctx, kv) }
	if o.BindOnly {
		claimer = nil // a reader claims nothing; it reads the identity below
	}
	d.dir, dirStream, err = bucket(ctx, js, jetstream.KeyValueConfig{
		Bucket: o.Prefix + "-dir", Description: "clckpt checkpoint directory", History: 1,
		Storage: jetstream.FileStorage, Replicas: o.Replicas, LimitMarkerTTL: o.MarkerTTL,
	}, o.BindOnly, claimer)
	// The bucket's own configuration counts, not o.Replicas: it may have been made by another member.
	if err == nil && dirStream.Replicas > 1 && dirStream.AllowDirect {
		var legacy nats.JetStreamContext
		if legacy, err = js.Conn().JetStream(); err == nil {
			d.leader = &leaderReads{js: legacy, stream: dirStream.Name, prefix: d.dirPut}
		}
	}
	if err == nil {
		d.id, err = claim.id, claim.err
		if err == nil && claim.id == "" {
			d.id, err = d.identity(ctx)
		}
		if o.BindOnly && errors.Is(err, ErrNotFound) {
			err = nil // made by a member that has not claimed it yet: a reader goes on without
		}
	}
	<-bound
	if err != nil {
		return nil, err
	}
	if membersErr != nil {
		return nil, membersErr
	}
	d.members = members
	legacy, err := js.Conn().JetStream()
	if err != nil {
		return nil, err
	}
	d.memberReads = &leaderReads{js: legacy, stream: "KV_" + o.Prefix + "-members", prefix: "$KV." + o.Prefix + "-members."}
	return d, nil
}

// identity returns the directory's identity: a random value that the first member to open the
// bucket stores under the key "id" and every later one reads. A member compares it with the one its
// replicas were last reconciled against: a checkpoint missing from another directory (a new NATS
// store, another deployment) was never destroyed there, and its replica must not be dropped.
// claimIdentity makes the first try, while the bucket's configuration is read; identity is the
// read that follows when the try found the key made by another member but could not read it.
func (d *Directory) identity(ctx context.Context) (string, error) {
	r, err := d.get(ctx, idKey)
	if err != nil {
		return "", fmt.Errorf("directory: identity: %w", err)
	}
	return string(r.value), nil
}

// identityClaim is what claimIdentity found: the identity (empty if it could not be read yet), or
// the error that ended the try.
type identityClaim struct {
	id  string
	err error
}

// claimIdentity creates the key "id" with a new random value and, at the same time, reads it: a
// member that finds the directory made (every member but the first) has its identity after one
// round trip instead of a failed creation and a read. The key is written once and never changed,
// so any value read is the identity. A read that finds nothing while the creation finds the key
// (a replica behind, or the key made between the two) leaves the id empty: identity reads it again,
// through the stream's leader when the bucket has replicas.
func claimIdentity(ctx context.Context, kv jetstream.KeyValue) identityClaim {
	var raw [16]byte
	_, _ = rand.Read(raw[:])
	mine := hex.EncodeToString(raw[:])
	read := make(chan string, 1)
	go func() {
		kve, err := kv.Get(ctx, idKey)
		if err != nil {
			read <- ""
			return
		}
		read <- string(kve.Value())
	}()
	_, err := kv.Create(ctx, idKey, []byte(mine))
	found := <-read
	switch {
	case err == nil:
		return identityClaim{id: mine}
	case !errors.Is(err, jetstream.ErrKeyExists):
		return identityClaim{err: fmt.Errorf("directory: identity: %w", mapErr(ctx, err))}
	}
	return identityClaim{id: found}
}

// idKey holds the directory's identity (outside the "c." and "n." key spaces).
const idKey = "id"

// ID is the directory's identity (see identity).
func (d *Directory) ID() string { return d.id }

// bucket binds (creating if needed, unless bindOnly) the bucket cfg and returns it with its stream's
// configuration. alongside, if not nil, runs with the bound bucket while the configuration is read,
// and has returned when bucket returns.
func bucket(ctx context.Context, js jetstream.JetStream, cfg jetstream.KeyValueConfig, bindOnly bool, alongside func(jetstream.KeyValue)) (jetstream.KeyValue, jetstream.StreamConfig, error) {
	kv, err := js.KeyValue(ctx, cfg.Bucket)
	if errors.Is(err, jetstream.ErrBucketNotFound) && bindOnly {
		return nil, jetstream.StreamConfig{}, fmt.Errorf("directory: bucket %s: %w", cfg.Bucket, ErrNoDirectory)
	}
	if errors.Is(err, jetstream.ErrBucketNotFound) {
		kv, err = js.CreateKeyValue(ctx, cfg)
		if errors.Is(err, jetstream.ErrBucketExists) {
			kv, err = js.KeyValue(ctx, cfg.Bucket)
		}
	}
	if err != nil {
		return nil, jetstream.StreamConfig{}, fmt.Errorf("directory: bucket %s: %w", cfg.Bucket, err)
	}
	if alongside != nil {
		done := make(chan struct{})
		go func() {
			defer close(done)
			alongside(kv)
		}()
		defer func() { <-done }()
	}
	st, err := js.Stream(ctx, "KV_"+cfg.Bucket)
	if err != nil {
		return nil, jetstream.StreamConfig{}, fmt.Errorf("directory: bucket %s: %w", cfg.Bucket, err)
	}
	sc := st.CachedInfo().Config
	if cfg.LimitMarkerTTL > 0 && !sc.AllowMsgTTL && !bindOnly {
		// A bucket made before removals left expiring markers: let it take them.
		sc.AllowMsgTTL, sc.SubjectDeleteMarkerTTL = true, cfg.LimitMarkerTTL
		if _, err := js.UpdateStream(ctx, sc); err != nil {
			return nil, jetstream.StreamConfig{}, fmt.Errorf("directory: bucket %s: allowing expiring markers: %w", cfg.Bucket, err)
		}
	}
	return kv, sc, nil
}

// record is a key's value and the revision it was read at.
type record struct {
	value []byte
	rev   uint64
}

// get reads key. Reads are direct gets, which any replica of the bucket answers, and a replica that
// lags (a server restarted and still catching up answers them once nearly caught up, and clients
// connected to it are answered by it first) may lack a key just written, or still hold it as
// removed. So with more than one replica, a "not found" is asked again of the stream's leader,
// which holds every acknowledged write: ErrNotFound is what the leader says; if it cannot say in
// time, the read is ErrUnavailable (or the caller's context error), never a false ErrNotFound.
//
// A direct get that nobody answers (a replica left without its peers may keep its subscription and
// stay silent) ends with the client library's own request timeout when the caller set none: that
// is ErrUnavailable (TRY_AGAIN, see mapErr), not a timeout the caller never set.
func (d *Directory) get(ctx context.Context, key string) (record, error) {
	kve, err := d.dir.Get(ctx, key)
	if err == nil {
		return record{kve.Value(), kve.Revision()}, nil
	}
	if d.leader == nil || !errors.Is(err, jetstream.ErrKeyNotFound) && !errors.Is(err, jetstream.ErrKeyDeleted) {
		return record{}, mapErr(ctx, err)
	}
	return d.leader.get(ctx, key)
}

// leaderReads reads keys of the directory's bucket from its stream's leader ($JS.API.STREAM.MSG.GET,
// which only the leader answers; the KV handle's direct gets stay as they are, so that members
// bound to the bucket earlier, and older versions, keep reading as before).
type leaderReads struct {
	js     nats.JetStreamContext // its GetLastMsg asks the leader unless told to get directly
	stream string                // the bucket's stream
	prefix string                // the bucket's subject prefix
}

// How long a leader read may take (at most; less if the caller's context ends sooner), each try of
// it, and the pause between tries. Right after a server restarts, or while the stream elects a
// leader, no server may answer (no responders, or silence until the try's timeout): a few tries
// within a bound give the election its time without holding the caller for long.
const (
	leaderWait  = 2 * time.Second
	leaderTry   = 500 * time.Millisecond
	leaderPause = 25 * time.Millisecond
)

func (l *leaderReads) get(ctx context.Context, key string) (record, error) {
	bound, cancel := context.WithTimeout(ctx, leaderWait)
	defer cancel()
	for {
		try, cancelTry := context.WithTimeout(bound, leaderTry)
		m, err := l.js.GetLastMsg(l.stream, l.prefix+key, nats.Context(try))
		cancelTry()
		if errors.Is(err, nats.ErrMsgNotFound) || err == nil && removed(m.Header) {
			// Only a leader that still leads may say so: see heardFromMajority.
			try, cancelTry := context.WithTimeout(bound, leaderTry)
			err = l.heardFromMajority(try)
			cancelTry()
			if err == nil {
				return record{}, ErrNotFound
			}
		}
		switch {
		case err == nil:
			return record{m.Data, m.Sequence}, nil
		case ctx.Err() != nil:
			return record{}, mapErr(ctx, ctx.Err())
		}
		select {
		case <-bound.Done():
			return record{}, fmt.Errorf("%w: the stream leader did not confirm that %s is absent: %w", ErrUnavailable, key, err)
		case <-time.After(leaderPause):
		}
	}
}

// leaderHeard is how recently a stream's leader must have heard from a majority of its replicas
// (itself included) for its "not found" to count. Its followers answer it at least every second or
// so (its heartbeats) while they can.
const leaderHeard = 3 * time.Second

// heardFromMajority asks the stream's leader (the same requests only the leader answers) whether
// it has heard from a majority of the stream's replicas within leaderHeard. A leader cut off from
// its peers goes on answering as the leader until it notices that it lost its quorum (10 to 20 s in
// JetStream), while the majority has elected another and may have written the key since: what it
// reads is not the truth then, and the read is unavailable rather than "not found".
func (l *leaderReads) heardFromMajority(ctx context.Context) error {
	si, err := l.js.StreamInfo(l.stream, nats.Context(ctx))
	if err != nil {
		return err
	}
	c := si.Cluster
	if c == nil || len(c.Replicas) == 0 {
		return nil // one replica: there is no quorum to lose
	}
	heard := 1 // the leader
	for _, p := range c.Replicas {
		if !p.Offline && p.Active <= leaderHeard {
			heard++
		}
	}
	if 2*heard <= len(c.Replicas)+1 {
		return fmt.Errorf("the leader %s of %s has not heard from a majority of its replicas within %s", c.Leader, l.stream, leaderHeard)
	}
	return nil
}

// removed reports whether a message of the bucket is a removal (as the KV handle reads it): a
// delete or purge marker, or a marker the server left when a key's message expired or was removed.
func removed(h nats.Header) bool {
	if op := h.Get("KV-Operation"); op != "" {
		return op == "DEL" || op == "PURGE"
	}
	switch h.Get(jetstream.MarkerReasonHeader) {
	case "MaxAge", "Purge", "Remove":
		return true
	}
	return false
}

// hexKeyNames is the longest name whose key is the name itself in hex: "n." + hex(name). A longer
// name (up to engine.MaxNameLength) would make a key beyond what NATS takes in one subject, so its
// key is "n.h." + hex(SHA-256(name)), of fixed length; its record holds the name too, so two names
// with one hash are never taken for each other. ('h' is no hex digit: the two kinds never meet.)
const hexKeyNames = 256

func nameKey(name []byte) string {
	if len(name) <= hexKeyNames {
		return "n." + hex.EncodeToString(name)
	}
	sum := sha256.Sum256(name)
	return "n.h." + hex.EncodeToString(sum[:])
}

func entryKey(id uint64) string { return "c." + strconv.FormatUint(id, 16) }

// nameRecord is the value of name's key when it names checkpoint id: the id in hex, and for a
// hashed key a space and the name's bytes.
func nameRecord(name []byte, id uint64) []byte {
	v := strconv.AppendUint(nil, id, 16)
	if len(name) > hexKeyNames {
		v = append(append(v, ' '), name...)
	}
	return v
}

// ParseEntryKey returns the id of an entry key, if it is one.
func ParseEntryKey(key string) (uint64, bool) {
	if len(key) < 3 || key[:2] != "c." {
		return 0, false
	}
	id, err := strconv.ParseUint(key[2:], 16, 64)
	return id, err == nil
}

// DecodeEntry decodes an entry read from the bucket.
func DecodeEntry(v []byte, rev uint64) (*Entry, error) {
	e := &Entry{}
	if err := json.Unmarshal(v, e); err != nil {
		return nil, fmt.Errorf("directory: bad entry: %w", err)
	}
	if e.ID == 0 || len(e.Name) == 0 || len(e.Name) > engine.MaxNameLength || e.Attrs.MaxSections == 0 {
		return nil, fmt.Errorf("directory: bad entry %016x", e.ID)
	}
	// Member names become NATS subjects: one that is not a member name could address other subjects.
	members := append(append([]string{}, e.Replicas...), e.Synced...)
	if e.Active != "" {
		members = append(members, e.Active)
	}
	for name := range e.Openers {
		members = append(members, name)
	}
	for _, name := range members {
		if !ValidMemberName(name) {
			return nil, fmt.Errorf("directory: bad entry %016x: member name %q", e.ID, name)
		}
	}
	e.Rev = rev
	return e, nil
}

// ValidMemberName reports whether name can be a member's: a node name (1 to 64 letters, digits, '_'
// or '-') with perhaps a "-<n>" suffix.
func ValidMemberName(name string) bool {
	if len(name) == 0 || len(name) > 72 {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// decodeNameRecord decodes the value v of name's key: the checkpoint's id. A record of a hashed key
// that holds another name gives ErrNameCollision.
func decodeNameRecord(name, v []byte) (uint64, error) {
	idPart := v
	if len(name) > hexKeyNames {
		i := bytes.IndexByte(v, ' ')
		if i < 0 {
			return 0, fmt.Errorf("directory: bad name record %q", v)
		}
		if !bytes.Equal(v[i+1:], name) {
			return 0, ErrNameCollision
		}
		idPart = v[:i]
	}
	id, err := strconv.ParseUint(string(idPart), 16, 64)
	if err != nil || id == 0 {
		return 0, fmt.Errorf("directory: bad name record %q", v)
	}
	return id, nil
}

// Lookup returns the id of the live checkpoint called name.
func (d *Directory) Lookup(ctx context.Context, name []byte) (uint64, error) {
	r, err := d.get(ctx, nameKey(name))
	if err != nil {
		return 0, err
	}
	id, err := decodeNameRecord(name, r.value)
	if errors.Is(err, ErrNameCollision) {
		return 0, ErrNotFound // the key is another name's: this one names nothing
	}
	return id, err
}

// Get returns the entry of checkpoint id.
func (d *Directory) Get(ctx context.Context, id uint64) (*Entry, error) {
	r, err := d.get(ctx, entryKey(id))
	if err != nil {
		return nil, err
	}
	return DecodeEntry(r.value, r.rev)
}

// Create stores a new entry and its name. If the name is taken meanwhile, the entry is removed and
// Create returns ErrNameTaken.
func (d *Directory) Create(ctx context.Context, e *Entry) error {
	if err := d.createEntry(ctx, e); err != nil {
		return err
	}
	if _, err := d.dir.Create(ctx, nameKey(e.Name), nameRecord(e.Name, e.ID)); err != nil {
		d.purgeEntry(ctx, e)
		if errors.Is(err, jetstream.ErrKeyExists) {
			return d.taken(ctx, e.Name)
		}
		return mapErr(ctx, err)
	}
	return nil
}

// taken tells why name's key could not be created: ErrNameCollision when it holds another name,
// else ErrNameTaken (the name was created meanwhile, or its record is gone again: look it up).
func (d *Directory) taken(ctx context.Context, name []byte) error {
	if len(name) > hexKeyNames {
		if r, err := d.get(ctx, nameKey(name)); err == nil {
			if _, err := decodeNameRecord(name, r.value); errors.Is(err, ErrNameCollision) {
				return err
			}
		}
	}
	return ErrNameTaken
}

// createEntry stores the new entry e (without its name).
func (d *Directory) createEntry(ctx context.Context, e *Entry) error {
	v, err := json.Marshal(e)
	if err != nil {
		return err
	}
	rev, err := d.dir.Create(ctx, entryKey(e.ID), v)
	if err != nil {
		return mapErr(ctx, err)
	}
	e.Rev = rev
	return nil
}

// purgeEntry removes the entry e that createEntry stored, whose name could not be set.
func (d *Directory) purgeEntry(ctx context.Context, e *Entry) {
	_ = d.dir.Purge(ctx, entryKey(e.ID), jetstream.LastRevision(e.Rev), jetstream.PurgeTTL(d.markerTTL))
}

// Replace stores the new entry e and moves its name from checkpoint old to it in one
// compare-and-swap of the name: a Lookup before it finds old, after it e. If the name no longer
// names old (ErrConflict) or the swap fails, the new entry is removed again.
func (d *Directory) Replace(ctx context.Context, old uint64, e *Entry) error {
	if err := d.createEntry(ctx, e); err != nil {
		return err
	}
	undo := func(err error) error {
		d.purgeEntry(ctx, e)
		return err
	}
	r, err := d.get(ctx, nameKey(e.Name))
	if err != nil {
		return undo(err)
	}
	if !bytes.Equal(r.value, nameRecord(e.Name, old)) {
		return undo(ErrConflict)
	}
	_, err = d.dir.Update(ctx, nameKey(e.Name), nameRecord(e.Name, e.ID), r.rev)
	if errors.Is(err, jetstream.ErrKeyExists) || errors.Is(err, jetstream.ErrKeyRevisionMismatch) {
		return undo(ErrConflict)
	}
	if err != nil {
		return undo(mapErr(ctx, err))
	}
	return nil
}

// Update changes entry id with fn, retrying on concurrent changes. fn may return ErrNotFound (or
// any error) to give up; it sees a fresh copy on each try. Update returns the stored entry.
func (d *Directory) Update(ctx context.Context, id uint64, fn func(e *Entry) error) (*Entry, error) {
	for {
		e, err := d.Get(ctx, id)
		if err != nil {
			return nil, err
		}
		if err := fn(e); err != nil {
			return e, err
		}
		v, err := json.Marshal(e)
		if err != nil {
			return nil, err
		}
		rev, err := d.dir.Update(ctx, entryKey(id), v, e.Rev)
		if errors.Is(err, jetstream.ErrKeyExists) || errors.Is(err, jetstream.ErrKeyRevisionMismatch) {
			continue
		}
		if err != nil {
			return nil, mapErr(ctx, err)
		}
		e.Rev = rev
		return e, nil
	}
}

// UpdateAt changes entry e only if it is still at the revision e was read at (ErrConflict
// otherwise): for decisions that depend on what the caller saw, such as an election.
func (d *Directory) UpdateAt(ctx context.Context, e *Entry) error {
	v, err := json.Marshal(e)
	if err != nil {
		return err
	}
	rev, err := d.dir.Update(ctx, entryKey(e.ID), v, e.Rev)
	if errors.Is(err, jetstream.ErrKeyExists) || errors.Is(err, jetstream.ErrKeyRevisionMismatch) {
		return ErrConflict
	}
	if err != nil {
		return mapErr(ctx, err)
	}
	e.Rev = rev
	return nil
}

// UpdateAll stores every entry of es, each only if it is still at the revision it was read at, as
// UpdateAt does, but sends them all before it waits for any answer: n changes cost one round trip
// to the server, not n. errs[i] is nil (es[i].Rev is then the new revision), ErrConflict (es[i]
// changed meanwhile: nothing was stored for it), or another error (it may or may not be stored).
func (d *Directory) UpdateAll(ctx context.Context, es []*Entry) (errs []error) {
	errs = make([]error, 0, len(es))
	for len(es) > 0 {
		n := min(len(es), updatesInFlight)
		errs = append(errs, d.updateAll(ctx, es[:n])...)
		es = es[n:]
	}
	return errs
}

// updatesInFlight bounds the changes UpdateAll sends before it waits for their answers: well below
// what the client lets wait for an answer (4,000 by default), past which a publish stalls and fails.
const updatesInFlight = 1000

func (d *Directory) updateAll(ctx context.Context, es []*Entry) (errs []error) {
	errs = make([]error, len(es))
	acks := make([]jetstream.PubAckFuture, len(es))
	for i, e := range es {
		v, err := json.Marshal(e)
		if err != nil {
			errs[i] = err
			continue
		}
		msg := &nats.Msg{Subject: d.dirPut + entryKey(e.ID), Header: nats.Header{}, Data: v}
		if acks[i], err = d.js.PublishMsgAsync(msg, jetstream.WithExpectLastSequencePerSubject(e.Rev)); err != nil {
			errs[i] = mapErr(ctx, err)
		}
	}
	for i, ack := range acks {
		if ack == nil {
			continue
		}
		select {
		case pa := <-ack.Ok():
			es[i].Rev = pa.Sequence
		case err := <-ack.Err():
			var api *jetstream.APIError
			if errors.As(err, &api) && (api.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence ||
				api.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequenceConstant) {
				errs[i] = ErrConflict
			} else {
				errs[i] = mapErr(ctx, err)
			}
		case <-ctx.Done():
			errs[i] = ctx.Err()
		}
	}
	return errs
}

// Unlink removes the name of checkpoint id, if it still names it.
func (d *Directory) Unlink(ctx context.Context, name []byte, id uint64) error {
	r, err := d.get(ctx, nameKey(name))
	if err != nil {
		return err
	}
	if !bytes.Equal(r.value, nameRecord(name, id)) {
		return ErrNotFound
	}
	err = d.dir.Purge(ctx, nameKey(name), jetstream.LastRevision(r.rev), jetstream.PurgeTTL(d.markerTTL))
	if errors.Is(err, jetstream.ErrKeyExists) || errors.Is(err, jetstream.ErrKeyRevisionMismatch) {
		return ErrConflict
	}
	return mapErr(ctx, err)
}

// Remove deletes entry e (at its revision) and its name if the name still points to it.
func (d *Directory) Remove(ctx context.Context, e *Entry) error {
	err := d.dir.Purge(ctx, entryKey(e.ID), jetstream.LastRevision(e.Rev), jetstream.PurgeTTL(d.markerTTL))
	if errors.Is(err, jetstream.ErrKeyExists) || errors.Is(err, jetstream.ErrKeyRevisionMismatch) {
		return ErrConflict
	}
	if err != nil {
		return mapErr(ctx, err)
	}
	if err := d.Unlink(ctx, e.Name, e.ID); err != nil && !errors.Is(err, ErrNotFound) && !errors.Is(err, ErrConflict) {
		return err
	}
	return nil
}

// List returns every entry.
func (d *Directory) List(ctx context.Context) ([]*Entry, error) {
	lister, err := d.dir.ListKeysFiltered(ctx, "c.>")
	if err != nil {
		return nil, mapErr(ctx, err)
	}
	var out []*Entry
	for key := range lister.Keys() {
		id, ok := ParseEntryKey(key)
		if !ok {
			continue
		}
		e, err := d.Get(ctx, id)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, nil
}

// EntryEvent is a change of an entry seen by WatchEntries: the new entry, or a removal (Entry nil).
type EntryEvent struct {
	ID    uint64
	Entry *Entry
}

// WatchEntries sends every change of an entry, starting with the current ones, until ctx ends.
func (d *Directory) WatchEntries(ctx context.Context, out chan<- EntryEvent) error {
	w, err := d.dir.Watch(ctx, "c.>")
	if err != nil {
		return mapErr(ctx, err)
	}
	go func() {
		defer w.Stop()
		for kve := range w.Updates() {
			if kve == nil {
				continue // end of the initial values
			}
			id, ok := ParseEntryKey(kve.Key())
			if !ok {
				continue
			}
			ev := EntryEvent{ID: id}
			if kve.Operation() == jetstream.KeyValuePut {
				e, err := DecodeEntry(kve.Value(), kve.Revision())
				if err != nil {
					continue
				}
				ev.Entry = e
			}
			select {
			case out <- ev:
			case <-ctx.Done():
				return
			}
		}
	}()
	return nil
}

// Unavailable reports whether err says that JetStream cannot answer for now: nobody answers for the
// bucket (10008 "temporarily unavailable", no responders, no stream response, a request timeout).
// A context that ran out is the caller's timeout, not this.
func Unavailable(err error) bool {
	var api *jetstream.APIError
	return errors.Is(err, nats.ErrNoResponders) || errors.Is(err, nats.ErrTimeout) ||
		errors.Is(err, jetstream.ErrNoStreamResponse) || errors.As(err, &api) && api.ErrorCode == 10008
}

// mapErr maps an error of a JetStream call made with ctx: a deadline that ran out while ctx has
// not is the client library's own request timeout (it gives calls without a deadline one of 5 s),
// so nobody answered for the bucket: ErrUnavailable, like no responders, not the caller's timeout.
func mapErr(ctx context.Context, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, jetstream.ErrKeyNotFound), errors.Is(err, jetstream.ErrKeyDeleted):
		return ErrNotFound
	case Unavailable(err), errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil:
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	return fmt.Errorf("directory: %w", err)
}
