package directory

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

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

// Register takes the member's lease. It fails with ErrNameTaken when another incarnation of the same
// name holds a live lease, unless that incarnation is previous (the one this member's store
// remembers: a dead predecessor whose lease has not run out yet).
func (d *Directory) Register(ctx context.Context, m MemberInfo, previous string) error {
	v, err := json.Marshal(m)
	if err != nil {
		return err
	}
	_, err = d.members.Create(ctx, m.Name, v)
	if err == nil {
		return nil
	}
	if !errors.Is(err, jetstream.ErrKeyExists) {
		return mapErr(err)
	}
	cur, err := d.members.Get(ctx, m.Name)
	if err != nil {
		if errors.Is(err, jetstream.ErrKeyNotFound) || errors.Is(err, jetstream.ErrKeyDeleted) {
			return d.Register(ctx, m, previous) // expired meanwhile
		}
		return mapErr(err)
	}
	other, err := DecodeMember(cur.Value())
	if err != nil || (other.Incarnation != previous && other.Incarnation != m.Incarnation) {
		return fmt.Errorf("%w: member %q is alive elsewhere (incarnation %s)", ErrNameTaken, m.Name, other.Incarnation)
	}
	_, err = d.members.Update(ctx, m.Name, v, cur.Revision())
	return mapErr(err)
}

// Refresh rewrites the member's lease. It fails if the lease ran out or was taken over.
func (d *Directory) Refresh(ctx context.Context, m MemberInfo) error {
	v, _ := json.Marshal(m)
	for attempt := 1; ; attempt++ {
		cur, err := d.members.Get(ctx, m.Name)
		if err != nil {
			return mapErr(err)
		}
		now, err := DecodeMember(cur.Value())
		if err != nil || now.Incarnation != m.Incarnation {
			return fmt.Errorf("%w: the lease of member %q belongs to incarnation %s", ErrNameTaken, m.Name, now.Incarnation)
		}
		_, err = d.members.Update(ctx, m.Name, v, cur.Revision())
		if attempt < 5 && (errors.Is(err, jetstream.ErrKeyExists) || errors.Is(err, jetstream.ErrKeyRevisionMismatch)) {
			// Only this member writes its lease: the revision read was an old copy (reads may be
			// answered by a server that lags). Read it again.
			time.Sleep(time.Duration(attempt) * 10 * time.Millisecond)
			continue
		}
		return mapErr(err)
	}
}

// Deregister gives the lease up.
func (d *Directory) Deregister(ctx context.Context, name string) error {
	return mapErr(d.members.Delete(ctx, name))
}

// Members returns the members whose lease is alive.
func (d *Directory) Members(ctx context.Context) (map[string]MemberInfo, error) {
	lister, err := d.members.ListKeys(ctx)
	if err != nil {
		if errors.Is(err, jetstream.ErrNoKeysFound) {
			return map[string]MemberInfo{}, nil
		}
		return nil, mapErr(err)
	}
	var ttl time.Duration
	if st, err := d.members.Status(ctx); err == nil {
		ttl = st.TTL()
	}
	out := map[string]MemberInfo{}
	for key := range lister.Keys() {
		kve, err := d.members.Get(ctx, key)
		if err != nil {
			continue
		}
		if m, err := DecodeMember(kve.Value()); err == nil && m.Name == key {
			m.Renewed, m.Expires = kve.Created(), kve.Created().Add(ttl)
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
		return mapErr(err)
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
