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
	magic      = "CLCKBK01"
	chunkSize  = 1 << 20 // logical bytes per chunk
	maxStored  = chunkSize + chunkSize/8 + 1024
	frameChunk = 1
	frameEnd   = 2
	recSection = 'S'
	recEnd     = 'E'
)

// objectWriter writes the framed, checksummed object: magic, chunks, trailer (FORMAT.md).
type objectWriter struct {
	w      io.Writer
	whole  hash.Hash
	buf    []byte
	comp   Compression
	enc    *zstd.Encoder
	size   int64 // bytes written to w
	logLen uint64
}

func newObjectWriter(w io.Writer, comp Compression) (*objectWriter, error) {
	o := &objectWriter{w: w, whole: sha256.New(), comp: comp}
	if comp == CompressZstd {
		enc, err := zstd.NewWriter(nil, zstd.WithEncoderConcurrency(1))
		if err != nil {
			return nil, err
		}
		o.enc = enc
	}
	if err := o.emit([]byte(magic)); err != nil {
		return nil, err
	}
	return o, nil
}

func (o *objectWriter) emit(b []byte) error {
	n, err := o.w.Write(b)
	o.size += int64(n)
	o.whole.Write(b[:n])
	return err
}

// Write buffers logical bytes, emitting full chunks.
func (o *objectWriter) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		take := min(len(p), chunkSize-len(o.buf))
		o.buf = append(o.buf, p[:take]...)
		p = p[take:]
		if len(o.buf) == chunkSize {
			if err := o.flush(); err != nil {
				return 0, err
			}
		}
	}
	return n, nil
}

// flush emits the buffered bytes as one chunk frame: kind, codec, stored length, raw length,
// SHA-256 of the stored bytes, stored bytes.
func (o *objectWriter) flush() error {
	if len(o.buf) == 0 {
		return nil
	}
	stored := o.buf
	if o.enc != nil {
		stored = o.enc.EncodeAll(o.buf, nil)
	}
	sum := sha256.Sum256(stored)
	var hdr [10]byte
	hdr[0], hdr[1] = frameChunk, byte(o.comp)
	binary.LittleEndian.PutUint32(hdr[2:], uint32(len(stored)))
	binary.LittleEndian.PutUint32(hdr[6:], uint32(len(o.buf)))
	o.logLen += uint64(len(o.buf))
	o.buf = o.buf[:0]
	for _, b := range [][]byte{hdr[:], sum[:], stored} {
		if err := o.emit(b); err != nil {
			return err
		}
	}
	return nil
}

// finish writes the trailer: the end frame, the logical length and the SHA-256 of every byte before
// the digest. It returns the object's size and that digest.
func (o *objectWriter) finish() (int64, [32]byte, error) {
	var digest [32]byte
	if err := o.flush(); err != nil {
		return 0, digest, err
	}
	var t [9]byte
	t[0] = frameEnd
	binary.LittleEndian.PutUint64(t[1:], o.logLen)
	if err := o.emit(t[:]); err != nil {
		return 0, digest, err
	}
	copy(digest[:], o.whole.Sum(nil))
	n, err := o.w.Write(digest[:])
	o.size += int64(n)
	return o.size, digest, err
}

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
}

func damaged(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrDamaged, fmt.Sprintf(format, args...))
}

func newObjectReader(r io.Reader, want []byte) (*objectReader, error) {
	o := &objectReader{r: bufio.NewReaderSize(r, 1<<16), whole: sha256.New(), want: want}
	m := make([]byte, len(magic))
	if _, err := io.ReadFull(o.r, m); err != nil || string(m) != magic {
		return nil, damaged("not a backup object (no %s header)", magic)
	}
	o.whole.Write(m)
	return o, nil
}

func (o *objectReader) readFull(b []byte, what string) error {
	if _, err := io.ReadFull(o.r, b); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return damaged("truncated object (in %s)", what)
		}
		return err
	}
	o.whole.Write(b)
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
	if err := o.readFull(stored, "chunk"); err != nil {
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
