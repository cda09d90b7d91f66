package backup

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"

	"github.com/clckpt/libclckpt/ckpt"
	"github.com/clckpt/libclckpt/engine"
	"github.com/klauspost/compress/zstd"
)

// ErrDamaged is returned when a backup object fails its checks: bad magic, a chunk or whole-object
// SHA-256 mismatch, a truncated object or undecodable content.
var ErrDamaged = errors.New("backup: damaged backup object")

// Compression chooses how chunks are stored.
type Compression uint8

const (
	CompressNone Compression = 0
	CompressZstd Compression = 1
)

const (
	// magicV1 starts objects of the first format, whose final digest hashes every byte before it
	// (each chunk's bytes twice: in their chunk digest and in the final one); they are still read.
	magicV1 = "CLCKBK01"
	// magicV2 starts the objects written now: each chunk's bytes are hashed once, into their chunk
	// digest, which stands for them in the final digest (FORMAT.md).
	magicV2    = "CLCKBK02"
	chunkSize  = 1 << 20 // logical bytes per chunk
	maxStored  = chunkSize + chunkSize/8 + 1024
	frameChunk = 1
	frameEnd   = 2
	recSection = 'S'
	recEnd     = 'E'
	// chunkHeaderLen is a chunk frame's header: kind, codec, stored and raw lengths, SHA-256.
	chunkHeaderLen = 1 + 1 + 4 + 4 + sha256.Size
)

// objectReader reads and verifies an object written by objectWriter, giving back the logical
// stream. Every chunk is checked before use; the whole digest (and want, when set) at the end.
type objectReader struct {
	r      *bufio.Reader
	whole  hash.Hash
	dec    *zstd.Decoder
	cur    []byte
	done   bool
	want   []byte
	logLen uint64
	// v1: the final digest covers the chunks' bytes themselves (the first format)
	v1 bool
}

func damaged(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrDamaged, fmt.Sprintf(format, args...))
}

func newObjectReader(r io.Reader, want []byte) (*objectReader, error) {
	o := &objectReader{r: bufio.NewReaderSize(r, 1<<16), whole: sha256.New(), want: want}
	m := make([]byte, len(magicV2))
	if _, err := io.ReadFull(o.r, m); err != nil || string(m) != magicV2 && string(m) != magicV1 {
		return nil, damaged("not a backup object (no %s or %s header)", magicV2, magicV1)
	}
	o.v1 = string(m) == magicV1
	o.whole.Write(m)
	return o, nil
}

// readFull reads b whole and adds it to the final digest.
func (o *objectReader) readFull(b []byte, what string) error {
	if err := o.readUnhashed(b, what); err != nil {
		return err
	}
	o.whole.Write(b)
	return nil
}

// readUnhashed reads b whole.
func (o *objectReader) readUnhashed(b []byte, what string) error {
	if _, err := io.ReadFull(o.r, b); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return damaged("truncated object (in %s)", what)
		}
		return err
	}
	return nil
}

func (o *objectReader) Read(p []byte) (int, error) {
	for len(o.cur) == 0 {
		if o.done {
			return 0, io.EOF
		}
		if err := o.next(); err != nil {
			return 0, err
		}
	}
	n := copy(p, o.cur)
	o.cur = o.cur[n:]
	return n, nil
}

func (o *objectReader) next() error {
	var kind [1]byte
	if err := o.readFull(kind[:], "frame header"); err != nil {
		return err
	}
	switch kind[0] {
	case frameEnd:
		var l [8]byte
		if err := o.readFull(l[:], "trailer"); err != nil {
			return err
		}
		got := o.whole.Sum(nil)
		var digest [32]byte
		if _, err := io.ReadFull(o.r, digest[:]); err != nil {
			return damaged("truncated object (in the final digest)")
		}
		if !bytes.Equal(got, digest[:]) {
			return damaged("whole-object SHA-256 mismatch")
		}
		if o.want != nil && !bytes.Equal(got, o.want) {
			return damaged("object digest differs from the catalogue's")
		}
		if binary.LittleEndian.Uint64(l[:]) != o.logLen {
			return damaged("length mismatch")
		}
		if _, err := o.r.ReadByte(); err != io.EOF {
			return damaged("bytes after the trailer")
		}
		o.done = true
		return nil
	case frameChunk:
	default:
		return damaged("unknown frame kind %d", kind[0])
	}
	var hdr [9]byte
	if err := o.readFull(hdr[:], "chunk header"); err != nil {
		return err
	}
	codec := Compression(hdr[0])
	storedLen, rawLen := binary.LittleEndian.Uint32(hdr[1:]), binary.LittleEndian.Uint32(hdr[5:])
	if storedLen > maxStored || rawLen > chunkSize {
		return damaged("chunk of %d bytes", storedLen)
	}
	var sum [32]byte
	if err := o.readFull(sum[:], "chunk digest"); err != nil {
		return err
	}
	stored := make([]byte, storedLen)
	read := o.readUnhashed // the chunk's digest, in the final one, stands for its bytes
	if o.v1 {
		read = o.readFull
	}
	if err := read(stored, "chunk"); err != nil {
		return err
	}
	if sha256.Sum256(stored) != sum {
		return damaged("chunk SHA-256 mismatch at logical offset %d", o.logLen)
	}
	switch codec {
	case CompressNone:
		o.cur = stored
	case CompressZstd:
		if o.dec == nil {
			d, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1))
			if err != nil {
				return err
			}
			o.dec = d
		}
		raw, err := o.dec.DecodeAll(stored, make([]byte, 0, rawLen))
		if err != nil {
			return damaged("chunk does not decompress: %v", err)
		}
		o.cur = raw
	default:
		return damaged("unknown codec %d", codec)
	}
	if uint32(len(o.cur)) != rawLen {
		return damaged("chunk length mismatch")
	}
	o.logLen += uint64(rawLen)
	return nil
}

