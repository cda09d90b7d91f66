package directory

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Member kinds.
const (
	KindServer      = "server"      // clckpt serve: holds replicas of non-collocated checkpoints
	KindApplication = "application" // a program using the service
)

// MemberInfo is a member's lease record.
type MemberInfo struct {
	Name        string `json:"name"`
	Kind        string `json:"kind"`
	Incarnation string `json:"incarnation"` // changes at every start of the member
	// Where other members open a direct op link to this one (replication/oplink), when it takes
	// them: the address, the key a dialer proves it knows, and the TLS certificate's fingerprint.
	LinkAddr string `json:"link_addr,omitempty"`
	LinkKey  string `json:"link_key,omitempty"`
	LinkCert string `json:"link_cert,omitempty"`
	// Renewed is when the lease was last written and Expires when it ends without another renewal
	// (the bucket's TTL later), both by the NATS server's clock; filled in by Members, not stored.
	Renewed, Expires time.Time `json:"-"`
}

// DecodeMember decodes a lease's value.
func DecodeMember(v []byte) (MemberInfo, error) {
	var m MemberInfo
	if err := json.Unmarshal(v, &m); err != nil {
		return MemberInfo{}, fmt.Errorf("directory: bad member record: %w", err)
	}
	if !ValidMemberName(m.Name) {
		return MemberInfo{}, fmt.Errorf("directory: bad member name %q", m.Name)
	}
	return m, nil
}

// Register takes the member's lease and returns the revision it wrote (for Refresh). It fails with
// ErrNameTaken when another incarnation of the same name holds a live lease, unless that
// incarnation is previous (the one this member's store remembers: a dead predecessor whose lease
// has not run out yet).
func (d *Directory) Register(ctx context.Context, m MemberInfo, previous string) (uint64, error) {
	v, err := json.Marshal(m)
	if err != nil {
		return 0, err
	}
	for {
		rev, err := d.members.Create(ctx, m.Name, v)
		if err == nil {
			return rev, nil
		}
		if !errors.Is(err, jetstream.ErrKeyExists) {
			return 0, mapErr(ctx, err)
		}
		// Whose lease it is only the stream's leader can say: another replica may still hold a
		// lease that ran out, or miss the one just written.
		cur, err := d.memberReads.get(ctx, m.Name)
		if errors.Is(err, ErrNotFound) { // it ran out meanwhile (or a write of it is in flight)
			select {
			case <-ctx.Done():
				return 0, mapErr(ctx, ctx.Err())
			case <-time.After(20 * time.Millisecond):
			}
			continue
		}
		if err != nil {
			return 0, err
		}
		other, err := DecodeMember(cur.value)
		if err != nil || (other.Incarnation != previous && other.Incarnation != m.Incarnation) {
			return 0, fmt.Errorf("%w: member %q is alive elsewhere (incarnation %s)", ErrNameTaken, m.Name, other.Incarnation)
		}
		rev, err = d.rewriteLease(ctx, m.Name, v, cur.rev)
		if errors.Is(err, ErrConflict) {
			// The lease changed since the leader's answer: the predecessor's ran out (the next
			// Create takes it), or another incarnation took it (the next reading says so).
			continue
		}
		return rev, err
	}
}

// Refresh rewrites the member's lease, which it last wrote at revision rev, and returns the new
// revision. Only this member writes its lease, so rev is the key's revision unless an attempt that
// timed out was stored after all, or the lease ran out (ErrNotFound), or another incarnation took it
// (ErrNameTaken): then the stream's leader says which, and the lease is written over the revision
// the leader read. No replica is read first: one that lags (a server catching up after a restart or
// a healed partition) would hand out an older revision, and the rewrite would fail for as long as it
// lags.
//
// The leader refuses every conditional write of a key while it counts a write of that key in
// flight (JetStream's "wrong last sequence" without a sequence), such as an earlier attempt of this
// member that timed out but is still being stored; a count the leader never clears (seen when a
// healing cluster lost a proposal) refuses them until the stream's leader changes. Once the leader
// has said that the lease is this incarnation's, it is then written without the condition: nobody
// else can take a lease while it lives, and only this member writes it.
func (d *Directory) Refresh(ctx context.Context, m MemberInfo, rev uint64) (uint64, error) {
	v, err := json.Marshal(m)
	if err != nil {
		return 0, err
	}
	checked := false // the leader said that this incarnation holds the lease at rev
	for {
		if rev != 0 {
			n, err := d.members.Update(ctx, m.Name, v, rev)
			if checked && inFlight(err) {
				n, err = d.members.Put(ctx, m.Name, v)
			}
			if err == nil {
				return n, nil
			}
			if !revisionMismatch(err) {
				return 0, mapErr(ctx, err)
			}
		}
		cur, err := d.memberReads.get(ctx, m.Name)
		if err != nil {
			return 0, err
		}
		now, err := DecodeMember(cur.value)
		if err != nil || now.Incarnation != m.Incarnation {
			return 0, fmt.Errorf("%w: the lease of member %q belongs to incarnation %s", ErrNameTaken, m.Name, now.Incarnation)
		}
		rev, checked = cur.rev, true
	}
}

