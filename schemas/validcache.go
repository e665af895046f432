package schemas

import (
	"hash/maphash"
	"sync"
)

// An event is validated more than once on its way: by its producer, then
// by each consumer that receives it (troupe dev runs them all in one
// process). Validation is a pure function of the schema and the bytes, so
// an entry remembers the data it recently found valid and passes the same
// bytes again without decoding them. Only valid data is remembered: a
// violation is rare, and is worked out again each time for its message.
const (
	// cacheEntries is the size of one generation: an entry keeps between
	// cacheEntries and twice as many recent valid payloads.
	cacheEntries = 4096
	// cacheMaxBytes is the largest payload remembered, so that the cache
	// stays a few megabytes per event type.
	cacheMaxBytes = 2048
)

// validCache is a two-generation set of payloads: when the current
// generation is full it becomes the old one, and the old one is dropped.
// Safe for concurrent use.
//
// A payload is known by a 128-bit digest (two maphash sums, seeded afresh
// in each process, so that nobody can aim at a collision; two payloads
// share one by chance with odds of about 2^-128): the maps then hold no
// pointers for the garbage collector to follow, where thousands of payload
// strings made every collection longer.
type validCache struct {
	once     sync.Once
	seeds    [2]maphash.Seed
	mu       sync.Mutex
	cur, old map[[2]uint64]struct{}
}

func (c *validCache) digest(data []byte) [2]uint64 {
	c.once.Do(func() { c.seeds = [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()} })
	return [2]uint64{maphash.Bytes(c.seeds[0], data), maphash.Bytes(c.seeds[1], data)}
}

func (c *validCache) has(data []byte) bool {
	if len(data) > cacheMaxBytes {
		return false
	}
	d := c.digest(data)
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.cur[d]; ok {
		return true
	}
	_, ok := c.old[d]
	return ok
}

func (c *validCache) add(data []byte) {
	if len(data) > cacheMaxBytes {
		return
	}
	d := c.digest(data)
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.cur) >= cacheEntries || c.cur == nil {
		c.old, c.cur = c.cur, make(map[[2]uint64]struct{}, cacheEntries)
	}
	c.cur[d] = struct{}{}
}
