package engine

import "sync"

// Immediate-consumption notifications. Every subscribed handle has a mailbox; a change posts an Update
// to the mailbox of every subscribed handle of the checkpoint except the handle that made it. A
// mailbox runs a goroutine only while it has updates to deliver, and delivers them in order.

type mailbox struct {
	wg *sync.WaitGroup // the service's running deliveries

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

// subscribe sets (or with a nil fn removes) h's callback.
func (c *checkpoint) subscribe(h *handle, fn func(Update)) {
	c.subMu.Lock()
	defer c.subMu.Unlock()
	m := c.subs[h]
	if fn == nil {
		if m != nil {
			m.close()
			delete(c.subs, h)
		}
		return
	}
	if m != nil {
		m.mu.Lock()
		m.fn = fn
		m.mu.Unlock()
		return
	}
	if c.subs == nil {
		c.subs = make(map[*handle]*mailbox)
	}
	c.subs[h] = &mailbox{wg: &c.l.delivery, fn: fn}
}

func (c *checkpoint) unsubscribe(h *handle) { c.subscribe(h, nil) }

func (c *checkpoint) hasSubscribers() bool {
	c.subMu.Lock()
	defer c.subMu.Unlock()
	return len(c.subs) > 0
}

// notify posts u to every subscribed handle but writer (nil: a change nobody made, like an expiry).
// Called with c.mu held, so updates are posted in the order the changes were made.
func (c *checkpoint) notify(writer *handle, u Update) {
	if c.attrs.Flags&Distributed == 0 {
		return
	}
	c.subMu.Lock()
	defer c.subMu.Unlock()
	for h, m := range c.subs {
		if h != writer {
			m.post(u)
		}
	}
}

// closeSubscriptions drops every subscription of c.
func (c *checkpoint) closeSubscriptions() {
	c.subMu.Lock()
	defer c.subMu.Unlock()
	for h, m := range c.subs {
		m.close()
		delete(c.subs, h)
	}
}
