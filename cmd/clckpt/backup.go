package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/clckpt/libclckpt/backup"
	"github.com/clckpt/libclckpt/backup/archive"
	"github.com/clckpt/libclckpt/ckpt"
	"github.com/clckpt/libclckpt/config"
)

func init() { register(backupCmd, restoreCmd, backupsCmd, backupDeleteCmd) }

const archiveHelp = "where the backups are: a directory, or nats:BUCKET for a JetStream object store of the service's NATS cluster (default: backups.d in the data directory)"

// backupFlags are what the backup commands share beside the connection flags.
type backupFlags struct {
	*client
	archive string
}

func addBackupFlags(cmd *cobra.Command) *backupFlags {
	b := &backupFlags{client: addClientFlags(cmd, true)}
	cmd.Flags().StringVar(&b.archive, "archive", "", archiveHelp)
	return b
}

// isObjectStore tells whether the archive is an object store of the service's NATS cluster.
func (b *backupFlags) isObjectStore() bool { return strings.HasPrefix(b.archive, "nats:") }

// open returns the backup manager of the archive; m is nil when the command needs no member (a
// directory archive that is only queried or changed).
func (b *backupFlags) open(ctx context.Context, cfg config.Config, m *member) (*backup.Manager, error) {
	var ar archive.Archive
	var err error
	switch {
	case b.isObjectStore():
		bucket := strings.TrimPrefix(b.archive, "nats:")
		if bucket == "" {
			return nil, usageErr(errors.New("--archive nats: needs a bucket name (nats:BUCKET)"))
		}
		js, replicas := m.Archive()
		ar, err = archive.OpenObjectStore(ctx, js, bucket, replicas)
	case b.archive == "":
		ar, err = archive.OpenDir(archive.DefaultDir(cfg.DataDir))
	default:
		var dir string
		if dir, err = filepath.Abs(b.archive); err == nil {
			ar, err = archive.OpenDir(dir)
		}
	}
	if err != nil {
		return nil, err
	}
	if m == nil {
		return backup.New(nil, ar), nil
	}
	return backup.New(m.Member, ar), nil
}

// with runs fn with the manager of the archive. The command joins the service as a member when
// needMember is set or the archive is an object store; a directory archive is otherwise used
// without the service. ctx ends on SIGINT or SIGTERM (which cancels a backup or restore: nothing
// is committed), not after --timeout, which bounds only the wait for the service.
func (b *backupFlags) with(cmd *cobra.Command, needMember bool, fn func(ctx context.Context, mgr *backup.Manager, m *member) error) error {
	ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	cfg, err := b.config()
	if err != nil {
		return err
	}
	var m *member
	if needMember || b.isObjectStore() {
		if m, err = b.join(ctx); err != nil {
			return err
		}
		defer m.leave()
	}
	mgr, err := b.open(ctx, cfg, m)
	if err != nil {
		return err
	}
	return fn(ctx, mgr, m)
}

// showProgress draws a progress bar of done() out of total bytes on stderr until the channel
// closes: only when stderr is a terminal and the output is not JSON.
func (b *backupFlags) showProgress(what string, total int64, end <-chan struct{}, done func() int64) {
	if b.json || !term.IsTerminal(int(os.Stderr.Fd())) {
		<-end
		return
	}
	if total <= 0 {
		total = -1 // unknown: a spinner
	}
	bar := progressbar.NewOptions64(total, progressbar.OptionSetWriter(os.Stderr), progressbar.OptionSetDescription(what),
		progressbar.OptionShowBytes(true), progressbar.OptionThrottle(100*time.Millisecond), progressbar.OptionClearOnFinish(),
		progressbar.OptionSetRenderBlankState(true))
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-end:
			_ = bar.Finish()
			return
		case <-t.C:
			n := done()
			if total > 0 && n > total {
				n = total
			}
			_ = bar.Set64(n)
		}
	}
}

