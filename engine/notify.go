package engine

import "sync"

// Immediate-consumption notifications. Every subscribed handle has a mailbox; a change posts an Update
// to the mailbox of every subscribed handle of the checkpoint except the handle that made it. A
// mailbox runs a goroutine only while it has updates to deliver, and delivers them in order.

type mailbox struct {
	wg      *sync.WaitGroup // the service's running deliveries
	creates bool            // also section creations (Follow), not only data changes (Subscribe)

	mu      sync.Mutex
	fn      func(Update)
	queue   []Update
	running bool
	closed  bool
}

func (m *mailbox) post(u Update) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return
	}
	m.queue = append(m.queue, u)
	if !m.running {
		m.running = true
		m.wg.Add(1)
		go m.deliver()
	}
}

func (m *mailbox) deliver() {
	defer m.wg.Done()
	for {
		m.mu.Lock()
		if m.closed || len(m.queue) == 0 {
			m.running = false
			m.mu.Unlock()
			return
		}
		u := m.queue[0]
		m.queue[0] = Update{}
		m.queue = m.queue[1:]
		fn := m.fn
		m.mu.Unlock()
		fn(u)
	}
}

// close drops pending updates; an update being delivered finishes.
func (m *mailbox) close() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.closed = true
	m.queue = nil
}

// Subscribe sets (or with a nil fn removes) the callback of the subscriber key: it receives the
// changes to section data of a Distributed checkpoint whose origin is not key.
func (r *Replica) Subscribe(key string, fn func(Update)) { r.setSubscription(key, fn, false) }

// Follow is Subscribe for a subscriber that also receives section creations (Update.Created).
func (r *Replica) Follow(key string, fn func(Update)) { r.setSubscription(key, fn, true) }

func (r *Replica) setSubscription(key string, fn func(Update), creates bool) {
	r.subMu.Lock()
	defer r.subMu.Unlock()
	m := r.subs[key]
	if fn == nil {
		if m != nil {
			m.close()
			delete(r.subs, key)
		}
		return
	}
	if m != nil {
		m.mu.Lock()
		m.fn, m.creates = fn, creates
		m.mu.Unlock()
		return
	}
	if r.subs == nil {
		r.subs = make(map[string]*mailbox)
	}
	r.subs[key] = &mailbox{wg: &r.set.delivery, fn: fn, creates: creates}
}

func (r *Replica) hasSubscribers() bool {
	r.subMu.Lock()
	defer r.subMu.Unlock()
	return len(r.subs) > 0
}

// notify posts u to every subscriber but origin. Called with r.mu held, so updates are posted in
// the order the changes were made.
func (r *Replica) notify(origin string, u Update) {
	r.subMu.Lock()
	defer r.subMu.Unlock()
	for key, m := range r.subs {
		if key != origin && (!u.Created || m.creates) {
			m.post(u)
		}
	}
}

// closeSubscriptions drops every subscription.
func (r *Replica) closeSubscriptions() {
	r.subMu.Lock()
	defer r.subMu.Unlock()
	for key, m := range r.subs {
		m.close()
		delete(r.subs, key)
	}
}
