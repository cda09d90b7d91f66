package backup

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"hash"
	"io"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/klauspost/compress/zstd"
)

// objectStream makes a backup object (FORMAT.md, the current format) out of the logical stream
// written into it, as a pipeline: the writer (the cut) fills chunks, hashers compress and hash
// them in parallel, and the archive reads the object's bytes, chunk after chunk in the order they
// were written, while later chunks are being filled and hashed. At most a few chunks are in flight
// (their buffers are reused): a slow archive slows the cut down instead of piling up memory.
//
// Write and Close belong to the writing goroutine, Read to the archive's; stop ends the pipeline
// from the reading side.
type objectStream struct {
	ctx    context.Context
	comp   Compression
	stages *stageTimes

	// The writing side.
	cur    *chunk
	made   int         // chunks allocated, at most cap(free)
	free   chan *chunk // chunks the reading side is done with
	order  chan *chunk // every chunk written, in order, to the reading side
	quit   chan struct{}
	err    error // why the writing side ended early; set before order is closed
	closed bool
	hashed sync.WaitGroup // the chunks given to the hashers and not yet hashed

	// The reading side.
	whole   hash.Hash // the final digest: the magic, every chunk header, the end frame
	pend    [][]byte  // bytes to hand out next
	reading *chunk    // the chunk whose bytes pend holds
	logLen  uint64
	size    int64
	digest  [32]byte
	eof     bool // the whole object was handed out
	stopped sync.Once
}

// chunk is one chunk frame in the making.
type chunk struct {
	raw    []byte // logical bytes, at most chunkSize
	zbuf   []byte // the compressed form's buffer, reused
	stored []byte // what the object holds: raw, or zbuf's compressed bytes
	hdr    [chunkHeaderLen]byte
	done   chan struct{} // closed by the hasher once stored and hdr are set
	err    error
	// What the hasher needs to know of the stream.
	comp    Compression
	hashing *atomic.Int64   // the stream's hashing time
	hashed  *sync.WaitGroup // the stream's chunks not yet hashed
}

// errStreamStopped ends the writing side when the archive stopped reading.
var errStreamStopped = errors.New("backup: the archive write ended")

func newObjectStream(ctx context.Context, comp Compression, stages *stageTimes) *objectStream {
	depth := 2*streamWorkers() + 2
	s := &objectStream{ctx: ctx, comp: comp, stages: stages, free: make(chan *chunk, depth), order: make(chan *chunk, depth),
		quit: make(chan struct{}), whole: sha256.New()}
	s.whole.Write([]byte(magicV2))
	s.pend = [][]byte{[]byte(magicV2)}
	startHashers()
	return s
}

// streamWorkers is how many hashers hash chunks: one processor fewer than the Go scheduler has
// (the cut and the archive write need one, and the program's own goroutines go on), at least one
// and at most 4.
func streamWorkers() int { return max(1, min(runtime.GOMAXPROCS(0)-1, 4)) }

// The hashers compress (when asked) and hash the chunks of every backup of the program, each on a
// thread of its own of lower priority (lowerPriority). They start with the first backup, as many
// as streamWorkers says then, and stay (idle, waiting for chunks).
var (
	hashersOnce sync.Once
	toHash      = make(chan *chunk, 64)
)

func startHashers() {
	hashersOnce.Do(func() {
		for range streamWorkers() {
			go hasher()
		}
	})
}

func hasher() {
	lowerPriority()
	var enc *zstd.Encoder
	var encErr error
	for c := range toHash {
		start := time.Now()
		c.stored = c.raw
		if c.comp == CompressZstd {
			if enc == nil && encErr == nil {
				enc, encErr = zstd.NewWriter(nil, zstd.WithEncoderConcurrency(1))
			}
			if c.err = encErr; c.err == nil {
				c.zbuf = enc.EncodeAll(c.raw, c.zbuf[:0])
				c.stored = c.zbuf
			}
		}
		sum := sha256.Sum256(c.stored)
		c.hdr[0], c.hdr[1] = frameChunk, byte(c.comp)
		binary.LittleEndian.PutUint32(c.hdr[2:], uint32(len(c.stored)))
		binary.LittleEndian.PutUint32(c.hdr[6:], uint32(len(c.raw)))
		copy(c.hdr[10:], sum[:])
		since(c.hashing, start)
		close(c.done)
		c.hashed.Done()
	}
}

// Write takes logical bytes, handing every full chunk on.
func (s *objectStream) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		if s.cur == nil {
			c, err := s.take()
			if err != nil {
				return n - len(p), err
			}
			s.cur = c
		}
		take := min(len(p), chunkSize-len(s.cur.raw))
		s.cur.raw = append(s.cur.raw, p[:take]...)
		p = p[take:]
		if len(s.cur.raw) == chunkSize {
			s.send()
		}
	}
	return n, nil
}