// copyJSON is a catalogue entry as the commands print it.
type copyJSON struct {
	CopyID      string    `json:"copy_id"` // 16 hexadecimal digits
	Checkpoint  bytesJSON `json:"checkpoint"`
	BackupName  string    `json:"backup_name"`
	Owner       string    `json:"owner"`
	Created     string    `json:"created"` // RFC 3339, UTC
	Size        int64     `json:"size"`
	Digest      string    `json:"digest"` // SHA-256 of the archive object
	CopyType    string    `json:"copy_type"`
	Status      string    `json:"status"`
	Description string    `json:"description"`
	ObjectInfo  string    `json:"object_info"`
	Expires     string    `json:"expires"` // RFC 3339, or "never"
	Epoch       uint64    `json:"epoch"`
	LSN         uint64    `json:"lsn"`
	Compression string    `json:"compression"`
}

var (
	copyTypes    = map[string]backup.CopyType{"backup": backup.CopyBackup, "archive": backup.CopyArchive}
	statuses     = map[string]backup.Status{"most-recent": backup.MostRecent, "not-most-recent": backup.NotMostRecent}
	compressions = map[string]backup.Compression{"none": backup.CompressNone, "zstd": backup.CompressZstd}
)

// nameOf is the key of v in m ("?" when none).
func nameOf[V comparable](m map[string]V, v V) string {
	for k, x := range m {
		if x == v {
			return k
		}
	}
	return "?"
}

// choice reads a flag's value among the keys of m.
func choice[V any](m map[string]V, flag, s string) (V, error) {
	v, ok := m[s]
	if !ok {
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		return v, usageErr(fmt.Errorf("--%s %q: use one of %s", flag, s, strings.Join(keys, ", ")))
	}
	return v, nil
}

func copyOf(d backup.Descriptor) copyJSON {
	exp := "never"
	if !d.Expires.IsZero() {
		exp = d.Expires.UTC().Format(time.RFC3339)
	}
	return copyJSON{CopyID: fmt.Sprintf("%016x", d.CopyID), Checkpoint: jsonBytes([]byte(d.Checkpoint)), BackupName: d.BackupName,
		Owner: d.Owner, Created: d.Created.UTC().Format(time.RFC3339Nano), Size: d.Size, Digest: d.Digest,
		CopyType: nameOf(copyTypes, d.CopyType), Status: nameOf(statuses, d.Status), Description: d.Description,
		ObjectInfo: d.ObjectInfo, Expires: exp, Epoch: d.Epoch, LSN: d.LSN, Compression: nameOf(compressions, d.Compression)}
}

// printCopies prints catalogue entries: JSON, or a table.
func (b *backupFlags) printCopies(list []backup.Descriptor) error {
	out := make([]copyJSON, 0, len(list))
	for _, d := range list {
		out = append(out, copyOf(d))
	}
	if b.json {
		return printJSON(out)
	}
	w := tabwriter.NewWriter(os.Stdout, 0, 8, 2, ' ', 0)
	fmt.Fprintln(w, "COPY-ID\tBACKUP\tCHECKPOINT\tCREATED\tSIZE\tTYPE\tSTATUS\tEXPIRES\tDESCRIPTION")
	for _, c := range out {
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%d\t%s\t%s\t%s\t%s\n", c.CopyID, escape([]byte(c.BackupName)), c.Checkpoint.Text,
			c.Created, c.Size, c.CopyType, c.Status, c.Expires, strconv.Quote(c.Description))
	}
	return w.Flush()
}

// parseCopyID reads a copy id as printed (16 hexadecimal digits, 0x allowed).
func parseCopyID(s string) (uint64, error) {
	id, err := strconv.ParseUint(strings.TrimPrefix(s, "0x"), 16, 64)
	if err != nil || id == 0 {
		return 0, usageErr(fmt.Errorf("copy id %q: hexadecimal digits as printed by clckpt backups", s))
	}
	return id, nil
}

