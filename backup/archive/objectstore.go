package archive

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nuid"
)

// ObjectStore is an archive in a NATS JetStream object store bucket. The object store writes an
// object's chunks first and its metadata last, so an object is visible only once complete.
type ObjectStore struct {
	js     jetstream.JetStream
	bucket string
	obs    jetstream.ObjectStore
}

// OpenObjectStore opens (creating it when missing) the object store bucket of that name, with
// file storage and the given number of replicas (0: 1).
//
// A bucket is made with the replicas asked for, never fewer: while JetStream cannot place them
// because a server of the cluster is not selectable yet (it restarted a moment ago, and the cluster
// has not had its JetStream statistics since: "no suitable peers for placement, peer offline"),
// OpenObjectStore tries again, until ctx ends or for placementWait if ctx has no deadline, and then
// fails with that error. (A server that is down, and known to be, does not stop the placement: the
// bucket gets a replica there, written once the server is back.)
//
// Reads see every completed Put: the bucket's stream is set to answer message reads from its leader
// only (the client library creates it with direct gets allowed, which any replica answers, one
// that may not yet hold an object just written), and List reads the objects' metadata from the
// leader too.
func OpenObjectStore(ctx context.Context, js jetstream.JetStream, bucket string, replicas int) (*ObjectStore, error) {
	if replicas == 0 {
		replicas = 1
	}
	err := untilPlaced(ctx, func() error {
		_, err := js.CreateOrUpdateObjectStore(ctx, jetstream.ObjectStoreConfig{
			Bucket: bucket, Description: "libclckpt backups", Storage: jetstream.FileStorage, Replicas: replicas,
		})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("archive: object store %q: %w", bucket, err)
	}
	st, err := js.Stream(ctx, "OBJ_"+bucket)
	if err != nil {
		return nil, fmt.Errorf("archive: object store %q: %w", bucket, err)
	}
	if cfg := st.CachedInfo().Config; cfg.AllowDirect {
		cfg.AllowDirect = false
		if _, err := js.UpdateStream(ctx, cfg); err != nil {
			return nil, fmt.Errorf("archive: object store %q: %w", bucket, err)
		}
	}
	obs, err := js.ObjectStore(ctx, bucket) // reads the stream's configuration again
	if err != nil {
		return nil, fmt.Errorf("archive: object store %q: %w", bucket, err)
	}
	return &ObjectStore{js: js, bucket: bucket, obs: obs}, nil
}

// placementWait bounds how long OpenObjectStore waits for a server to become selectable when the
// caller's context has no deadline.
const placementWait = time.Minute

// untilPlaced runs create until it does not fail for lack of a selectable server (see
// OpenObjectStore), pausing between tries.
func untilPlaced(ctx context.Context, create func() error) error {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, placementWait)
		defer cancel()
	}
	for {
		err := create()
		if !peerOffline(err) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// peerOffline reports whether err is JetStream's refusal to place replicas because a server is
// offline (or has not sent its JetStream statistics since it started).
func peerOffline(err error) bool {
	var api *jetstream.APIError
	return errors.As(err, &api) && api.ErrorCode == jsErrCodeNoPeers && strings.Contains(api.Description, "peer offline")
}

// jsErrCodeNoPeers is JetStream's "no suitable peers for placement" (the client library has no
// name for it).
const jsErrCodeNoPeers jetstream.ErrorCode = 10005

// objects returns the metadata of the bucket's objects, read from the stream's leader (the client
// library's List reads them through a consumer that any replica may serve).
func (o *ObjectStore) objects(ctx context.Context) ([]jetstream.ObjectInfo, error) {
	st, err := o.js.Stream(ctx, "OBJ_"+o.bucket)
	if err != nil {
		return nil, err
	}
	si, err := st.Info(ctx, jetstream.WithSubjectFilter("$O."+o.bucket+".M.>"))
	if err != nil {
		return nil, err
	}
	var out []jetstream.ObjectInfo
	for subj := range si.State.Subjects {
		m, err := st.GetLastMsgForSubject(ctx, subj)
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		var info jetstream.ObjectInfo
		if err := json.Unmarshal(m.Data, &info); err != nil {
			return nil, fmt.Errorf("object metadata on %s: %w", subj, err)
		}
		if !info.Deleted {
			info.ModTime = m.Time
			out = append(out, info)
		}
	}
	return out, nil
}

// Put implements Archive. The object is written in the object store's own format (chunks on
// $O.<bucket>.C.<nuid>, then the metadata, with the SHA-256 of the whole, on $O.<bucket>.M.<name>),
// so the client library's Get reads it (but for a SelfChecked object, see below); but at most putWindow chunks are in flight (sent and not
// yet acknowledged: a sliding window, the next chunk sent as the oldest is acknowledged), instead
// of the library's unbounded stream of asynchronous publishes, which a slow or busy server answers
// with "too many requests" (its ingest queue is full) or which stall the client. A chunk that fails
// with a transient error (too many requests, no response, a timeout) is undone with those sent
// after it (what they stored is deleted) and sent again with them, the window halved (it grows back
// by one chunk per window stored), up to putAttempts times in a row.
//
// The metadata carries the SHA-256 of the whole object, which Get checks, unless r is SelfChecked:
// its bytes are not hashed here, and the object has no digest in its metadata (the object store's
// Get of the client library, which wants one, then fails at the end of the object; this archive's
// Get does not).
func (o *ObjectStore) Put(ctx context.Context, name string, r io.Reader) error {
	if err := CheckName(name); err != nil {
		return err
	}
	if err := o.put(ctx, name, r); err != nil {
		return fmt.Errorf("archive: writing %s: %w", name, err)
	}
	return nil
}

const (
	putChunkSize = 128 << 10 // the object store's default chunk size
	putWindow    = 32        // chunks in flight at most: 4 MiB
	putAttempts  = 6         // sends of a chunk before a Put gives up
	putAckWait   = 30 * time.Second
)

func (o *ObjectStore) put(ctx context.Context, name string, r io.Reader) error {
	old, err := o.obs.GetInfo(ctx, name, jetstream.GetObjectInfoShowDeleted())
	if err != nil && !errors.Is(err, jetstream.ErrObjectNotFound) {
		return err
	}
	st, err := o.js.Stream(ctx, "OBJ_"+o.bucket)
	if err != nil {
		return err
	}
	pub, err := jetstream.New(o.js.Conn(), jetstream.WithPublishAsyncTimeout(putAckWait),
		jetstream.WithPublishAsyncMaxPending(2*putWindow))
	if err != nil {
		return err
	}
	defer pub.CleanupPublisher()
	p := &objectPut{pub: pub, st: st, subj: "$O." + o.bucket + ".C." + nuid.Next(), inflight: putWindow}
	info := &jetstream.ObjectInfo{Bucket: o.bucket, NUID: strings.TrimPrefix(p.subj, "$O."+o.bucket+".C."),
		ObjectMeta: jetstream.ObjectMeta{Name: name, Opts: &jetstream.ObjectMetaOptions{ChunkSize: putChunkSize}}}
	_, selfChecked := r.(SelfChecked)
	if err := p.chunks(ctx, r, info, !selfChecked); err != nil {
		p.purge(ctx)
		return err
	}
	mm := nats.NewMsg("$O." + o.bucket + ".M." + base64.URLEncoding.EncodeToString([]byte(name)))
	mm.Header.Set(jetstream.MsgRollup, jetstream.MsgRollupSubject)
	if mm.Data, err = json.Marshal(info); err != nil {
		p.purge(ctx)
		return err
	}
	err = retryTransient(ctx, func() error {
		actx, cancel := context.WithTimeout(ctx, putAckWait)
		defer cancel()
		_, err := pub.PublishMsg(actx, mm)
		return err
	})
	if err != nil {
		// The metadata may have been stored though its acknowledgement was lost: the chunks stay
		// for Sweep, which keeps them if an object names them.
		return err
	}
	if old != nil && !old.Deleted && old.NUID != info.NUID {
		_ = st.Purge(ctx, jetstream.WithPurgeSubject("$O."+o.bucket+".C."+old.NUID))
	}
	return nil
}

// objectPut is the chunk-writing side of one Put.
type objectPut struct {
	pub  jetstream.JetStream
	st   jetstream.Stream
	subj string
	last uint64 // stream sequence of the last chunk acknowledged
	// inflight is the most chunks sent and not yet acknowledged: putWindow, halved at each
	// transient failure, and grown back by one chunk for every window of chunks stored.
	inflight int
}

// putChunk is one chunk of a Put: read, then hashed and sent, until acknowledged.
type putChunk struct {
	buf    []byte
	data   []byte
	fut    jetstream.PubAckFuture // nil: not sent (yet, or again)
	hashed chan struct{}
}

// chunks reads r to its end and stores it as chunks, setting the size, chunk count and (with
// digest) the digest of info, and checks that the subject holds exactly the chunks sent.
//
// The chunks go out as a sliding window: at most p.inflight are sent and not yet acknowledged,
// and the next one is sent as soon as the oldest is acknowledged, so the server always has work.
// With digest, another goroutine hashes the chunks (in order) meanwhile. When a chunk fails with a transient
// error, every chunk sent after it is waited for, what they stored is deleted (every message of
// the subject after the last chunk acknowledged in order), p.inflight is halved, and they are
// sent again, up to putAttempts times in a row.
func (p *objectPut) chunks(ctx context.Context, r io.Reader, info *jetstream.ObjectInfo, digest bool) error {
	h := sha256.New()
	toHash := make(chan *putChunk, putWindow+1)
	hasherDone := make(chan struct{})
	go func(toHash <-chan *putChunk) {
		defer close(hasherDone)
		for c := range toHash {
			if digest {
				h.Write(c.data)
			}
			close(c.hashed)
		}
	}(toHash)
	var stopHasher sync.Once
	stop := func() { stopHasher.Do(func() { close(toHash); <-hasherDone }) }
	defer stop()

	var free [][]byte
	var q []*putChunk // read and not yet acknowledged, in order
	sent := 0         // the first sent chunks of q
	stored := 0       // chunks acknowledged since the window last grew
	attempt := 1
	pause := 100 * time.Millisecond
	timer := time.NewTimer(putAckWait)
	defer timer.Stop()
	// fail handles err, the failure of chunk q[failed] (sent or not): a transient one is undone
	// and its chunk and those after it are sent again; fail returns what ends the Put otherwise.
	fail := func(err error, failed int) error {
		if !transient(err) || attempt == putAttempts {
			return err
		}
		// Every other chunk sent settles (stored or not) before the undo, so that none is stored
		// after it.
		for i, c := range q[:sent] {
			if i == failed {
				continue
			}
			timer.Reset(putAckWait)
			select {
			case <-c.fut.Ok():
			case <-c.fut.Err():
			case <-timer.C:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		if uerr := p.undo(ctx); uerr != nil {
			return fmt.Errorf("%w (and undoing the chunks sent after it: %v)", err, uerr)
		}
		for _, c := range q {
			c.fut = nil
		}
		sent, stored = 0, 0
		p.inflight = max(1, p.inflight/2)
		attempt++
		select {
		case <-time.After(pause):
		case <-ctx.Done():
			return ctx.Err()
		}
		pause = min(2*pause, 5*time.Second)
		return nil
	}
	for eof := false; ; {
		var err error
		for err == nil && sent < len(q) && sent < p.inflight { // sent again after a failure
			if err = p.publish(q[sent]); err == nil {
				sent++
			}
		}
		for err == nil && !eof && len(q) < p.inflight {
			var buf []byte
			if n := len(free); n > 0 {
				buf, free = free[n-1], free[:n-1]
			} else {
				buf = make([]byte, putChunkSize)
			}
			n, rerr := io.ReadFull(ctxReader{ctx, r}, buf)
			if rerr == io.EOF || rerr == io.ErrUnexpectedEOF {
				eof = true
			} else if rerr != nil {
				return rerr
			}
			if n == 0 {
				break
			}
			c := &putChunk{buf: buf, data: buf[:n], hashed: make(chan struct{})}
			toHash <- c
			info.Size += uint64(n)
			info.Chunks++
			q = append(q, c)
			if err = p.publish(c); err == nil {
				sent++
			}
		}
		if err != nil { // a publish that failed: q[sent] was not sent
			if err := fail(err, sent); err != nil {
				return err
			}
			continue
		}
		if len(q) == 0 {
			break
		}
		head := q[0]
		timer.Reset(putAckWait)
		select {
		case ack := <-head.fut.Ok():
			p.last = max(p.last, ack.Sequence)
			q[0] = nil
			q, sent = q[1:], sent-1
			<-head.hashed
			free = append(free, head.buf)
			attempt, pause = 1, 100*time.Millisecond
			if stored++; stored >= p.inflight && p.inflight < putWindow {
				p.inflight, stored = p.inflight+1, 0
			}
			continue
		case err = <-head.fut.Err():
		case <-timer.C:
			err = jetstream.ErrAsyncPublishTimeout
		case <-ctx.Done():
			return ctx.Err()
		}
		if err := fail(err, 0); err != nil {
			return err
		}
	}
	stop()
	if digest {
		info.Digest = jetstream.GetObjectDigestValue(h)
	}
	if info.Chunks == 0 {
		return nil
	}
	si, err := p.st.Info(ctx, jetstream.WithSubjectFilter(p.subj))
	if err != nil {
		return err
	}
	if n := si.State.Subjects[p.subj]; n != uint64(info.Chunks) {
		return fmt.Errorf("the object store holds %d chunks of the %d sent", n, info.Chunks)
	}
	return nil
}

// publish sends chunk c.
func (p *objectPut) publish(c *putChunk) error {
	f, err := p.pub.PublishMsgAsync(&nats.Msg{Subject: p.subj, Data: c.data})
	c.fut = f
	return err
}

// undo deletes the messages of the subject after p.last.
func (p *objectPut) undo(ctx context.Context) error {
	for seq := p.last + 1; ; {
		m, err := p.st.GetMsg(ctx, seq, jetstream.WithGetMsgSubject(p.subj))
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := p.st.DeleteMsg(ctx, m.Sequence); err != nil && !errors.Is(err, jetstream.ErrMsgNotFound) {
			return err
		}
		seq = m.Sequence + 1
	}
}

// purge removes the chunks of a Put that failed, even when its context has ended.
func (p *objectPut) purge(ctx context.Context) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), putAckWait)
	defer cancel()
	_ = p.st.Purge(ctx, jetstream.WithPurgeSubject(p.subj))
}