func (o *objectReader) close() {
	if o.dec != nil {
		o.dec.Close()
	}
}

// The logical stream: a length-prefixed JSON header (engine.SnapshotHeader), then one record per
// section, then an end record.

func writeHeader(w io.Writer, h engine.SnapshotHeader) error {
	js, err := json.Marshal(h)
	if err != nil {
		return err
	}
	_, err = w.Write(binary.LittleEndian.AppendUint32(nil, uint32(len(js))))
	if err == nil {
		_, err = w.Write(js)
	}
	return err
}

func writeSection(w io.Writer, s *engine.SnapshotSection) error {
	b := make([]byte, 0, 40+len(s.ID))
	b = append(b, recSection)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(s.ID)))
	b = append(b, s.ID...)
	b = binary.LittleEndian.AppendUint64(b, uint64(s.Expiration))
	b = binary.LittleEndian.AppendUint64(b, uint64(s.LastUpdate))
	b = append(b, byte(s.State))
	b = binary.LittleEndian.AppendUint64(b, s.LSN)
	b = binary.LittleEndian.AppendUint64(b, uint64(len(s.Data)))
	if _, err := w.Write(b); err != nil {
		return err
	}
	_, err := w.Write(s.Data)
	return err
}

func writeEnd(w io.Writer) error {
	_, err := w.Write([]byte{recEnd})
	return err
}

// maxHeader bounds the JSON header read back.
const maxHeader = 64 << 20

func readHeader(r io.Reader) (engine.SnapshotHeader, error) {
	var h engine.SnapshotHeader
	var l [4]byte
	if _, err := io.ReadFull(r, l[:]); err != nil {
		return h, streamErr(err)
	}
	n := binary.LittleEndian.Uint32(l[:])
	if n > maxHeader {
		return h, damaged("header of %d bytes", n)
	}
	js := make([]byte, n)
	if _, err := io.ReadFull(r, js); err != nil {
		return h, streamErr(err)
	}
	if err := json.Unmarshal(js, &h); err != nil {
		return h, damaged("header: %v", err)
	}
	return h, nil
}

func streamErr(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return damaged("content ends early")
	}
	return err
}

// readSection returns the next section, or nil at the end record.
func readSection(r io.Reader) (*engine.SnapshotSection, error) {
	var tag [1]byte
	if _, err := io.ReadFull(r, tag[:]); err != nil {
		return nil, streamErr(err)
	}
	if tag[0] == recEnd {
		return nil, nil
	}
	if tag[0] != recSection {
		return nil, damaged("unknown record %q", tag[0])
	}
	var l [4]byte
	if _, err := io.ReadFull(r, l[:]); err != nil {
		return nil, streamErr(err)
	}
	idLen := binary.LittleEndian.Uint32(l[:])
	if idLen > ckpt.MaxSectionIDLength {
		return nil, damaged("section id of %d bytes", idLen)
	}
	b := make([]byte, int(idLen)+33)
	if _, err := io.ReadFull(r, b); err != nil {
		return nil, streamErr(err)
	}
	s := &engine.SnapshotSection{ID: b[:idLen:idLen]}
	b = b[idLen:]
	s.Expiration = int64(binary.LittleEndian.Uint64(b))
	s.LastUpdate = int64(binary.LittleEndian.Uint64(b[8:]))
	s.State = ckpt.SectionState(b[16])
	s.LSN = binary.LittleEndian.Uint64(b[17:])
	n := binary.LittleEndian.Uint64(b[25:])
	if n > ckpt.MaxDataSize {
		return nil, damaged("section of %d bytes", n)
	}
	s.Data = make([]byte, n)
	if _, err := io.ReadFull(r, s.Data); err != nil {
		return nil, streamErr(err)
	}
	return s, nil
}
