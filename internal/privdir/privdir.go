// Package privdir makes directories that only their owner can use, whatever the process umask:
// checkpoint data must not be readable by other users of the host.
//
// A directory is created with mode 0700 and given a default POSIX ACL that grants nothing to group
// and others. The kernel then creates every file inside with at most 0600 and
// every subdirectory with at most 0700 (and the same default ACL), ignoring the umask: this covers
// the files that Badger and the NATS server create later with mode 0666. On a filesystem without
// ACLs the directory is still 0700, which keeps everything inside out of reach, and Own brings the
// files already in a store down to 0600.
package privdir

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// Make creates dir and its missing parents as private directories. A directory that exists already
// is left as it is: it may be the user's (CLCKPT_DATA_DIR=$HOME), not ours to change.
func Make(dir string) error {
	dir = filepath.Clean(dir)
	if _, err := os.Stat(dir); err == nil {
		return nil
	}
	if parent := filepath.Dir(dir); parent != dir {
		if err := Make(parent); err != nil {
			return err
		}
	}
	if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
		return err
	}
	return private(dir)
}

// Claim makes dir with Make and checks the data directory it is: it must belong to this process's
// user (refused otherwise: another user could read and replace what is inside), and a mode that
// lets group or others in is narrowed to the owner's bits.
func Claim(dir string) error {
	if err := Make(dir); err != nil {
		return err
	}
	return Tighten(dir, 0o700)
}

// Tighten checks that path belongs to this process's user, refusing it otherwise, and clears the
// permission bits outside want.
func Tighten(path string, want os.FileMode) error {
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		return &os.PathError{Op: "stat", Path: path, Err: err}
	}
	if uid := uint32(os.Geteuid()); st.Uid != uid {
		return fmt.Errorf("%s belongs to user %d, not to this process's user %d: refused", path, st.Uid, uid)
	}
	if perm := os.FileMode(st.Mode) & os.ModePerm; perm&^want != 0 {
		if err := os.Chmod(path, perm&want); err != nil {
			return err
		}
	}
	return nil
}

// Own makes dir, a directory that only this program uses (a store), private: it is created if
// missing, set to 0700 with the default ACL, and what is inside is narrowed to 0600 (files) and
// 0700 (directories), never widened.
func Own(dir string) error {
	if err := Make(dir); err != nil {
		return err
	}
	if err := private(dir); err != nil {
		return err
	}
	return filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) { // removed meanwhile
				return nil
			}
			return err
		}
		if path == dir || d.Type()&fs.ModeSymlink != 0 {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return nil // removed meanwhile
		}
		want := os.FileMode(0o600)
		if d.IsDir() {
			want = 0o700
			if err := setDefaultACL(path); err != nil && !unsupported(err) {
				return err
			}
		}
		if info.Mode().Perm()&^want != 0 {
			if err := os.Chmod(path, info.Mode().Perm()&want); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return err
			}
		}
		return nil
	})
}

// private sets dir to 0700 with the default ACL.
func private(dir string) error {
	if err := os.Chmod(dir, 0o700); err != nil {
		return err
	}
	if err := setDefaultACL(dir); err != nil && !unsupported(err) {
		return err
	}
	return nil
}

// POSIX ACL extended attribute: a version, then (tag, permissions, id) entries.
const (
	aclVersion   = 2
	aclUserObj   = 0x01
	aclGroupObj  = 0x04
	aclOther     = 0x20
	aclUndefined = 0xffffffff
)

// setDefaultACL gives dir the default ACL "user::rwx, group::---, other::---".
func setDefaultACL(dir string) error {
	b := binary.LittleEndian.AppendUint32(nil, aclVersion)
	for _, e := range []struct{ tag, perm uint16 }{{aclUserObj, 7}, {aclGroupObj, 0}, {aclOther, 0}} {
		b = binary.LittleEndian.AppendUint16(b, e.tag)
		b = binary.LittleEndian.AppendUint16(b, e.perm)
		b = binary.LittleEndian.AppendUint32(b, aclUndefined)
	}
	return unix.Setxattr(dir, "system.posix_acl_default", b, 0)
}

func unsupported(err error) bool {
	return errors.Is(err, unix.EOPNOTSUPP) || errors.Is(err, unix.ENOTSUP) || errors.Is(err, unix.ENOSYS)
}