// rewriteLease writes the lease v over revision rev, where the stream's leader said that the
// lease is this incarnation's or its dead predecessor's (as Refresh does, without the condition
// if a write of the key is in flight). A mismatch is a change made since, ErrConflict.
func (d *Directory) rewriteLease(ctx context.Context, name string, v []byte, rev uint64) (uint64, error) {
	n, err := d.members.Update(ctx, name, v, rev)
	if inFlight(err) {
		n, err = d.members.Put(ctx, name, v)
	}
	if revisionMismatch(err) {
		return 0, fmt.Errorf("%w: the lease of member %q changed while it was taken", ErrConflict, name)
	}
	return n, mapErr(ctx, err)
}

// inFlight reports whether err is the leader's refusal of a conditional write of a key that it
// counts a write of in flight.
func inFlight(err error) bool {
	var api *jetstream.APIError
	return errors.As(err, &api) && api.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequenceConstant
}

func revisionMismatch(err error) bool {
	return errors.Is(err, jetstream.ErrKeyExists) || errors.Is(err, jetstream.ErrKeyRevisionMismatch)
}

// Deregister gives the lease up.
func (d *Directory) Deregister(ctx context.Context, name string) error {
	return mapErr(ctx, d.members.Delete(ctx, name))
}

// Members returns the members whose lease is alive, as the members bucket's stream leader has them
// (the keys from its stream information, each lease read from it): a replica that lags (a server
// catching up) may still hold a lease that ran out, or lack one just taken.
func (d *Directory) Members(ctx context.Context) (map[string]MemberInfo, error) {
	l := d.memberReads
	si, err := l.js.StreamInfo(l.stream, &nats.StreamInfoRequest{SubjectsFilter: l.prefix + ">"}, nats.Context(ctx))
	if err != nil {
		return nil, mapErr(ctx, err)
	}
	ttl := si.Config.MaxAge
	out := map[string]MemberInfo{}
	for subj := range si.State.Subjects {
		key := strings.TrimPrefix(subj, l.prefix)
		msg, err := l.js.GetLastMsg(l.stream, subj, nats.Context(ctx))
		if errors.Is(err, nats.ErrMsgNotFound) {
			continue // ran out since
		}
		if err != nil {
			return nil, mapErr(ctx, err)
		}
		if removed(msg.Header) {
			continue
		}
		if m, err := DecodeMember(msg.Data); err == nil && m.Name == key {
			m.Renewed, m.Expires = msg.Time, msg.Time.Add(ttl)
			out[key] = m
		}
	}
	return out, nil
}

// MemberEvent is a member whose lease appeared (Alive) or ended.
type MemberEvent struct {
	Name  string
	Alive bool
	Info  MemberInfo
}

// WatchMembers sends lease changes, starting with the current leases, until ctx ends.
func (d *Directory) WatchMembers(ctx context.Context, out chan<- MemberEvent) error {
	w, err := d.members.WatchAll(ctx)
	if err != nil {
		return mapErr(ctx, err)
	}
	go func() {
		defer w.Stop()
		for kve := range w.Updates() {
			if kve == nil {
				continue
			}
			ev := MemberEvent{Name: kve.Key(), Alive: kve.Operation() == jetstream.KeyValuePut}
			if !ValidMemberName(ev.Name) {
				continue
			}
			if ev.Alive {
				info, err := DecodeMember(kve.Value())
				if err != nil || info.Name != ev.Name {
					continue
				}
				ev.Info = info
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