// take returns an empty chunk: a new one while fewer than the depth exist, else one the reading
// side is done with.
func (s *objectStream) take() (*chunk, error) {
	var c *chunk
	if s.made < cap(s.free) {
		select {
		case c = <-s.free:
		default:
			s.made++
			c = &chunk{raw: make([]byte, 0, chunkSize), comp: s.comp, hashing: &s.stages.hashing, hashed: &s.hashed}
		}
	} else {
		defer since(&s.stages.cutWaited, time.Now())
		select {
		case c = <-s.free:
		case <-s.quit:
			return nil, errStreamStopped
		case <-s.ctx.Done():
			return nil, s.ctx.Err()
		}
	}
	c.raw, c.err, c.done = c.raw[:0], nil, make(chan struct{})
	return c, nil
}

// send hands the current chunk to the hashers and, in order, to the reading side (whose channel is
// never full: it holds as many chunks as exist).
func (s *objectStream) send() {
	s.order <- s.cur
	s.hashed.Add(1)
	toHash <- s.cur
	s.cur = nil
}

// Close ends the writing side: with err nil, the object ends after what was written; otherwise the
// reading side fails with err.
func (s *objectStream) Close(err error) {
	if s.closed {
		return
	}
	s.closed = true
	if err == nil && s.cur != nil && len(s.cur.raw) > 0 {
		s.send()
	}
	s.err = err
	close(s.order)
}

// Read hands out the object's bytes in order: the magic, each chunk's frame once its hasher is
// done with it, then the end frame and the final digest.
func (s *objectStream) Read(p []byte) (int, error) {
	for {
		for len(s.pend) > 0 {
			if len(s.pend[0]) == 0 {
				s.pend = s.pend[1:]
				continue
			}
			n := copy(p, s.pend[0])
			s.pend[0] = s.pend[0][n:]
			s.size += int64(n)
			return n, nil
		}
		if err := s.advance(); err != nil {
			return 0, err
		}
	}
}

// advance sets pend to the next bytes of the object, once those before were handed out: the next
// chunk's frame, or the end (io.EOF after it).
func (s *objectStream) advance() error {
	if s.reading != nil {
		s.free <- s.reading // never blocks: free holds as many chunks as exist
		s.reading = nil
	}
	if s.eof {
		return io.EOF
	}
	var c *chunk
	var ok bool
	idle := time.Now()
	select {
	case c, ok = <-s.order:
	case <-s.ctx.Done():
		return s.ctx.Err()
	}
	if !ok {
		if s.err != nil {
			return s.err
		}
		var end [9]byte
		end[0] = frameEnd
		binary.LittleEndian.PutUint64(end[1:], s.logLen)
		s.whole.Write(end[:])
		copy(s.digest[:], s.whole.Sum(nil))
		s.pend = [][]byte{end[:], s.digest[:]}
		s.eof = true
		return nil
	}
	<-c.done // the hashers take every chunk sent
	since(&s.stages.archiveIdle, idle)
	if c.err != nil {
		return c.err
	}
	s.whole.Write(c.hdr[:])
	s.logLen += uint64(len(c.raw))
	s.pend = [][]byte{c.hdr[:], c.stored}
	s.reading = c
	return nil
}

// WriteTo writes the object's bytes to w as Read hands them out, without copying them first.
func (s *objectStream) WriteTo(w io.Writer) (int64, error) {
	var total int64
	for {
		for len(s.pend) > 0 {
			b := s.pend[0]
			s.pend = s.pend[1:]
			if len(b) == 0 {
				continue
			}
			n, err := w.Write(b)
			s.size += int64(n)
			total += int64(n)
			if err != nil {
				s.pend = append([][]byte{b[n:]}, s.pend...)
				return total, err
			}
		}
		if err := s.advance(); err != nil {
			if err == io.EOF {
				err = nil
			}
			return total, err
		}
	}
}

// finished returns the object's size and final digest once it was read to its end.
func (s *objectStream) finished() (int64, [32]byte, bool) {
	left := 0
	for _, b := range s.pend {
		left += len(b)
	}
	return s.size, s.digest, s.eof && left == 0
}

// stop ends the reading side: a writing side waiting for a free chunk gives up.
func (s *objectStream) stop() {
	s.stopped.Do(func() { close(s.quit) })
}

// wait waits for the hashers to be done with the stream's chunks, once Close was called.
func (s *objectStream) wait() { s.hashed.Wait() }
