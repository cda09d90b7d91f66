package backup_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/clckpt/libclckpt/backup"
	"github.com/clckpt/libclckpt/backup/archive"
	"github.com/clckpt/libclckpt/ckpt"
	"github.com/clckpt/libclckpt/engine"
)

// The README's backup example, run.
func Example() {
	ctx := context.Background()
	dataDir, _ := os.MkdirTemp("", "backup-example")
	defer os.RemoveAll(dataDir)
	svc, err := engine.OpenLocal(engine.Options{Dir: filepath.Join(dataDir, "store")})
	if err != nil {
		panic(err)
	}
	defer svc.Close()
	attrs := &ckpt.Attributes{MaxSections: 2, MaxSectionIDSize: 8, Retention: ckpt.RetainForever}
	ck, _ := svc.Open(ctx, "app", attrs, ckpt.OpenCreate|ckpt.OpenWrite)
	_, _ = ck.CreateSection(ctx, []byte("state"), ckpt.Never, []byte("v1"))

	ar, _ := archive.OpenDir(archive.DefaultDir(dataDir)) // dataDir/backups.d
	m := backup.New(svc, ar)                              // svc is the *engine.Local
	job, _ := m.Start(ctx, backup.Request{Items: []backup.Item{{Checkpoint: "app", BackupName: "app-nightly"}},
		Compression: backup.CompressZstd})
	copies, err := job.Wait(ctx) // or job.Done(), job.Progress(), job.Cancel()
	fmt.Println(len(copies), copies[0].BackupName, copies[0].Status == backup.MostRecent, err)

	_ = ck.Overwrite(ctx, []byte("state"), []byte("v2"))
	_ = ck.Close()
	restored, err := m.Restore(ctx, backup.RestoreRequest{BackupName: "app-nightly", Replace: true, Flags: ckpt.OpenRead})
	if err != nil {
		panic(err)
	}
	el := []ckpt.ReadElement{{SectionID: []byte("state")}}
	_ = restored.Read(ctx, el)
	fmt.Println(string(el[0].Buffer[:el[0].ReadSize]))
	_ = restored.Close()
	// Output:
	// 1 app-nightly true <nil>
	// v1
}
