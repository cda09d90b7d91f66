package main

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/clckpt/libclckpt/ckpt"
	"github.com/clckpt/libclckpt/replication/directory"
)

// ckptInfo is what the client commands print about a checkpoint.
type ckptInfo struct {
	Name       bytesJSON `json:"name"`
	ID         string    `json:"id"`
	Flags      []string  `json:"flags"`
	Retention  string    `json:"retention"` // a duration, or "forever"
	MaxSecs    uint32    `json:"max_sections"`
	MaxSecSize uint64    `json:"max_section_size"`
	MaxIDSize  uint64    `json:"max_section_id_size"`
	CkptSize   uint64    `json:"checkpoint_size"`
	Epoch      uint64    `json:"epoch"`
	Active     string    `json:"active"` // empty: none
	Replicas   []string  `json:"replicas"`
	InSync     []string  `json:"in_sync"`
	Opens      int       `json:"opens"`
	Deleted    bool      `json:"deleted"`
	// From the checkpoint's status (ls, get): absent when it could not be read (StatusError).
	Sections    *uint32 `json:"sections,omitempty"`
	Size        *uint64 `json:"size,omitempty"`
	StatusError string  `json:"status_error,omitempty"`
	// Each replica's position (status): the last op it holds and how far behind the active it is.
	Positions []replicaJSON `json:"positions,omitempty"`
}

type replicaJSON struct {
	Member string  `json:"member"`
	Alive  bool    `json:"alive"` // its member's lease is alive
	InSync bool    `json:"in_sync"`
	Epoch  uint64  `json:"epoch"`
	LSN    uint64  `json:"lsn"`           // the last op it holds
	Lag    *uint64 `json:"lag,omitempty"` // ops behind the active (absent: unknown)
	Error  string  `json:"error,omitempty"`
}

func infoOf(e *directory.Entry) ckptInfo {
	replicas, synced := append([]string{}, e.Replicas...), append([]string{}, e.Synced...)
	sort.Strings(replicas)
	sort.Strings(synced)
	return ckptInfo{
		Name: jsonBytes(e.Name), ID: fmt.Sprintf("%016x", e.ID), Flags: flagNames(e.Attrs.Flags), Retention: retention(e.Attrs.Retention),
		MaxSecs: e.Attrs.MaxSections, MaxSecSize: e.Attrs.MaxSectionSize, MaxIDSize: e.Attrs.MaxSectionIDSize,
		CkptSize: e.Attrs.CheckpointSize, Epoch: e.Epoch, Active: e.Active, Replicas: replicas, InSync: synced,
		Opens: e.Opens(), Deleted: e.Deleted,
	}
}

func (i *ckptInfo) setStatus(st ckpt.Status, err error) {
	if err != nil {
		i.StatusError = err.Error()
		return
	}
	i.Sections, i.Size = &st.NumberOfSections, &st.MemoryUsed
}

var flagList = []struct {
	f    ckpt.CreationFlags
	name string
}{
	{ckpt.WriteAllReplicas, "all-replicas"}, {ckpt.WriteActiveReplica, "active-replica"},
	{ckpt.WriteActiveReplicaWeak, "active-replica-weak"}, {ckpt.Collocated, "collocated"},
	{ckpt.Distributed, "distributed"}, {ckpt.WriteAllSafe, "all-safe"}, {ckpt.AllOpenAreReplicas, "all-open-are-replicas"},
	{ckpt.PeerToPeerReplica, "peer-to-peer"}, {ckpt.PeerToPeerCacheDisable, "peer-to-peer-cache-disable"},
}

func flagNames(f ckpt.CreationFlags) []string {
	out := []string{}
	for _, n := range flagList {
		if f&n.f != 0 {
			out = append(out, n.name)
		}
	}
	return out
}

func parseFlags(names []string) (ckpt.CreationFlags, error) {
	var f ckpt.CreationFlags
next:
	for _, name := range names {
		for _, n := range flagList {
			if n.name == name {
				f |= n.f
				continue next
			}
		}
		all := make([]string, len(flagList))
		for i, n := range flagList {
			all[i] = n.name
		}
		return 0, usageErr(fmt.Errorf("--flags: unknown flag %q (use %s)", name, strings.Join(all, ", ")))
	}
	return f, nil
}

func retention(d time.Duration) string {
	if d < 0 || d == ckpt.RetainForever {
		return "forever"
	}
	return d.String()
}

// expiration shows a section's expiration: RFC 3339, or "never".
func expiration(t time.Time) string {
	if t.IsZero() || !t.Before(ckpt.Never) {
		return "never"
	}
	return t.UTC().Format(time.RFC3339Nano)
}

func orNone(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
