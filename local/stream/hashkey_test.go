package stream_test

import (
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"math/big"
	"testing"

	"github.com/troupehq/troupe/local/stream"
	"github.com/troupehq/troupe/producers"
)

// TestShardRanges: the ranges are the ones Kinesis gives a new stream, and
// for every shard count they tile the 128-bit space with no gap or overlap.
func TestShardRanges(t *testing.T) {
	t.Parallel()
	db := newDB(t)
	// As ListShards describes a new stream of 4 and of 3 shards.
	want := map[int][]stream.Shard{
		4: {
			{"shardId-000000000000", "0", "85070591730234615865843651857942052863"},
			{"shardId-000000000001", "85070591730234615865843651857942052864", "170141183460469231731687303715884105727"},
			{"shardId-000000000002", "170141183460469231731687303715884105728", "255211775190703847597530955573826158591"},
			{"shardId-000000000003", "255211775190703847597530955573826158592", "340282366920938463463374607431768211455"},
		},
		3: {
			{"shardId-000000000000", "0", "113427455640312821154458202477256070484"},
			{"shardId-000000000001", "113427455640312821154458202477256070485", "226854911280625642308916404954512140969"},
			{"shardId-000000000002", "226854911280625642308916404954512140970", "340282366920938463463374607431768211455"},
		},
	}
	for n, w := range want {
		got := open(t, db, fmt.Sprintf("s%d", n), stream.Config{Shards: n}).Shards()
		if fmt.Sprint(got) != fmt.Sprint(w) {
			t.Errorf("%d shards:\n got %v\nwant %v", n, got, w)
		}
	}
	maxKey := new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 128), big.NewInt(1))
	for n := 1; n <= stream.MaxShards; n++ {
		shards := open(t, db, fmt.Sprintf("tile%d", n), stream.Config{Shards: n}).Shards()
		next := big.NewInt(0)
		for i, sh := range shards {
			start, end := dec(t, sh.StartingHashKey), dec(t, sh.EndingHashKey)
			if start.Cmp(next) != 0 || end.Cmp(start) < 0 || sh.ID != stream.ShardID(i) {
				t.Fatalf("%d shards: shard %d is %+v, want it to start at %v", n, i, sh, next)
			}
			next = new(big.Int).Add(end, big.NewInt(1))
		}
		if last := dec(t, shards[n-1].EndingHashKey); last.Cmp(maxKey) != 0 {
			t.Errorf("%d shards: the last ends at %v", n, last)
		}
	}
}

func dec(t testing.TB, s string) *big.Int {
	t.Helper()
	n, ok := new(big.Int).SetString(s, 10)
	if !ok {
		t.Fatalf("hash key %q is not decimal", s)
	}
	return n
}

func inRange(t testing.TB, sh stream.Shard, hashKey string) bool {
	h := dec(t, hashKey)
	return dec(t, sh.StartingHashKey).Cmp(h) <= 0 && h.Cmp(dec(t, sh.EndingHashKey)) <= 0
}

// TestShardForKnownMD5: RFC 1321's test vectors land where their digests'
// top two bits say, on a stream of 4 shards.
func TestShardForKnownMD5(t *testing.T) {
	t.Parallel()
	s := open(t, newDB(t), "orders", stream.Config{Shards: 4})
	cases := []struct {
		key, md5 string
		shard    int
	}{
		{"a", "0cc175b9c0f1b6a831c399e269772661", 0}, // 0x0c = 00...
		{"12345678901234567890123456789012345678901234567890123456789012345678901234567890", "57edf4a22be3c955ac49da2e2107b67a", 1}, // 0x57 = 01...
		{"abc", "900150983cd24fb0d6963f7d28e17f72", 2},            // 0x90 = 10...
		{"message digest", "f96b697d7cb7938d525a2f31aaf161d0", 3}, // 0xf9 = 11...
		{"abcdefghijklmnopqrstuvwxyz", "c3fcd3d76192e4007dfb496cca67e13b", 3},
	}
	for _, tc := range cases {
		sum := md5.Sum([]byte(tc.key))
		if hex.EncodeToString(sum[:]) != tc.md5 {
			t.Fatalf("MD5(%q) = %x, want %s", tc.key, sum, tc.md5)
		}
		b, _ := new(big.Int).SetString(tc.md5, 16)
		if got := stream.HashKey(tc.key); got != b.String() {
			t.Errorf("HashKey(%q) = %s, want %s", tc.key, got, b)
		}
		sh := s.ShardFor(tc.key)
		if sh.ID != stream.ShardID(tc.shard) || !inRange(t, sh, stream.HashKey(tc.key)) {
			t.Errorf("key %q (MD5 %s): shard %s, want %s", tc.key, tc.md5, sh.ID, stream.ShardID(tc.shard))
		}
		// WriteBatch agrees with ShardFor.
		if res := write(t, s, rec(tc.key, "{}")); res[0].Shard != sh.ID {
			t.Errorf("key %q: written to %s, ShardFor says %s", tc.key, res[0].Shard, sh.ID)
		}
	}
}

// TestShardSpread: many keys use every shard, roughly evenly, and each key
// stays on one shard.
func TestShardSpread(t *testing.T) {
	t.Parallel()
	s := open(t, newDB(t), "orders", stream.Config{Shards: 8})
	const keys = 4000
	count := map[string]int{}
	shardOf := map[string]string{}
	for i := range keys {
		k := fmt.Sprintf("order-%d", i)
		sh := s.ShardFor(k).ID
		count[sh]++
		shardOf[k] = sh
	}
	for _, sh := range s.Shards() {
		// Expect 500 each; binomial sd ~21, so 400-600 is a wide margin.
		if c := count[sh.ID]; c < 400 || c > 600 {
			t.Errorf("shard %s holds %d of %d keys", sh.ID, c, keys)
		}
	}
	for round := range 2 {
		var recs []producers.StreamRecord
		for i := range 300 {
			recs = append(recs, rec(fmt.Sprintf("order-%d", i*13), `{"round":%d}`, round))
		}
		for i, r := range write(t, s, recs...) {
			if want := shardOf[recs[i].PartitionKey]; r.Shard != want {
				t.Errorf("round %d: key %s on shard %s, want %s", round, recs[i].PartitionKey, r.Shard, want)
			}
		}
	}
}

// FuzzShardFor: every key goes to the one shard whose range holds its MD5,
// for every shard count.
func FuzzShardFor(f *testing.F) {
	f.Add("a", uint8(4))
	f.Add("order-42", uint8(3))
	f.Add("", uint8(64))
	f.Add("\xff\x00", uint8(7))
	db := newDB(f)
	streams := map[int]*stream.Stream{}
	f.Fuzz(func(t *testing.T, key string, n uint8) {
		shards := int(n)%stream.MaxShards + 1
		s := streams[shards]
		if s == nil {
			s = open(t, db, fmt.Sprintf("fuzz%d", shards), stream.Config{Shards: shards})
			streams[shards] = s
		}
		got := s.ShardFor(key)
		h := stream.HashKey(key)
		for _, sh := range s.Shards() {
			if inRange(t, sh, h) != (sh.ID == got.ID) {
				t.Fatalf("%d shards: key %q (hash %s) went to %s; shard %+v disagrees", shards, key, h, got.ID, sh)
			}
		}
	})
}