// findCopy returns the live copy called name (with id zero) or of that id (ckpt.ErrNotExist).
func findCopy(ctx context.Context, mgr *backup.Manager, name string, id uint64) (backup.Descriptor, error) {
	if name == "" {
		return mgr.Get(ctx, id)
	}
	r, err := mgr.Query(ctx, backup.Query{})
	if err != nil {
		return backup.Descriptor{}, err
	}
	var found *backup.Descriptor
	for _, d := range r.All() { // oldest first: the newest of a name wins, as restore chooses
		if d.BackupName == name {
			found = &d
		}
	}
	if found == nil {
		return backup.Descriptor{}, fmt.Errorf("%w: no backup %q", ckpt.ErrNotExist, name)
	}
	return *found, nil
}

func backupCmd() *cobra.Command {
	var (
		isHex, overwrite               bool
		names                          []string
		compress, copyType, desc, info string
		expire                         time.Duration
		expires                        string
		keepLast                       int
	)
	cmd := &cobra.Command{
		Use:   "backup NAME... --name BACKUP",
		Short: "Back up checkpoints into the archive, as one transaction",
		Long: `Copy the checkpoints NAME... into the archive under the backup name(s) of --name: give --name once
per NAME (in the same order), or once for several NAMEs, whose copies are then called BACKUP/NAME.
Each copy is a consistent cut of its checkpoint (every section as of one operation of its active
replica), taken without stopping its writers; the copies are committed to the catalogue together,
or none is (a failure, or SIGINT/SIGTERM, which cancels the backup). A backup name in use fails
(exit code 5) unless --overwrite replaces that copy in the same commit.

A progress bar is drawn on stderr when it is a terminal (never with --json). The command prints
the copies committed (with --json, as clckpt backups --json does).`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usageErr(fmt.Errorf("backup takes at least one checkpoint name (usage: %s)", strings.TrimSpace(cmd.UseLine())))
			}
			return nil
		},
	}
	b := addBackupFlags(cmd)
	f := cmd.Flags()
	f.BoolVar(&isHex, "hex", false, "the NAMEs are given in hexadecimal")
	f.StringArrayVar(&names, "name", nil, "backup name: once per NAME, or once (copies BACKUP/NAME of several NAMEs)")
	f.BoolVar(&overwrite, "overwrite", false, "replace live copies of the same backup names")
	f.StringVar(&compress, "compress", "none", "compression of the archive object: none or zstd")
	f.StringVar(&copyType, "copy-type", "backup", "backup (the checkpoint is kept) or archive (a long-term copy)")
	f.StringVar(&desc, "description", "", fmt.Sprintf("free text kept with each copy (at most %d bytes)", backup.MaxDescription))
	f.StringVar(&info, "object-info", "", fmt.Sprintf("free text about the object (at most %d bytes)", backup.MaxObjectInfo))
	f.DurationVar(&expire, "expire", 0, "the copies expire after this long (0: never); expired copies are deleted by sweeps")
	f.StringVar(&expires, "expires", "", "the copies expire at this time (RFC 3339)")
	f.IntVar(&keepLast, "keep-last", 0, "after the commit, keep only the newest N copies of each checkpoint and copy type (also deletes expired copies and the remains of failed backups over an hour old)")
	cmd.RunE = runE(func(cmd *cobra.Command, args []string) error {
		req := backup.Request{Overwrite: overwrite}
		var err error
		if req.Compression, err = choice(compressions, "compress", compress); err != nil {
			return err
		}
		ct, err := choice(copyTypes, "copy-type", copyType)
		if err != nil {
			return err
		}
		var exp time.Time
		switch {
		case expire != 0 && expires != "":
			return usageErr(errors.New("give --expire or --expires, not both"))
		case expire < 0 || keepLast < 0:
			return usageErr(errors.New("--expire and --keep-last cannot be negative"))
		case expire > 0:
			exp = time.Now().Add(expire)
		case expires != "":
			if exp, err = time.Parse(time.RFC3339, expires); err != nil {
				return usageErr(fmt.Errorf("--expires %q: an RFC 3339 time (2006-01-02T15:04:05Z)", expires))
			}
		}
		switch {
		case len(names) == 0:
			return usageErr(errors.New("--name BACKUP is required"))
		case len(names) != 1 && len(names) != len(args):
			return usageErr(fmt.Errorf("%d --name for %d checkpoints: give one, or one per checkpoint", len(names), len(args)))
		}
		for i, a := range args {
			name, _, err := nameArgs([]string{a}, isHex)
			if err != nil {
				return err
			}
			bn := names[0]
			if len(names) == len(args) {
				bn = names[i]
			} else if len(args) > 1 {
				bn += "/" + name
			}
			req.Items = append(req.Items, backup.Item{Checkpoint: name, BackupName: bn, CopyType: ct, Description: desc,
				ObjectInfo: info, Expires: exp})
		}
		return b.with(cmd, true, func(ctx context.Context, mgr *backup.Manager, m *member) error {
			var total int64
			for _, it := range req.Items {
				if st, err := statusOf(ctx, m, it.Checkpoint); err == nil {
					total += int64(st.MemoryUsed)
				}
			}
			job, err := mgr.Start(ctx, req)
			if err != nil {
				return err
			}
			b.showProgress("backup", total, job.Done(), func() int64 { return job.Progress().Bytes })
			copies, err := job.Wait(ctx)
			if err != nil {
				return err
			}
			if keepLast > 0 {
				if _, err := mgr.Sweep(ctx, backup.SweepOptions{KeepLast: keepLast}); err != nil {
					return fmt.Errorf("the backup is committed, but the sweep of --keep-last failed: %w", err)
				}
			}
			return b.printCopies(copies)
		})
	})
	return cmd
}

