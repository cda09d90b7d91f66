package replication

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/clckpt/libclckpt/engine"
	"github.com/clckpt/libclckpt/replication/wire"
)

// TestCopyMessagesStayWithinTheirLimit: a copy of 64 KiB sections is sent in messages of at most
// the limit (snapshotBatchMax on a link), each holding as many sections as fit. Before, a message
// was sent once it had reached the limit, one section past it (2 MiB + 64 KiB): the follower grew
// a third, larger buffer to read each (oplink.readFrame) and copied the message into it.
func TestCopyMessagesStayWithinTheirLimit(t *testing.T) {
	const limit = snapshotBatchMax
	data := make([]byte, 64<<10)
	for _, sizes := range [][]int{{64 << 10}, {1, 64 << 10, 100 << 10, 3}, {limit + 5, 10}} {
		header := engine.SnapshotHeader{ID: 7, Name: "ck"}
		batch := wire.NewSnapshotBatch(7, 1, &header, snapshotBatchStart)
		var sent, counts []int
		flush := func() error {
			sent, counts = append(sent, batch.Size()), append(counts, batch.Len())
			batch.Reset()
			return nil
		}
		for i := range 200 {
			n := sizes[i%len(sizes)]
			if len(data) < n {
				data = make([]byte, n)
			}
			sec := &engine.SnapshotSection{ID: []byte{byte(i), byte(i >> 8)}, Data: data[:n]}
			flushed := len(sent)
			before := batch.Size()
			require.NoError(t, addToBatch(batch, sec, limit, flush))
			if len(sent) == flushed { // added to the batch as it was: it grew by the section's size
				require.Equal(t, before+wire.SnapshotSectionSize(sec), batch.Size(), "sizes %v, section %d", sizes, i)
			}
		}
		require.NoError(t, flush())
		for i, n := range sent {
			if n > limit { // only a section larger than the limit, alone
				require.Equal(t, 1, counts[i], "sections in message %d of %d bytes, sizes %v", i, n, sizes)
				continue
			}
			require.LessOrEqual(t, n, limit, "sizes %v, message %d", sizes, i)
		}
		if sizes[0] == 64<<10 {
			require.Greater(t, sent[0], limit-(64<<10)-64, "a message holds as many sections as fit")
		}
	}
}
