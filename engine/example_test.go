package engine_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/clckpt/libclckpt/ckpt"
	"github.com/clckpt/libclckpt/engine"
)

// A service on a data directory: create a checkpoint, give it a section, write and read it back.
// Everything written survives the death of the process.
func Example() {
	dir := tempDir()
	defer os.RemoveAll(dir)
	ctx := context.Background()

	svc, err := engine.OpenLocal(engine.Options{Dir: dir})
	if err != nil {
		log.Fatal(err)
	}
	defer svc.Close()

	attrs := &ckpt.Attributes{
		Flags:            ckpt.WriteAllReplicas,
		Retention:        ckpt.RetainForever, // keep it when nobody has it open
		MaxSections:      4,
		MaxSectionSize:   1024,
		MaxSectionIDSize: 32,
	}
	ck, err := svc.Open(ctx, "counter", attrs, ckpt.OpenRead|ckpt.OpenWrite|ckpt.OpenCreate)
	if err != nil {
		log.Fatal(err)
	}
	defer ck.Close()

	if _, err := ck.CreateSection(ctx, []byte("seq"), ckpt.Never, []byte("0")); err != nil {
		log.Fatal(err)
	}
	if err := ck.Overwrite(ctx, []byte("seq"), []byte("42")); err != nil {
		log.Fatal(err)
	}
	read := []ckpt.ReadElement{{SectionID: []byte("seq")}} // no Buffer: the whole section
	if err := ck.Read(ctx, read); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("seq = %s\n", read[0].Buffer)
	// Output: seq = 42
}

// Errors wrap sentinels: test them with errors.Is. A vector call says which element failed.
func Example_errors() {
	ctx := context.Background()
	dir := tempDir()
	defer os.RemoveAll(dir)
	svc, _ := engine.OpenLocal(engine.Options{Dir: dir})
	defer svc.Close()

	_, err := svc.Open(ctx, "missing", nil, ckpt.OpenRead)
	fmt.Println(errors.Is(err, ckpt.ErrNotExist))

	attrs := &ckpt.Attributes{MaxSections: 2, MaxSectionIDSize: 8, Retention: ckpt.RetainForever}
	ck, _ := svc.Open(ctx, "c", attrs, ckpt.OpenRead|ckpt.OpenWrite|ckpt.OpenCreate)
	ck.CreateSection(ctx, []byte("a"), ckpt.Never, nil)
	err = ck.Write(ctx, []ckpt.WriteElement{
		{SectionID: []byte("a"), Data: []byte("written")},
		{SectionID: []byte("b"), Data: []byte("no such section")},
	})
	var elemErr *ckpt.ElementError
	if errors.As(err, &elemErr) {
		fmt.Println(elemErr.Index, errors.Is(err, ckpt.ErrNotExist))
	}
	// Output:
	// true
	// 1 true
}

// A vector write grows a section and zero-fills the gap; a vector read copies into the caller's
// buffers and reports how much it read.
func ExampleCheckpoint_Write() {
	ctx := context.Background()
	dir := tempDir()
	defer os.RemoveAll(dir)
	svc, _ := engine.OpenLocal(engine.Options{Dir: dir})
	defer svc.Close()
	attrs := &ckpt.Attributes{MaxSections: 1, Retention: 0} // one default section, addressed with a nil id
	ck, _ := svc.Open(ctx, "state", attrs, ckpt.OpenRead|ckpt.OpenWrite|ckpt.OpenCreate)

	ck.Write(ctx, []ckpt.WriteElement{
		{Offset: 0, Data: []byte("head")},
		{Offset: 6, Data: []byte("tail")},
	})
	buf := make([]byte, 16)
	read := []ckpt.ReadElement{{Buffer: buf}}
	ck.Read(ctx, read)
	fmt.Printf("%q\n", buf[:read[0].ReadSize])
	// Output: "head\x00\x00tail"
}

// An iteration returns the sections chosen by a filter, from a snapshot taken when it starts.
func ExampleCheckpoint_Sections() {
	ctx := context.Background()
	dir := tempDir()
	defer os.RemoveAll(dir)
	svc, _ := engine.OpenLocal(engine.Options{Dir: dir})
	defer svc.Close()
	attrs := &ckpt.Attributes{MaxSections: 8, MaxSectionIDSize: 16, Retention: 0}
	ck, _ := svc.Open(ctx, "inventory", attrs, ckpt.OpenRead|ckpt.OpenWrite|ckpt.OpenCreate)
	ck.CreateSection(ctx, []byte("apples"), ckpt.Never, []byte("12"))
	ck.CreateSection(ctx, []byte("pears"), time.Now().Add(time.Hour), []byte("7"))
	ck.CreateSection(ctx, nil, ckpt.Never, []byte("generated id"))

	it, _ := ck.Sections(ctx, ckpt.SectionsForever, time.Time{})
	defer it.Close()
	for {
		d, err := it.Next()
		if errors.Is(err, ckpt.ErrNoSections) {
			break
		}
		fmt.Printf("%q: %d bytes\n", d.ID, d.Size)
	}
	// Output:
	// "apples": 2 bytes
	// "generatedSection0\x00": 12 bytes
}

// Handles of a Distributed checkpoint can subscribe to the changes that other handles make.
func ExampleCheckpoint_Subscribe() {
	ctx := context.Background()
	dir := tempDir()
	defer os.RemoveAll(dir)
	svc, _ := engine.OpenLocal(engine.Options{Dir: dir})
	defer svc.Close()
	attrs := &ckpt.Attributes{Flags: ckpt.Distributed | ckpt.WriteAllReplicas, MaxSections: 2, MaxSectionIDSize: 8}
	active, _ := svc.Open(ctx, "hot", attrs, ckpt.OpenRead|ckpt.OpenWrite|ckpt.OpenCreate)
	standby, _ := svc.Open(ctx, "hot", nil, ckpt.OpenRead)

	got := make(chan ckpt.Update, 1)
	standby.Subscribe(func(u ckpt.Update) { got <- u })

	active.CreateSection(ctx, []byte("s"), ckpt.Never, nil)
	active.Overwrite(ctx, []byte("s"), []byte("state v2"))
	u := <-got
	fmt.Printf("%s: section %s now holds %q\n", u.Name, u.Elements[0].SectionID, u.Elements[0].Data)
	// Output: hot: section s now holds "state v2"
}

func tempDir() string {
	dir, err := os.MkdirTemp("", "clckpt-example-")
	if err != nil {
		log.Fatal(err)
	}
	return dir
}
