package archive

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
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
func OpenObjectStore(ctx context.Context, js jetstream.JetStream, bucket string, replicas int) (*ObjectStore, error) {
	if replicas == 0 {
		replicas = 1
	}
	obs, err := js.CreateOrUpdateObjectStore(ctx, jetstream.ObjectStoreConfig{
		Bucket: bucket, Description: "libclckpt backups", Storage: jetstream.FileStorage, Replicas: replicas,
	})
	if err != nil {
		return nil, fmt.Errorf("archive: object store %q: %w", bucket, err)
	}
	return &ObjectStore{js: js, bucket: bucket, obs: obs}, nil
}

// Put implements Archive.
func (o *ObjectStore) Put(ctx context.Context, name string, r io.Reader) error {
	if err := CheckName(name); err != nil {
		return err
	}
	if _, err := o.obs.Put(ctx, jetstream.ObjectMeta{Name: name}, ctxReader{ctx, r}); err != nil {
		return fmt.Errorf("archive: writing %s: %w", name, err)
	}
	return nil
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
	infos, err := o.obs.List(ctx)
	if errors.Is(err, jetstream.ErrNoObjectsFound) {
		return nil, nil
	}
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
	infos, err := o.obs.List(ctx)
	if err != nil && !errors.Is(err, jetstream.ErrNoObjectsFound) {
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
