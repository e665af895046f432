package schemas

import "sync"

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
type validCache struct {
	mu       sync.Mutex
	cur, old map[string]struct{}
}

func (c *validCache) has(data []byte) bool {
	if len(data) > cacheMaxBytes {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.cur[string(data)]; ok {
		return true
	}
	_, ok := c.old[string(data)]
	return ok
}

func (c *validCache) add(data []byte) {
	if len(data) > cacheMaxBytes {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.cur) >= cacheEntries || c.cur == nil {
		c.old, c.cur = c.cur, make(map[string]struct{}, cacheEntries)
	}
	c.cur[string(data)] = struct{}{}
}
