package archive

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// partSuffix marks a file being written by Put; it is renamed to its name once complete.
const partSuffix = ".part"

// Dir is an archive in a local directory: one file per object, at its name under the root. Put
// writes name.<random>.part, syncs it and renames it over name, then syncs the directory.
type Dir struct {
	root string
}

// DefaultDir is where a directory archive goes by default: "backups.d" under the data directory
// (CLCKPT_DATA_DIR), beside the members' stores, whose names never contain a '.'.
func DefaultDir(dataDir string) string { return filepath.Join(dataDir, "backups.d") }

// OpenDir opens (creating it, mode 0700) the directory archive at root.
func OpenDir(root string) (*Dir, error) {
	if err := os.MkdirAll(root, 0o700); err != nil {
		return nil, fmt.Errorf("archive: %w", err)
	}
	return &Dir{root: root}, nil
}

// Root is the archive's directory.
func (d *Dir) Root() string { return d.root }

func (d *Dir) path(name string) (string, error) {
	if err := CheckName(name); err != nil {
		return "", err
	}
	if strings.HasSuffix(name, partSuffix) {
		return "", fmt.Errorf("archive: object name %q ends in %s", name, partSuffix)
	}
	return filepath.Join(d.root, filepath.FromSlash(name)), nil
}

// Put implements Archive.
func (d *Dir) Put(ctx context.Context, name string, r io.Reader) (err error) {
	p, err := d.path(name)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return fmt.Errorf("archive: %w", err)
	}
	var rnd [8]byte
	_, _ = rand.Read(rnd[:])
	tmp := p + "." + hex.EncodeToString(rnd[:]) + partSuffix
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("archive: %w", err)
	}
	defer func() {
		if err != nil {
			_ = f.Close()
			_ = os.Remove(tmp)
		}
	}()
	if _, err = io.CopyBuffer(&writebackFile{f: f}, ctxReader{ctx, r}, make([]byte, dirWriteSize)); err != nil {
		return fmt.Errorf("archive: writing %s: %w", name, err)
	}
	if err = f.Sync(); err != nil {
		return fmt.Errorf("archive: %w", err)
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("archive: %w", err)
	}
	if err = os.Rename(tmp, p); err != nil {
		return fmt.Errorf("archive: %w", err)
	}
	return syncDir(filepath.Dir(p))
}

// dirWriteSize is the most Put writes to the file at once from a source that has no WriteTo.
const dirWriteSize = 1 << 20

// writebackStep is how many bytes Put writes before it asks for them to be written out.
const writebackStep = 32 << 20

// writebackFile writes to a file and starts writing out every writebackStep bytes as they come
// (startWriteback). It has no ReadFrom (the file's would copy through a 32 KiB buffer), so
// io.CopyBuffer uses the buffer it is given, or the source's WriteTo (see ctxReader).
type writebackFile struct {
	f       *os.File
	written int64
	started int64 // bytes whose writing out was started
}

func (w *writebackFile) Write(p []byte) (int, error) {
	n, err := w.f.Write(p)
	w.written += int64(n)
	if w.written-w.started >= writebackStep {
		startWriteback(w.f, w.started, w.written-w.started)
		w.started = w.written
	}
	return n, err
}

// readerOnly hides a reader's WriteTo.
type readerOnly struct{ io.Reader }

func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("archive: %w", err)
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return fmt.Errorf("archive: %w", err)
	}
	return nil
}

// ctxReader stops a copy once its context is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// WriteTo lets a source that writes its bytes out itself (a backup object, without copying them
// into a buffer first) do so, its writes stopped once the context is done.
func (c ctxReader) WriteTo(w io.Writer) (int64, error) {
	if wt, ok := c.r.(io.WriterTo); ok {
		return wt.WriteTo(ctxWriter{c.ctx, w})
	}
	return io.CopyBuffer(w, readerOnly{c}, make([]byte, dirWriteSize))
}

// ctxWriter stops a copy once its context is done.
type ctxWriter struct {
	ctx context.Context
	w   io.Writer
}

func (c ctxWriter) Write(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.w.Write(p)
}

// Get implements Archive.
func (d *Dir) Get(ctx context.Context, name string) (io.ReadCloser, error) {
	p, err := d.path(name)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, name)
	}
	if err != nil {
		return nil, fmt.Errorf("archive: %w", err)
	}
	return f, nil
}

// Delete implements Archive.
func (d *Dir) Delete(ctx context.Context, name string) error {
	p, err := d.path(name)
	if err != nil {
		return err
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("archive: %w", err)
	}
	return nil
}

// List implements Archive.
func (d *Dir) List(ctx context.Context, prefix string) ([]Info, error) {
	var out []Info
	err := d.walk(func(name string, fi fs.FileInfo) {
		if !strings.HasSuffix(name, partSuffix) && strings.HasPrefix(name, prefix) {
			out = append(out, Info{Name: name, Size: fi.Size(), ModTime: fi.ModTime()})
		}
	})
	return out, err
}

// Sweep implements Archive: it removes .part files older than before.
func (d *Dir) Sweep(ctx context.Context, before time.Time) (int, error) {
	n := 0
	var firstErr error
	err := d.walk(func(name string, fi fs.FileInfo) {
		if strings.HasSuffix(name, partSuffix) && fi.ModTime().Before(before) {
			if err := os.Remove(filepath.Join(d.root, filepath.FromSlash(name))); err != nil && firstErr == nil {
				firstErr = fmt.Errorf("archive: %w", err)
			}
			n++
		}
	})
	if err == nil {
		err = firstErr
	}
	return n, err
}

// walk calls fn for every regular file under the root, with its slash-separated name.
func (d *Dir) walk(fn func(name string, fi fs.FileInfo)) error {
	err := filepath.WalkDir(d.root, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !e.Type().IsRegular() {
			return nil
		}
		fi, err := e.Info()
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(d.root, p)
		if err != nil {
			return err
		}
		fn(filepath.ToSlash(rel), fi)
		return nil
	})
	if err != nil {
		return fmt.Errorf("archive: %w", err)
	}
	return nil
}
