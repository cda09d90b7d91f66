package main

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path"
	"path/filepath"
	"sort"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/clckpt/libclckpt/ckpt"
)

func init() { register(lsCmd, getCmd, dumpCmd, watchCmd) }

const openNote = `It reads through the checkpoint's active replica without opening it: the checkpoint's opens,
replicas and retention stay as they are.`

func lsCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "ls [PATTERN]",
		Short: "List the checkpoints: attributes, sections, size, replicas, active, opens",
		Long: `List the checkpoints whose name matches PATTERN (a shell pattern: *, ?, [...]; default: all), with
their attributes, number of sections and bytes held (from the active replica), replicas, in-sync set,
active replica and opens.

` + openNote,
		Args: rangeArgs(0, 1),
	}
	c := addClientFlags(cmd, true)
	cmd.RunE = runE(func(cmd *cobra.Command, args []string) error {
		pattern := "*"
		if len(args) == 1 {
			pattern = args[0]
		}
		if _, err := path.Match(pattern, ""); err != nil {
			return usageErr(fmt.Errorf("pattern %q: %w", pattern, err))
		}
		return c.withSession(cmd, func(ctx context.Context, s *session) error {
			_, entries, err := readStatus(ctx, s)
			if err != nil {
				return err
			}
			var chosen []ckptInfo
			var names []string
			for _, e := range entries {
				if ok, _ := path.Match(pattern, string(e.Name)); ok && !e.Deleted {
					chosen = append(chosen, infoOf(e))
					names = append(names, string(e.Name))
				}
			}
			if len(chosen) > 0 {
				m, err := c.join(ctx)
				if err != nil {
					return err
				}
				defer m.leave()
				for i := range chosen {
					chosen[i].setStatus(statusOf(ctx, m, names[i]))
				}
			}
			if c.json {
				if chosen == nil {
					chosen = []ckptInfo{}
				}
				return printJSON(chosen)
			}
			w := tabwriter.NewWriter(os.Stdout, 0, 8, 2, ' ', 0)
			fmt.Fprintln(w, "NAME\tSECTIONS\tSIZE\tACTIVE\tREPLICAS\tIN-SYNC\tOPENS\tFLAGS\tRETENTION")
			for _, i := range chosen {
				secs, size := "?", "?"
				if i.Sections != nil {
					secs, size = fmt.Sprint(*i.Sections), fmt.Sprint(*i.Size)
				}
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%d\t%d\t%d\t%s\t%s\n", i.Name.Text, secs, size, orNone(i.Active), len(i.Replicas), len(i.InSync),
					i.Opens, joinOr(i.Flags), i.Retention)
			}
			return w.Flush()
		})
	})
	return cmd
}

func joinOr(v []string) string {
	if len(v) == 0 {
		return "-"
	}
	s := v[0]
	for _, x := range v[1:] {
		s += "," + x
	}
	return s
}

// statusOf returns the status of the checkpoint name.
func statusOf(ctx context.Context, m *member, name string) (ckpt.Status, error) {
	h, err := m.Inspect(ctx, name, ckpt.OpenRead)
	if err != nil {
		return ckpt.Status{}, err
	}
	defer h.Close()
	return h.Status(ctx)
}

// nameArgs reads the NAME [SECTION] arguments.
func nameArgs(args []string, isHex bool) (name string, section []byte, err error) {
	b, err := byteArg(args[0], isHex, "name")
	if err != nil {
		return "", nil, err
	}
	if len(b) == 0 {
		return "", nil, usageErr(errors.New("empty checkpoint name"))
	}
	if len(args) > 1 {
		if section, err = byteArg(args[1], isHex, "section id"); err != nil {
			return "", nil, err
		}
	}
	return string(b), section, nil
}

type sectionJSON struct {
	ID         bytesJSON `json:"id"`
	Size       uint64    `json:"size"`
	Expiration string    `json:"expiration"` // RFC 3339, or "never"
	State      string    `json:"state"`
	LastUpdate string    `json:"last_update,omitempty"` // unknown for a default section
	Data       string    `json:"data,omitempty"`        // in the --format chosen
	Format     string    `json:"format,omitempty"`
}