// retryTransient runs f until it succeeds, fails with an error that is not transient, or has run
// putAttempts times, pausing between runs.
func retryTransient(ctx context.Context, f func() error) error {
	pause := 100 * time.Millisecond
	for attempt := 1; ; attempt++ {
		err := f()
		if err == nil || !transient(err) || attempt == putAttempts || ctx.Err() != nil {
			return err
		}
		select {
		case <-time.After(pause):
		case <-ctx.Done():
			return ctx.Err()
		}
		pause = min(2*pause, 5*time.Second)
	}
}

// transient tells the errors of a busy or changing server from the others.
func transient(err error) bool {
	var apiErr *jetstream.APIError
	if errors.As(err, &apiErr) {
		return apiErr.Code == 429 || apiErr.Code == 503 || apiErr.Code == 408
	}
	return errors.Is(err, jetstream.ErrAsyncPublishTimeout) || errors.Is(err, jetstream.ErrTooManyStalledMsgs) ||
		errors.Is(err, jetstream.ErrNoStreamResponse) || errors.Is(err, nats.ErrNoResponders) ||
		errors.Is(err, nats.ErrTimeout) || errors.Is(err, context.DeadlineExceeded)
}

// Get implements Archive. It reads the object's chunks in order through an ordered consumer of
// their subject, until the object's chunk count, and checks their total size against the
// object's metadata and, when the metadata has a digest (every object but a SelfChecked one's),
// their SHA-256 against it at the end: a mismatch fails the last Read. The object is read until
// ctx ends or the reader is closed, however long that takes (the client library's Get ended a
// read whose context had no deadline after its default timeout, 5 s, which a restore of a large
// object outlasts); cancelling ctx fails the reads.
func (o *ObjectStore) Get(ctx context.Context, name string) (io.ReadCloser, error) {
	if err := CheckName(name); err != nil {
		return nil, err
	}
	info, err := o.obs.GetInfo(ctx, name)
	if errors.Is(err, jetstream.ErrObjectNotFound) {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, name)
	}
	if err != nil {
		return nil, fmt.Errorf("archive: reading %s: %w", name, err)
	}
	if info.NUID == "" || info.Opts != nil && info.Opts.Link != nil {
		return nil, fmt.Errorf("archive: reading %s: not an object of this archive (no chunks of its own)", name)
	}
	r := &objectReader{ctx: ctx, name: name, info: info}
	if info.Digest != "" {
		if r.want, err = jetstream.DecodeObjectDigest(info.Digest); err != nil {
			return nil, fmt.Errorf("archive: reading %s: %w", name, err)
		}
		r.hash = sha256.New()
	}
	if info.Chunks == 0 {
		return r, nil
	}
	st, err := o.js.Stream(ctx, "OBJ_"+o.bucket)
	if err != nil {
		return nil, fmt.Errorf("archive: reading %s: %w", name, err)
	}
	r.cons, err = st.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{FilterSubjects: []string{"$O." + o.bucket + ".C." + info.NUID}})
	if err != nil {
		return nil, fmt.Errorf("archive: reading %s: %w", name, err)
	}
	r.drop = func() {
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = st.DeleteConsumer(dctx, r.cons.CachedInfo().Name)
	}
	if r.msgs, err = r.cons.Messages(jetstream.PullMaxMessages(getBuffered)); err != nil {
		r.drop()
		return nil, fmt.Errorf("archive: reading %s: %w", name, err)
	}
	return r, nil
}

