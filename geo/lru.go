package geo

import "net/netip"

// lru is a fixed-capacity least-recently-used map from address to country
// code. Entries live in one preallocated-on-demand slice and are chained
// into a doubly linked list by index (most recent at head), so the cache
// makes no per-entry allocations beyond the map's own. Not safe for
// concurrent use; Lookup guards it with a mutex.
type lru struct {
	capacity  int
	index     map[netip.Addr]int32
	entries   []lruEntry
	head      int32 // most recently used, -1 when empty
	tail      int32 // least recently used, -1 when empty
	evictions uint64
}

type lruEntry struct {
	key        netip.Addr
	val        code
	prev, next int32
}

const maxCacheSize = 1 << 30 // indexes are int32

func newLRU(capacity int) *lru {
	if capacity > maxCacheSize {
		capacity = maxCacheSize
	}
	hint := capacity
	if hint > 4096 {
		hint = 4096 // grow on demand; a small exporter never fills 64k
	}
	return &lru{
		capacity: capacity,
		index:    make(map[netip.Addr]int32, hint),
		entries:  make([]lruEntry, 0, hint),
		head:     -1,
		tail:     -1,
	}
}

func (c *lru) len() int { return len(c.entries) }

// get returns the cached value and marks it most recently used.
func (c *lru) get(k netip.Addr) (code, bool) {
	i, ok := c.index[k]
	if !ok {
		return 0, false
	}
	c.moveToFront(i)
	return c.entries[i].val, true
}

// add inserts or updates k, evicting the least recently used entry when the
// cache is full.
func (c *lru) add(k netip.Addr, v code) {
	if c.capacity <= 0 {
		return
	}
	if i, ok := c.index[k]; ok {
		c.entries[i].val = v
		c.moveToFront(i)
		return
	}
	var i int32
	if len(c.entries) < c.capacity {
		i = int32(len(c.entries))
		if len(c.entries) == cap(c.entries) {
			// Grow by doubling, but never past the capacity.
			grown := make([]lruEntry, len(c.entries), min(max(2*len(c.entries), 16), c.capacity))
			copy(grown, c.entries)
			c.entries = grown
		}
		c.entries = append(c.entries, lruEntry{key: k, val: v, prev: -1, next: -1})
	} else {
		// Reuse the tail slot.
		i = c.tail
		c.unlink(i)
		delete(c.index, c.entries[i].key)
		c.evictions++
		c.entries[i] = lruEntry{key: k, val: v, prev: -1, next: -1}
	}
	c.index[k] = i
	c.pushFront(i)
}

func (c *lru) moveToFront(i int32) {
	if c.head == i {
		return
	}
	c.unlink(i)
	c.pushFront(i)
}

func (c *lru) unlink(i int32) {
	e := &c.entries[i]
	if e.prev >= 0 {
		c.entries[e.prev].next = e.next
	} else {
		c.head = e.next
	}
	if e.next >= 0 {
		c.entries[e.next].prev = e.prev
	} else {
		c.tail = e.prev
	}
	e.prev, e.next = -1, -1
}

func (c *lru) pushFront(i int32) {
	e := &c.entries[i]
	e.prev = -1
	e.next = c.head
	if c.head >= 0 {
		c.entries[c.head].prev = i
	}
	c.head = i
	if c.tail < 0 {
		c.tail = i
	}
}

// keys lists the cached addresses from most to least recently used
// (for tests and debugging).
func (c *lru) keys() []netip.Addr {
	out := make([]netip.Addr, 0, len(c.entries))
	for i := c.head; i >= 0; i = c.entries[i].next {
		out = append(out, c.entries[i].key)
	}
	return out
}
