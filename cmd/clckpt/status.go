package main

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/spf13/cobra"

	"github.com/clckpt/libclckpt/replication"
	"github.com/clckpt/libclckpt/replication/directory"
)

func init() { register(statusCmd, healthCmd) }

type memberJSON struct {
	Name        string `json:"name"`
	Kind        string `json:"kind"`
	Incarnation string `json:"incarnation"`
	Link        string `json:"link"` // empty: no direct op links (ops through NATS)
	LinkTLS     bool   `json:"link_tls"`
	// The lease: when it was last renewed, and the time left before it would end without another
	// renewal (from this machine's clock against the NATS server's, so a skew between them shows).
	LeaseRenewed   time.Time `json:"lease_renewed"`
	LeaseExpiresIn string    `json:"lease_expires_in"`
}

type statusJSON struct {
	URL         string       `json:"url"`
	Members     []memberJSON `json:"members"`
	Checkpoints []ckptInfo   `json:"checkpoints"`
}

// readStatus reads the live members and every checkpoint entry from the directory. A directory
// that does not answer is an error, never an empty list.
func readStatus(ctx context.Context, s *session) (*statusJSON, []*directory.Entry, error) {
	members, err := s.dir.Members(ctx)
	if err != nil {
		return nil, nil, unreachableErr(fmt.Errorf("reading the members' leases: %w", err))
	}
	entries, err := s.dir.List(ctx)
	if err != nil && !errors.Is(err, jetstream.ErrNoKeysFound) {
		return nil, nil, unreachableErr(fmt.Errorf("reading the checkpoint directory: %w", err))
	}
	sort.Slice(entries, func(i, j int) bool { return string(entries[i].Name) < string(entries[j].Name) })
	out := &statusJSON{URL: s.cfg.NATS.URL, Members: []memberJSON{}, Checkpoints: []ckptInfo{}}
	for _, m := range members {
		left := time.Until(m.Expires).Round(time.Millisecond)
		out.Members = append(out.Members, memberJSON{Name: m.Name, Kind: m.Kind, Incarnation: m.Incarnation, Link: m.LinkAddr, LinkTLS: m.LinkCert != "",
			LeaseRenewed: m.Renewed.UTC(), LeaseExpiresIn: left.String()})
	}
	sort.Slice(out.Members, func(i, j int) bool { return out.Members[i].Name < out.Members[j].Name })
	for _, e := range entries {
		out.Checkpoints = append(out.Checkpoints, infoOf(e))
	}
	return out, entries, nil
}

// readPositions asks every live replica of every checkpoint for its position (in parallel, each
// question bounded by the lease) and sets the checkpoints' Positions and lags.
func readPositions(ctx context.Context, s *session, st *statusJSON, entries []*directory.Entry) {
	alive := map[string]bool{}
	for _, m := range st.Members {
		alive[m.Name] = true
	}
	var wg sync.WaitGroup
	limit := make(chan struct{}, 16)
	for i, e := range entries {
		info := &st.Checkpoints[i]
		info.Positions = make([]replicaJSON, len(info.Replicas))
		for j, r := range info.Replicas {
			p := &info.Positions[j]
			*p = replicaJSON{Member: r, Alive: alive[r], InSync: slices.Contains(e.Synced, r)}
			if !p.Alive {
				continue
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				limit <- struct{}{}
				defer func() { <-limit }()
				qctx, cancel := context.WithTimeout(ctx, s.cfg.Lease)
				defer cancel()
				epoch, lsn, held, err := replication.ReplicaPosition(qctx, s.nc, s.cfg.Subject, r, e.ID)
				switch {
				case err != nil:
					p.Error = err.Error()
				case !held:
					p.Error = "holds no replica yet"
				default:
					p.Epoch, p.LSN = epoch, lsn
				}
			}()
		}
	}
	wg.Wait()
	for _, info := range st.Checkpoints {
		var active *replicaJSON
		for j := range info.Positions {
			if info.Positions[j].Member == info.Active && info.Positions[j].Error == "" && info.Positions[j].Alive {
				active = &info.Positions[j]
			}
		}
		if active == nil {
			continue
		}
		for j := range info.Positions {
			p := &info.Positions[j]
			if p.Alive && p.Error == "" && p.Epoch == active.Epoch && p.LSN <= active.LSN {
				lag := active.LSN - p.LSN
				p.Lag = &lag
			}
		}
	}
}

func statusCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "status",
		Short: "List the live members (kind, lease, direct op link) and every checkpoint's replicas",
		Long: `List the members whose lease is alive (their kind, when the lease ends unless renewed, and the
address of their direct op link) and
every checkpoint in the directory: its epoch, active replica, replicas, in-sync set and opens, and
for each replica the last op it holds (LSN) and how many ops it is behind the active ("down": its
member's lease has ended).
A directory that cannot be read is an error (exit code 3), not an empty list.`,
		Args: rangeArgs(0, 0),
	}
	c := addClientFlags(cmd, true)
	cmd.RunE = runE(func(cmd *cobra.Command, _ []string) error {
		return c.withSession(cmd, func(ctx context.Context, s *session) error {
			st, entries, err := readStatus(ctx, s)
			if err != nil {
				return err
			}
			readPositions(ctx, s, st, entries)
			if c.json {
				return printJSON(st)
			}
			fmt.Println("members:")
			for _, m := range st.Members {
				link := "link off"
				if m.Link != "" {
					link = "link " + m.Link
					if m.LinkTLS {
						link += " (tls)"
					}
				}
				fmt.Printf("  %-20s %-12s lease ends in %-8s %s\n", m.Name, m.Kind, m.LeaseExpiresIn, link)
			}
			fmt.Println("checkpoints:")
			for i, e := range st.Checkpoints {
				deleted := ""
				if e.Deleted {
					deleted = " deleted"
				}
				fmt.Printf("  %-20q epoch %-4d active %-12s replicas %v in-sync %v opens %d%s\n",
					entries[i].Name, e.Epoch, orNone(e.Active), e.Replicas, e.InSync, e.Opens, deleted)
				for _, p := range e.Positions {
					state := "lsn " + strconv.FormatUint(p.LSN, 10)
					switch {
					case !p.Alive:
						state = "down"
					case p.Error != "":
						state = "? (" + p.Error + ")"
					case p.Lag != nil:
						state += " lag " + strconv.FormatUint(*p.Lag, 10)
					}
					fmt.Printf("      replica %-20s %s\n", p.Member, state)
				}
			}
			return nil
		})
	})
	return cmd
}

type healthJSON struct {
	Healthy  bool     `json:"healthy"`
	Servers  int      `json:"servers"`
	Members  int      `json:"members"`
	Problems []string `json:"problems"` // what makes it unhealthy
	Warnings []string `json:"warnings"` // degraded, still serving
}

func healthCmd() *cobra.Command {
	var minServers int
	cmd := &cobra.Command{
		Use:   "health",
		Short: "Check that the service serves: exit code 0 when healthy",
		Long: `Check the service, for scripts and service managers: exit code 0 when it is healthy, 1 when it
answers but is not (a checkpoint without a live active replica, fewer server members than
--min-servers), 3 when it cannot be reached. Replicas of running members that are out of the
in-sync set are reported as warnings: the checkpoint still serves, with less redundancy.`,
		Args: rangeArgs(0, 0),
	}
	c := addClientFlags(cmd, true)
	cmd.Flags().IntVar(&minServers, "min-servers", 0, "unhealthy with fewer live server members (clckpt serve) than this")
	cmd.RunE = runE(func(cmd *cobra.Command, _ []string) error {
		return c.withSession(cmd, func(ctx context.Context, s *session) error {
			st, entries, err := readStatus(ctx, s)
			if err != nil {
				return err
			}
			h := healthJSON{Members: len(st.Members), Problems: []string{}, Warnings: []string{}}
			alive := map[string]bool{}
			for _, m := range st.Members {
				alive[m.Name] = true
				if m.Kind == directory.KindServer {
					h.Servers++
				}
			}
			if h.Servers < minServers {
				h.Problems = append(h.Problems, fmt.Sprintf("%d server members alive, fewer than --min-servers %d", h.Servers, minServers))
			}
			for _, e := range entries {
				name := escape(e.Name)
				switch {
				case e.Deleted:
					continue
				case e.Active == "" && e.Attrs.Flags.IsCollocated():
					continue // waits for a program to choose its active replica
				case e.Active == "":
					h.Problems = append(h.Problems, fmt.Sprintf("checkpoint %s has no active replica", name))
					continue
				case !alive[e.Active]:
					h.Problems = append(h.Problems, fmt.Sprintf("checkpoint %s: its active replica %s has no live lease", name, e.Active))
					continue
				}
				for _, r := range e.Replicas {
					// A replica of a member that is down catches up when it comes back: only one
					// that runs and stays behind says something is wrong (its disk, its link).
					if alive[r] && !slices.Contains(e.Synced, r) {
						h.Warnings = append(h.Warnings, fmt.Sprintf("checkpoint %s: replica %s is running but out of sync: see its log", name, r))
					}
				}
			}
			h.Healthy = len(h.Problems) == 0
			if c.json {
				if err := printJSON(h); err != nil {
					return err
				}
			} else {
				for _, p := range h.Problems {
					fmt.Println("problem:", p)
				}
				for _, w := range h.Warnings {
					fmt.Println("warning:", w)
				}
				state := "healthy"
				if !h.Healthy {
					state = "unhealthy"
				}
				fmt.Printf("%s: %d members (%d servers), %d checkpoints\n", state, h.Members, h.Servers, len(entries))
			}
			if !h.Healthy {
				return &codedError{exitFailure, errors.New("unhealthy")}
			}
			return nil
		})
	})
	return cmd
}