// getBuffered is how many chunks a Get asks for ahead of its reader.
const getBuffered = 64

// objectReader is an object being read.
type objectReader struct {
	ctx    context.Context
	name   string
	info   *jetstream.ObjectInfo
	cons   jetstream.Consumer
	msgs   jetstream.MessagesContext
	drop   func() // deletes the consumer
	hash   hash.Hash
	want   []byte
	cur    []byte
	chunks int
	size   uint64
	err    error
	closed bool
}

func (r *objectReader) Read(p []byte) (int, error) {
	for len(r.cur) == 0 && r.err == nil {
		r.err = r.next()
	}
	if len(r.cur) == 0 {
		return 0, r.err
	}
	n := copy(p, r.cur)
	r.cur = r.cur[n:]
	return n, nil
}

// next reads the next chunk into cur, or checks the whole object after the last one (io.EOF).
func (r *objectReader) next() error {
	if r.closed {
		return fmt.Errorf("archive: reading %s: %w", r.name, os.ErrClosed)
	}
	if r.chunks == int(r.info.Chunks) {
		switch {
		case r.size != r.info.Size:
			return fmt.Errorf("archive: reading %s: %d bytes in its chunks, %d in its metadata", r.name, r.size, r.info.Size)
		case r.hash != nil && !bytes.Equal(r.hash.Sum(nil), r.want):
			return fmt.Errorf("archive: reading %s: %w", r.name, jetstream.ErrDigestMismatch)
		}
		return io.EOF
	}
	if err := r.ctx.Err(); err != nil {
		return err
	}
	m, err := r.msgs.Next(jetstream.NextContext(r.ctx))
	if err != nil {
		return fmt.Errorf("archive: reading %s: %w", r.name, err)
	}
	r.chunks++
	r.cur = m.Data()
	if r.size += uint64(len(r.cur)); r.size > r.info.Size {
		return fmt.Errorf("archive: reading %s: more bytes in its chunks than the %d of its metadata", r.name, r.info.Size)
	}
	if r.hash != nil {
		r.hash.Write(r.cur)
	}
	return nil
}

