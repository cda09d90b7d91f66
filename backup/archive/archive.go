// Package archive stores backup objects: named byte streams, each written whole or not at all.
// Two kinds exist: a local directory (Dir) and a NATS JetStream object store (ObjectStore).
package archive

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// ErrNotFound is returned for a name the archive does not hold.
var ErrNotFound = errors.New("archive: object not found")

// Info describes a stored object.
type Info struct {
	Name    string
	Size    int64
	ModTime time.Time
}

// Archive is where backups go. Names are slash-separated paths of letters, digits, '.', '-' and
// '_' (see CheckName). Every method is safe for concurrent use.
type Archive interface {
	// Put stores the whole of r under name, replacing an object of that name. The object becomes
	// visible only once complete: a failure, a cancelled context or the death of the process
	// leaves the previous object (or none), plus at most unreferenced pieces that Sweep removes.
	Put(ctx context.Context, name string, r io.Reader) error
	// Get opens the object called name (ErrNotFound).
	Get(ctx context.Context, name string) (io.ReadCloser, error)
	// Delete removes the object called name; a missing object is not an error.
	Delete(ctx context.Context, name string) error
	// List returns the complete objects whose names start with prefix.
	List(ctx context.Context, prefix string) ([]Info, error)
	// Sweep removes pieces of Puts that never completed and are older than before, and returns
	// how many it removed.
	Sweep(ctx context.Context, before time.Time) (int, error)
}

// SelfChecked is a source of Put whose bytes carry their own integrity checks, verified by whoever
// reads the object back (a backup object: a SHA-256 of each chunk and one of the whole, checked by
// a restore). The object-store archive stores such a source without a digest of its own, instead
// of hashing every byte a second time; other sources get one, checked by Get.
type SelfChecked interface {
	io.Reader
	SelfChecked()
}

// CheckName rejects names that are empty, absolute, contain an empty, "." or ".." element, or
// characters other than letters, digits, '.', '-', '_' and '/'.
func CheckName(name string) error {
	if name == "" {
		return fmt.Errorf("archive: empty object name")
	}
	for _, el := range strings.Split(name, "/") {
		if el == "" || el == "." || el == ".." {
			return fmt.Errorf("archive: object name %q has an empty, . or .. element", name)
		}
	}
	for _, c := range name {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '_' || c == '/'
		if !ok {
			return fmt.Errorf("archive: object name %q has the character %q", name, c)
		}
	}
	return nil
}
