package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/clckpt/libclckpt/ckpt"
)

func init() { register(putCmd, rmCmd, sectionRmCmd) }

func putCmd() *cobra.Command {
	var (
		isHex, create bool
		expire        time.Duration
		flags         []string
		attrs         ckpt.Attributes
		retain        string
	)
	cmd := &cobra.Command{
		Use:   "put NAME SECTION [FILE|-]",
		Short: "Write a section's whole content from a file or stdin",
		Long: `Write the whole content of section SECTION of checkpoint NAME from FILE (default, or "-": stdin):
the section is overwritten when it exists and created otherwise. An empty SECTION ("") names the
default section of a one-section checkpoint. With --create, a missing checkpoint is created with the
attributes given (--flags, --max-sections, ...); it must then be placed on a server member
(clckpt serve): a checkpoint only this command would hold is deleted again and the command fails.
The command writes through the active replica without opening the checkpoint (when it creates
one, its open is closed as it ends, and the retention applies: a distributed checkpoint, whose
retention is 0, lives only while a program has it open).`,
		Args: rangeArgs(2, 3),
	}
	c := addClientFlags(cmd, true)
	f := cmd.Flags()
	f.BoolVar(&isHex, "hex", false, "NAME and SECTION are given in hexadecimal")
	f.DurationVar(&expire, "expire", 0, "the section expires after this long (0: never)")
	f.BoolVar(&create, "create", false, "create the checkpoint when it does not exist")
	f.StringSliceVar(&flags, "flags", []string{"all-replicas"}, "--create: creation flags (all-replicas, active-replica, collocated, distributed, all-open-are-replicas, ...)")
	f.Uint32Var(&attrs.MaxSections, "max-sections", 1000, "--create: most sections")
	f.Uint64Var(&attrs.MaxSectionSize, "max-section-size", 0, "--create: largest section in bytes (0: no limit)")
	f.Uint64Var(&attrs.MaxSectionIDSize, "max-section-id-size", 256, "--create: longest section id in bytes")
	f.Uint64Var(&attrs.CheckpointSize, "checkpoint-size", 0, "--create: advisory size in bytes")
	f.StringVar(&retain, "retention", "forever", "--create: how long the checkpoint outlives its last close (a duration, or forever)")
	cmd.RunE = runE(func(cmd *cobra.Command, args []string) error {
		name, section, err := nameArgs(args, isHex)
		if err != nil {
			return err
		}
		if attrs.Flags, err = parseFlags(flags); err != nil {
			return err
		}
		attrs.Retention = ckpt.RetainForever
		if retain != "forever" {
			if attrs.Retention, err = time.ParseDuration(retain); err != nil {
				return usageErr(fmt.Errorf("--retention %q: a duration or forever", retain))
			}
		}
		in := io.Reader(os.Stdin)
		if len(args) == 3 && args[2] != "-" {
			file, err := os.Open(args[2])
			if err != nil {
				return err
			}
			defer file.Close()
			in = file
		}
		data, err := io.ReadAll(in)
		if err != nil {
			return err
		}
		return c.withMember(cmd, func(ctx context.Context, m *member) error {
			h, err := m.Inspect(ctx, name, ckpt.OpenRead|ckpt.OpenWrite)
			if errors.Is(err, ckpt.ErrNotExist) && create {
				// Created by an open, which the command closes as it leaves: the checkpoint's
				// retention then applies.
				h, err = m.Open(ctx, name, &attrs, ckpt.OpenRead|ckpt.OpenWrite|ckpt.OpenCreate)
				if err == nil {
					if err := m.onlyHere(ctx, name); err != nil {
						_ = h.Close()
						return err
					}
				}
			}
			if err != nil {
				return err
			}
			defer h.Close()
			exp := ckpt.Never
			if expire > 0 {
				exp = time.Now().Add(expire)
			}
			created := false
			err = h.Overwrite(ctx, section, data)
			switch {
			case errors.Is(err, ckpt.ErrNotExist) && len(section) > 0:
				_, err = h.CreateSection(ctx, section, exp, data)
				created = true
			case err == nil && expire > 0:
				err = h.SetSectionExpiration(ctx, section, exp)
			}
			if err != nil {
				return err
			}
			if c.json {
				return printJSON(struct {
					Name    bytesJSON `json:"name"`
					Section bytesJSON `json:"section"`
					Size    int       `json:"size"`
					Created bool      `json:"created"`
				}{jsonBytes([]byte(name)), jsonBytes(section), len(data), created})
			}
			return nil
		})
	})
	return cmd
}

// onlyHere fails, and deletes the checkpoint, when this member is its only replica: it would be
// lost as the command leaves (there is no server member to place it on).
func (m *member) onlyHere(ctx context.Context, name string) error {
	e, err := m.Entry(ctx, name)
	if err != nil {
		return err
	}
	if len(e.Replicas) == 1 && e.Replicas[0] == m.Name() {
		_ = m.Delete(ctx, name)
		return fmt.Errorf("no server member (clckpt serve) to hold checkpoint %s: not created", escape([]byte(name)))
	}
	return nil
}

func rmCmd() *cobra.Command {
	var isHex bool
	cmd := &cobra.Command{
		Use:   "rm NAME",
		Short: "Delete a checkpoint",
		Long: `Delete the checkpoint NAME: its name is gone at once, and its data is destroyed when the
last handle that programs hold on it is closed.`,
		Args: rangeArgs(1, 1),
	}
	c := addClientFlags(cmd, false)
	cmd.Flags().BoolVar(&isHex, "hex", false, "NAME is given in hexadecimal")
	cmd.RunE = runE(func(cmd *cobra.Command, args []string) error {
		name, _, err := nameArgs(args, isHex)
		if err != nil {
			return err
		}
		return c.withMember(cmd, func(ctx context.Context, m *member) error {
			return m.Delete(ctx, name)
		})
	})
	return cmd
}

func sectionRmCmd() *cobra.Command {
	var isHex bool
	cmd := &cobra.Command{
		Use:   "section-rm NAME SECTION",
		Short: "Delete a section of a checkpoint",
		Args:  rangeArgs(2, 2),
	}
	c := addClientFlags(cmd, false)
	cmd.Flags().BoolVar(&isHex, "hex", false, "NAME and SECTION are given in hexadecimal")
	cmd.RunE = runE(func(cmd *cobra.Command, args []string) error {
		name, section, err := nameArgs(args, isHex)
		if err != nil {
			return err
		}
		return c.withMember(cmd, func(ctx context.Context, m *member) error {
			h, err := m.Inspect(ctx, name, ckpt.OpenWrite)
			if err != nil {
				return err
			}
			defer h.Close()
			return h.DeleteSection(ctx, section)
		})
	})
	return cmd
}