func restoreCmd() *cobra.Command {
	var (
		isHex, replace bool
		copyID, to     string
	)
	cmd := &cobra.Command{
		Use:   "restore [BACKUP] [--copy-id ID] [--to NAME] [--replace]",
		Short: "Restore a checkpoint from a backup",
		Long: `Re-create the checkpoint of backup BACKUP (or of the copy --copy-id) exactly: attributes, section ids,
expiration times, data and position, under its own name or --to NAME. The whole copy is verified
(SHA-256 of every chunk and of the whole) before the checkpoint appears: a damaged copy fails and
nothing changes. Over an existing checkpoint, --replace is needed (exit code 5 without it) and the
attributes must be equal; the change is atomic: handles already open keep the old content, later
opens get the restored one.

The restored checkpoint is made on this command's member and copied to the service's other
members; the command waits (up to --timeout) until a server member holds it in sync before it
leaves. A progress bar is drawn on stderr when it is a terminal (never with --json).`,
		Args: rangeArgs(0, 1),
	}
	b := addBackupFlags(cmd)
	f := cmd.Flags()
	f.StringVar(&copyID, "copy-id", "", "restore the copy of this id (as printed by clckpt backups) instead of BACKUP")
	f.StringVar(&to, "to", "", "the checkpoint to restore into (default: the one backed up)")
	f.BoolVar(&replace, "replace", false, "restore over an existing checkpoint of that name (its attributes must be equal)")
	f.BoolVar(&isHex, "hex", false, "--to is given in hexadecimal")
	cmd.RunE = runE(func(cmd *cobra.Command, args []string) error {
		req := backup.RestoreRequest{Replace: replace, Flags: ckpt.OpenRead}
		switch {
		case len(args) == 1 && copyID != "":
			return usageErr(errors.New("give BACKUP or --copy-id, not both"))
		case len(args) == 1:
			req.BackupName = args[0]
		case copyID == "":
			return usageErr(errors.New("give BACKUP or --copy-id"))
		default:
			var err error
			if req.CopyID, err = parseCopyID(copyID); err != nil {
				return err
			}
		}
		if to != "" {
			var err error
			if req.Target, _, err = nameArgs([]string{to}, isHex); err != nil {
				return err
			}
		}
		return b.with(cmd, true, func(ctx context.Context, mgr *backup.Manager, m *member) error {
			d, err := findCopy(ctx, mgr, req.BackupName, req.CopyID)
			if err != nil {
				return err
			}
			if m.cfg.Replicas < 2 {
				// The restore places the checkpoint on this member first and on CLCKPT_REPLICAS
				// members in all: with one, this member alone would hold it, and it would be lost as
				// the command leaves (over an existing checkpoint, with the old one).
				return fmt.Errorf("%w: with CLCKPT_REPLICAS=%d the restored checkpoint would be held by this command alone; restore with CLCKPT_REPLICAS of 2 or more, or from a program",
					ckpt.ErrBadOperation, m.cfg.Replicas)
			}
			// A collocated checkpoint lives on the members of the programs that open it: restored
			// here, it would be held by this command alone and lost as it leaves (over an existing
			// checkpoint, with the old one). Refused before anything changes.
			attrs, err := mgr.Attributes(ctx, d.CopyID)
			if err != nil {
				return err
			}
			if attrs.Flags.IsCollocated() {
				return fmt.Errorf("%w: backup %s holds a collocated checkpoint, which lives with the programs that open it; restore it from such a program (clCkptRestoreStart)",
					ckpt.ErrBadOperation, escape([]byte(d.BackupName)))
			}
			req.BackupName, req.CopyID = "", d.CopyID // the copy found, whatever is committed meanwhile
			job := mgr.StartRestore(ctx, req)
			b.showProgress("restore", d.Size, job.Done(), job.BytesRead)
			h, err := job.Wait(ctx)
			if err != nil {
				return err
			}
			defer h.Close()
			target := req.Target
			if target == "" {
				target = d.Checkpoint
			}
			if err := m.waitElsewhere(ctx, target, b.timeout); err != nil {
				return err
			}
			if b.json {
				return printJSON(struct {
					Copy       copyJSON  `json:"copy"`
					Checkpoint bytesJSON `json:"checkpoint"`
				}{copyOf(d), jsonBytes([]byte(target))})
			}
			fmt.Printf("restored backup %s (copy %016x of %s) into %s\n", escape([]byte(d.BackupName)), d.CopyID,
				escape([]byte(d.Checkpoint)), escape([]byte(target)))
			return nil
		})
	})
	return cmd
}

