package archive

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
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
// Reads see every completed Put: the bucket's stream is set to answer message reads from its leader
// only (the client library creates it with direct gets allowed, which any replica answers, one
// that may not yet hold an object just written), and List reads the objects' metadata from the
// leader too.
func OpenObjectStore(ctx context.Context, js jetstream.JetStream, bucket string, replicas int) (*ObjectStore, error) {
	if replicas == 0 {
		replicas = 1
	}
	_, err := js.CreateOrUpdateObjectStore(ctx, jetstream.ObjectStoreConfig{
		Bucket: bucket, Description: "libclckpt backups", Storage: jetstream.FileStorage, Replicas: replicas,
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
// so the client library's Get reads it; but the chunks go out in windows of at most putWindow, each
// acknowledged before the next is sent, instead of the library's unbounded stream of asynchronous
// publishes, which a slow or busy server answers with "too many requests" (its ingest queue is full)
// or which stall the client. A window that fails with a transient error (too many requests, no
// response, a timeout) is undone (its chunks that were stored are deleted) and sent again in
// windows half as large, up to putAttempts times.
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
	putAttempts  = 6         // sends of a window before a Put gives up
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
	if err := p.chunks(ctx, r, info); err != nil {
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
	// inflight is the most chunks sent before their acknowledgements are awaited: putWindow,
	// halved at each transient failure.
	inflight int
}

// chunks reads r to its end and stores it as chunks, setting the size, chunk count and digest of
// info, and checks that the subject holds exactly the chunks sent. The digest of a window is
// computed by another goroutine while the window is being sent (two sets of buffers take turns).
func (p *objectPut) chunks(ctx context.Context, r io.Reader, info *jetstream.ObjectInfo) error {
	var sets [2][][]byte
	for i := range sets {
		sets[i] = make([][]byte, putWindow)
		for j := range sets[i] {
			sets[i][j] = make([]byte, putChunkSize)
		}
	}
	h := sha256.New()
	toHash := make(chan [][]byte, 1)
	var hashed [2]chan struct{} // set i's last window has been hashed
	for i := range hashed {
		hashed[i] = make(chan struct{}, 1)
		hashed[i] <- struct{}{}
	}
	hasherDone := make(chan struct{})
	go func(toHash <-chan [][]byte) {
		defer close(hasherDone)
		k := 0
		for window := range toHash {
			for _, c := range window {
				h.Write(c)
			}
			hashed[k%2] <- struct{}{}
			k++
		}
	}(toHash)
	var stopHasher sync.Once
	stop := func() { stopHasher.Do(func() { close(toHash); <-hasherDone }) }
	defer stop()
	window := make([][]byte, 0, putWindow)
	for k, eof := 0, false; !eof; k++ {
		bufs := sets[k%2]
		<-hashed[k%2] // the hasher is done with this set's previous window
		window = window[:0]
		for len(window) < putWindow && !eof {
			n, err := io.ReadFull(ctxReader{ctx, r}, bufs[len(window)])
			if err == io.EOF || err == io.ErrUnexpectedEOF {
				eof = true
			} else if err != nil {
				return err
			}
			if n > 0 {
				window = append(window, bufs[len(window)][:n])
				info.Size += uint64(n)
			}
		}
		if len(window) == 0 {
			break
		}
		sent := slices.Clone(window)
		toHash <- sent
		if err := p.send(ctx, sent); err != nil {
			return err
		}
		info.Chunks += uint32(len(window))
	}
	stop()
	info.Digest = jetstream.GetObjectDigestValue(h)
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

// send stores chunks in order, at most p.inflight at a time; a transient failure halves
// p.inflight (down to one chunk) and sends again what was not stored, up to putAttempts times.
func (p *objectPut) send(ctx context.Context, chunks [][]byte) error {
	for off := 0; off < len(chunks); {
		n := min(p.inflight, len(chunks)-off)
		err := retryTransient(ctx, func() error {
			err := p.window(ctx, chunks[off:off+n])
			if err != nil && transient(err) {
				p.inflight = max(1, p.inflight/2)
				n = min(n, p.inflight)
			}
			return err
		})
		if err != nil {
			return err
		}
		off += n
	}
	return nil
}

// window publishes the chunks of one window and waits for every acknowledgement. When one fails,
// it deletes what the window stored (every message of the subject after p.last) before returning
// the error, so that the window can be sent again without disordering the chunks.
func (p *objectPut) window(ctx context.Context, chunks [][]byte) error {
	futs := make([]jetstream.PubAckFuture, 0, len(chunks))
	var first error
	for _, c := range chunks {
		f, err := p.pub.PublishMsgAsync(&nats.Msg{Subject: p.subj, Data: c})
		if err != nil {
			first = err
			break
		}
		futs = append(futs, f)
	}
	last := p.last
	timer := time.NewTimer(putAckWait)
	defer timer.Stop()
	for _, f := range futs {
		select {
		case ack := <-f.Ok():
			last = max(last, ack.Sequence)
		case err := <-f.Err():
			first = cmp.Or(first, err)
		case <-timer.C:
			first = cmp.Or(first, error(jetstream.ErrAsyncPublishTimeout))
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if first == nil {
		p.last = last
		return nil
	}
	if err := p.undo(ctx); err != nil {
		return fmt.Errorf("%w (and undoing the window: %v)", first, err)
	}
	return first
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

// Get implements Archive. The object is read until ctx ends or the reader is closed, however long
// that takes: the client library would end a read whose context has no deadline after its
// default timeout (5 s), which a large object read by a restore outlasts, so such a context is
// given a distant deadline, and its cancellation closes the reader.
func (o *ObjectStore) Get(ctx context.Context, name string) (io.ReadCloser, error) {
	if err := CheckName(name); err != nil {
		return nil, err
	}
	cancel := context.CancelFunc(func() {})
	if _, ok := ctx.Deadline(); !ok {
		ctx, cancel = context.WithDeadline(ctx, time.Now().Add(100*365*24*time.Hour))
	}
	res, err := o.obs.Get(ctx, name)
	if err != nil {
		cancel()
		if errors.Is(err, jetstream.ErrObjectNotFound) {
			return nil, fmt.Errorf("%w: %s", ErrNotFound, name)
		}
		return nil, fmt.Errorf("archive: reading %s: %w", name, err)
	}
	stop := context.AfterFunc(ctx, func() { _ = res.Close() })
	return &objectReader{ObjectResult: res, done: func() { stop(); cancel() }}, nil
}

// objectReader is an object being read; Close ends what Get started.
type objectReader struct {
	jetstream.ObjectResult
	done func()
}

func (r *objectReader) Close() error {
	r.done()
	return r.ObjectResult.Close()
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