// Close ends the reading and deletes its consumer.
func (r *objectReader) Close() error {
	if r.closed {
		return nil
	}
	r.closed = true
	if r.msgs != nil {
		r.msgs.Stop()
	}
	if r.drop != nil {
		r.drop()
	}
	return nil
}

// Delete implements Archive.
func (o *ObjectStore) Delete(ctx context.Context, name string) error {
	if err := CheckName(name); err != nil {
		return err
	}
	if err := o.obs.Delete(ctx, name); err != nil && !errors.Is(err, jetstream.ErrObjectNotFound) {
		return fmt.Errorf("archive: deleting %s: %w", name, err)
	}
	return nil
}

// List implements Archive.
func (o *ObjectStore) List(ctx context.Context, prefix string) ([]Info, error) {
	infos, err := o.objects(ctx)
	if err != nil {
		return nil, fmt.Errorf("archive: listing: %w", err)
	}
	var out []Info
	for _, i := range infos {
		if strings.HasPrefix(i.Name, prefix) {
			out = append(out, Info{Name: i.Name, Size: int64(i.Size), ModTime: i.ModTime})
		}
	}
	return out, nil
}

// Sweep implements Archive. The object store keeps an object's chunks on the subject
// $O.<bucket>.C.<nuid>, and publishes the object's metadata (naming the nuid) last; a Put cut short
// by the death of its process leaves chunks that no object names. Sweep purges the chunk subjects
// of no listed object whose last chunk is older than before.
func (o *ObjectStore) Sweep(ctx context.Context, before time.Time) (int, error) {
	live := map[string]bool{}
	infos, err := o.objects(ctx)
	if err != nil {
		return 0, fmt.Errorf("archive: listing: %w", err)
	}
	for _, i := range infos {
		live[i.NUID] = true
	}
	st, err := o.js.Stream(ctx, "OBJ_"+o.bucket)
	if err != nil {
		return 0, fmt.Errorf("archive: object store stream: %w", err)
	}
	prefix := "$O." + o.bucket + ".C."
	si, err := st.Info(ctx, jetstream.WithSubjectFilter(prefix+">"))
	if err != nil {
		return 0, fmt.Errorf("archive: object store stream: %w", err)
	}
	n := 0
	for subj := range si.State.Subjects {
		if live[strings.TrimPrefix(subj, prefix)] {
			continue
		}
		last, err := st.GetLastMsgForSubject(ctx, subj)
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			continue
		}
		if err != nil {
			return n, fmt.Errorf("archive: object store stream: %w", err)
		}
		if !last.Time.Before(before) {
			continue // maybe a Put in progress
		}
		if err := st.Purge(ctx, jetstream.WithPurgeSubject(subj)); err != nil {
			return n, fmt.Errorf("archive: purging %s: %w", subj, err)
		}
		n++
	}
	return n, nil
}