// waitElsewhere waits until a member other than m holds the checkpoint in sync: m is leaving.
func (m *member) waitElsewhere(ctx context.Context, name string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		e, err := m.Entry(ctx, name)
		if err != nil {
			return err
		}
		for _, s := range e.Synced {
			if s != m.Name() {
				return nil
			}
		}
		if len(e.Replicas) == 1 && e.Replicas[0] == m.Name() {
			return fmt.Errorf("no server member (clckpt serve) to hold the restored checkpoint %s", escape([]byte(name)))
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%w: the restored checkpoint %s reached no server member within %s", ckpt.ErrTimeout, escape([]byte(name)), timeout)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func backupsCmd() *cobra.Command {
	var (
		name, copyType, status, since, until string
	)
	cmd := &cobra.Command{
		Use:   "backups [CHECKPOINT-PATTERN]",
		Short: "List the backups in the catalogue",
		Long: `List the live copies of the archive's catalogue, oldest first: those of the checkpoints matching
CHECKPOINT-PATTERN and of the backup names matching --name (patterns with * for any run of bytes,
'/' included, and ? for one byte; default: all), of --copy-type, of --status, made in the
--since/--until range. A directory archive is read without reaching the service.`,
		Args: rangeArgs(0, 1),
	}
	b := addBackupFlags(cmd)
	f := cmd.Flags()
	f.StringVar(&name, "name", "", "pattern on the backup name")
	f.StringVar(&copyType, "copy-type", "", "backup or archive (default: both)")
	f.StringVar(&status, "status", "", "most-recent or not-most-recent (default: both)")
	f.StringVar(&since, "since", "", "made at or after this time (RFC 3339, or a duration: that long ago)")
	f.StringVar(&until, "until", "", "made at or before this time (RFC 3339, or a duration: that long ago)")
	cmd.RunE = runE(func(cmd *cobra.Command, args []string) error {
		var q backup.Query
		var err error
		if len(args) == 1 {
			q.Checkpoint = args[0]
		}
		q.BackupName = name
		for _, p := range []string{q.Checkpoint, q.BackupName} {
			if _, err := path.Match(p, ""); err != nil {
				return usageErr(fmt.Errorf("pattern %q: %w", p, err))
			}
		}
		if copyType != "" {
			if q.CopyType, err = choice(copyTypes, "copy-type", copyType); err != nil {
				return err
			}
		}
		if status != "" {
			if q.Status, err = choice(statuses, "status", status); err != nil {
				return err
			}
		}
		if q.From, err = timeFlag("since", since); err != nil {
			return err
		}
		if q.To, err = timeFlag("until", until); err != nil {
			return err
		}
		return b.with(cmd, false, func(ctx context.Context, mgr *backup.Manager, _ *member) error {
			r, err := mgr.Query(ctx, q)
			if err != nil {
				return err
			}
			return b.printCopies(r.All())
		})
	})
	return cmd
}

// timeFlag reads a time given as RFC 3339 or as a duration ago (empty: the zero time).
func timeFlag(flag, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if d, err := time.ParseDuration(s); err == nil {
		return time.Now().Add(-d), nil
	}
	return time.Time{}, usageErr(fmt.Errorf("--%s %q: an RFC 3339 time or a duration", flag, s))
}

func backupDeleteCmd() *cobra.Command {
	var ids []string
	cmd := &cobra.Command{
		Use:   "backup-delete [BACKUP...] [--copy-id ID...]",
		Short: "Delete backups from the catalogue and the archive",
		Long: `Delete the backups named BACKUP... and the copies --copy-id, all in one commit of the catalogue:
when one of them does not exist (exit code 4) nothing is deleted.`,
	}
	b := addBackupFlags(cmd)
	cmd.Flags().StringArrayVar(&ids, "copy-id", nil, "also delete the copy of this id (repeatable)")
	cmd.RunE = runE(func(cmd *cobra.Command, args []string) error {
		if len(args) == 0 && len(ids) == 0 {
			return usageErr(errors.New("give the backups to delete (BACKUP... or --copy-id)"))
		}
		var del []uint64
		for _, s := range ids {
			id, err := parseCopyID(s)
			if err != nil {
				return err
			}
			del = append(del, id)
		}
		return b.with(cmd, false, func(ctx context.Context, mgr *backup.Manager, _ *member) error {
			var gone []backup.Descriptor
			seen := map[uint64]bool{}
			add := func(d backup.Descriptor, err error) error {
				if err == nil && !seen[d.CopyID] {
					seen[d.CopyID] = true
					gone = append(gone, d)
				}
				return err
			}
			for _, id := range del {
				if err := add(mgr.Get(ctx, id)); err != nil {
					return err
				}
			}
			for _, a := range args {
				if err := add(findCopy(ctx, mgr, a, 0)); err != nil {
					return err
				}
			}
			del = del[:0]
			for _, d := range gone {
				del = append(del, d.CopyID)
			}
			if err := mgr.Delete(ctx, del...); err != nil {
				return err
			}
			if b.json {
				return b.printCopies(gone)
			}
			return nil
		})
	})
	return cmd
}
