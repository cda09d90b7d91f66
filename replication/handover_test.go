package replication

import (
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/clckpt/libclckpt/engine"
)

// TestActiveReplicaSetRacesLoseNoWrite: three members keep taking the active role of a collocated
// asynchronous checkpoint from one another while each writes its own sections and reads them back.
// Every ActiveReplicaSet succeeds and every acknowledged write is read back: the previous active,
// alive, hands over all its ops, also when two members take over from it at once or when it is
// slow to answer.
func TestActiveReplicaSetRacesLoseNoWrite(t *testing.T) {
	cl := newCluster(t)
	names := []string{"a", "b", "c"}
	hs := map[string]engine.Checkpoint{}
	for _, n := range names {
		m := cl.join(n, "application")
		h, err := m.Open(bg, "race", attrs(engine.Collocated|engine.WriteActiveReplica), rwc)
		require.NoError(t, err)
		hs[n] = h
	}
	require.NoError(t, hs["a"].SetActiveReplica(bg))

	const writes, writers = 150, 2
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	report := func(err error) {
		select {
		case errs <- err:
		default:
		}
	}
	stop := make(chan struct{})
	var switchers sync.WaitGroup
	for _, n := range names {
		switchers.Add(1)
		go func() {
			defer switchers.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if err := hs[n].SetActiveReplica(bg); err != nil {
					report(fmt.Errorf("%s: ActiveReplicaSet: %w", n, err))
				}
			}
		}()
		for w := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				id := []byte(fmt.Sprintf("%s%d", n, w))
				if _, err := hs[n].CreateSection(bg, id, engine.Never, nil); err != nil {
					report(fmt.Errorf("%s: create: %w", id, err))
					return
				}
				for k := range writes {
					want := fmt.Sprintf("%s-%d", id, k)
					if err := hs[n].Overwrite(bg, id, []byte(want)); err != nil {
						report(fmt.Errorf("%s: overwrite %d: %w", id, k, err))
						continue
					}
					el := []engine.ReadElement{{SectionID: id}}
					if err := hs[n].Read(bg, el); err != nil {
						report(fmt.Errorf("%s: read %d: %w", id, k, err))
					} else if got := string(el[0].Buffer); got != want {
						report(fmt.Errorf("%s: read %q after writing %q", id, got, want))
					}
				}
			}()
		}
	}
	wg.Wait()
	close(stop)
	switchers.Wait()
	close(errs)
	var all []string
	for err := range errs {
		all = append(all, err.Error())
	}
	require.Empty(t, all)
}