func sectionOf(d ckpt.SectionDescriptor) sectionJSON {
	state := "valid"
	if d.State == ckpt.SectionCorrupted {
		state = "corrupted"
	}
	s := sectionJSON{ID: jsonBytes(d.ID), Size: d.Size, Expiration: expiration(d.Expiration), State: state}
	if !d.LastUpdate.IsZero() {
		s.LastUpdate = d.LastUpdate.UTC().Format(time.RFC3339Nano)
	}
	return s
}

// sections returns the descriptors of every section of h, sorted by id.
func sections(ctx context.Context, h ckpt.Checkpoint) ([]ckpt.SectionDescriptor, error) {
	it, err := h.Sections(ctx, ckpt.SectionsAny, time.Now())
	if errors.Is(err, ckpt.ErrNotPermitted) {
		// A one-section checkpoint: its default section (empty id), which never expires.
		return []ckpt.SectionDescriptor{{ID: []byte{}, Expiration: ckpt.Never, State: ckpt.SectionValid}}, nil
	}
	if err != nil {
		return nil, err
	}
	defer it.Close()
	var out []ckpt.SectionDescriptor
	for {
		d, err := it.Next()
		if errors.Is(err, ckpt.ErrNoSections) {
			break
		}
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	sort.Slice(out, func(i, j int) bool { return string(out[i].ID) < string(out[j].ID) })
	return out, nil
}

// readSection reads the whole section id.
func readSection(ctx context.Context, h ckpt.Checkpoint, id []byte) ([]byte, error) {
	el := []ckpt.ReadElement{{SectionID: id}}
	if err := h.Read(ctx, el); err != nil {
		return nil, err
	}
	return el[0].Buffer[:el[0].ReadSize], nil
}

func getCmd() *cobra.Command {
	var (
		isHex          bool
		format, output string
	)
	cmd := &cobra.Command{
		Use:   "get NAME [SECTION]",
		Short: "Show a checkpoint, or print one section's data",
		Long: `Without SECTION: show the checkpoint (attributes, sections, size, replicas, active, opens).
With SECTION: print the section's data, raw by default (--format hex or base64), or write it raw to
a file (-o). An empty SECTION ("") names the default section of a one-section checkpoint.

` + openNote,
		Args: rangeArgs(1, 2),
	}
	c := addClientFlags(cmd, true)
	cmd.Flags().BoolVar(&isHex, "hex", false, "NAME and SECTION are given in hexadecimal")
	cmd.Flags().StringVar(&format, "format", "raw", "section data on stdout: raw, hex or base64 (--json: hex or base64, default base64)")
	cmd.Flags().StringVarP(&output, "output", "o", "", "write the section's data, raw, to this file")
	cmd.RunE = runE(func(cmd *cobra.Command, args []string) error {
		name, section, err := nameArgs(args, isHex)
		if err != nil {
			return err
		}
		if c.json && !cmd.Flags().Changed("format") {
			format = "base64"
		}
		if err := checkFormat(format, !c.json); err != nil {
			return err
		}
		return c.withMember(cmd, func(ctx context.Context, m *member) error {
			e, err := m.Entry(ctx, name)
			if err != nil {
				return err
			}
			h, err := m.Inspect(ctx, name, ckpt.OpenRead)
			if err != nil {
				return err
			}
			defer h.Close()
			if len(args) == 1 {
				info := infoOf(e)
				info.setStatus(h.Status(ctx))
				if c.json {
					return printJSON(info)
				}
				printInfo(info)
				return nil
			}
			data, err := readSection(ctx, h, section)
			if err != nil {
				return err
			}
			switch {
			case output != "":
				return os.WriteFile(output, data, 0o600)
			case c.json:
				descs, err := sections(ctx, h)
				if err != nil {
					return err
				}
				for _, d := range descs {
					if string(d.ID) == string(section) {
						s := sectionOf(d)
						s.Data, s.Format, s.Size = encodeData(data, format), format, uint64(len(data))
						return printJSON(s)
					}
				}
				return fmt.Errorf("%w: section %s is gone", ckpt.ErrNotExist, escape(section))
			case format == "raw":
				_, err = os.Stdout.Write(data)
				return err
			}
			fmt.Println(encodeData(data, format))
			return nil
		})
	})
	return cmd
}

func printInfo(i ckptInfo) {
	w := tabwriter.NewWriter(os.Stdout, 0, 8, 1, ' ', 0)
	secs, size := "? ("+i.StatusError+")", "?"
	if i.Sections != nil {
		secs, size = fmt.Sprint(*i.Sections), fmt.Sprint(*i.Size)
	}
	for _, kv := range [][2]string{
		{"name", i.Name.Text}, {"id", i.ID}, {"flags", joinOr(i.Flags)}, {"retention", i.Retention},
		{"max sections", fmt.Sprint(i.MaxSecs)}, {"max section size", fmt.Sprint(i.MaxSecSize)},
		{"max section id size", fmt.Sprint(i.MaxIDSize)}, {"checkpoint size", fmt.Sprint(i.CkptSize)},
		{"sections", secs}, {"size", size}, {"epoch", fmt.Sprint(i.Epoch)}, {"active", orNone(i.Active)},
		{"replicas", fmt.Sprint(i.Replicas)}, {"in sync", fmt.Sprint(i.InSync)}, {"opens", fmt.Sprint(i.Opens)},
	} {
		fmt.Fprintf(w, "%s:\t%s\n", kv[0], kv[1])
	}
	_ = w.Flush()
}

func dumpCmd() *cobra.Command {
	var (
		isHex          bool
		format, output string
	)
	cmd := &cobra.Command{
		Use:   "dump NAME",
		Short: "Print every section of a checkpoint: id, expiration, size and data",
		Long: `Print every section of the checkpoint: its id (escaped), expiration, size, state and data
(hexadecimal by default, --format base64), or with -o DIR write each section's data raw to a file of
DIR named by the id in hexadecimal ("default" for the default section).

` + openNote,
		Args: rangeArgs(1, 1),
	}
	c := addClientFlags(cmd, true)
	cmd.Flags().BoolVar(&isHex, "hex", false, "NAME is given in hexadecimal")
	cmd.Flags().StringVar(&format, "format", "hex", "section data: hex or base64")
	cmd.Flags().StringVarP(&output, "output", "o", "", "write each section's data raw to a file in this directory")
	cmd.RunE = runE(func(cmd *cobra.Command, args []string) error {
		name, _, err := nameArgs(args, isHex)
		if err != nil {
			return err
		}
		if err := checkFormat(format, false); err != nil {
			return err
		}
		if output != "" {
			if err := os.MkdirAll(output, 0o700); err != nil {
				return err
			}
		}
		return c.withMember(cmd, func(ctx context.Context, m *member) error {
			h, err := m.Inspect(ctx, name, ckpt.OpenRead)
			if err != nil {
				return err
			}
			defer h.Close()
			descs, err := sections(ctx, h)
			if err != nil {
				return err
			}
			out := struct {
				Name     bytesJSON     `json:"name"`
				Sections []sectionJSON `json:"sections"`
			}{Name: jsonBytes([]byte(name)), Sections: []sectionJSON{}}
			for _, d := range descs {
				data, err := readSection(ctx, h, d.ID)
				if errors.Is(err, ckpt.ErrNotExist) {
					continue // deleted or expired since the ids were listed
				}
				if err != nil {
					return err
				}
				s := sectionOf(d)
				s.Size = uint64(len(data))
				if output != "" {
					file := hex.EncodeToString(d.ID)
					if file == "" {
						file = "default"
					}
					if err := os.WriteFile(filepath.Join(output, file), data, 0o600); err != nil {
						return err
					}
				} else {
					s.Data, s.Format = encodeData(data, format), format
				}
				out.Sections = append(out.Sections, s)
			}
			if c.json {
				return printJSON(out)
			}
			for _, s := range out.Sections {
				fmt.Printf("section %s size %d expires %s state %s updated %s\n", s.ID.Text, s.Size, s.Expiration, s.State, orNone(s.LastUpdate))
				if s.Data != "" || output == "" {
					fmt.Printf("  %s\n", s.Data)
				}
			}
			return nil
		})
	})
	return cmd
}

type updateJSON struct {
	Section bytesJSON `json:"section"`
	Offset  int64     `json:"offset"`
	Size    int       `json:"size"`
	Deleted bool      `json:"deleted"` // a deleted or expired section: no data
	Data    string    `json:"data"`
	Format  string    `json:"format"`
}

func watchCmd() *cobra.Command {
	var (
		isHex  bool
		format string
		count  int
	)
	cmd := &cobra.Command{
		Use:   "watch NAME",
		Short: "Print the changes other handles make to a distributed checkpoint, as they happen",
		Long: `Print each change that other handles make to the checkpoint (which must be distributed), as the
immediate-consumption callbacks of a program see them: one line per changed section (its id,
offset, size and data; a deleted or expired section has no data), with --json one JSON object per
line. It runs until interrupted (SIGINT, SIGTERM) or until --count changes have been printed.
Once its replica is in sync it says "watching NAME" on stderr.`,
		Args: rangeArgs(1, 1),
	}
	c := addClientFlags(cmd, true)
	cmd.Flags().BoolVar(&isHex, "hex", false, "NAME is given in hexadecimal")
	cmd.Flags().StringVar(&format, "format", "hex", "section data: hex or base64")
	cmd.Flags().IntVar(&count, "count", 0, "stop after this many changed sections (0: until interrupted)")
	cmd.RunE = runE(func(cmd *cobra.Command, args []string) error {
		name, _, err := nameArgs(args, isHex)
		if err != nil {
			return err
		}
		if err := checkFormat(format, false); err != nil {
			return err
		}
		return c.withMember(cmd, func(ctx context.Context, m *member) error {
			// Checked before the open, which would make this member a replica of some.
			e, err := m.Entry(ctx, name)
			if err != nil {
				return err
			}
			if e.Attrs.Flags&ckpt.Distributed == 0 {
				return fmt.Errorf("%w: checkpoint %s is not distributed: only distributed checkpoints notify", ckpt.ErrNotPermitted, escape([]byte(name)))
			}
			h, err := m.Open(ctx, name, nil, ckpt.OpenRead)
			if err != nil {
				return err
			}
			defer h.Close()
			updates := make(chan ckpt.Update, 1024)
			if err := h.Subscribe(func(u ckpt.Update) { updates <- u }); err != nil {
				return err
			}
			// The changes reach this member through its replica: report once it holds every change.
			for {
				e, err := m.Entry(ctx, name)
				if err != nil {
					return err
				}
				if e.IsSynced(m.Name()) {
					break
				}
				select {
				case <-ctx.Done():
					return fmt.Errorf("%w: this command's replica did not come in sync", ckpt.ErrTimeout)
				case <-time.After(50 * time.Millisecond):
				}
			}
			fmt.Fprintf(os.Stderr, "watching %s\n", escape([]byte(name)))
			stop := make(chan os.Signal, 1)
			signal.Notify(stop, syscall.SIGINT, syscall.SIGTERM)
			defer signal.Stop(stop)
			seen := 0
			for {
				select {
				case <-stop:
					return nil
				case u := <-updates:
					for _, el := range u.Elements {
						up := updateJSON{Section: jsonBytes(el.SectionID), Offset: el.Offset, Size: len(el.Data), Deleted: el.Data == nil,
							Data: encodeData(el.Data, format), Format: format}
						if c.json {
							b, err := jsonLine(up)
							if err != nil {
								return err
							}
							fmt.Println(b)
						} else if up.Deleted {
							fmt.Printf("section %s deleted\n", up.Section.Text)
						} else {
							fmt.Printf("section %s offset %d size %d data %s\n", up.Section.Text, up.Offset, up.Size, up.Data)
						}
						seen++
						if count > 0 && seen >= count {
							return nil
						}
					}
				}
			}
		})
	})
	return cmd
}
