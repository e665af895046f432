package stream

import (
	"bytes"
	"crypto/md5"
	"fmt"
	"math/big"
	"sort"
)

// ShardID returns Kinesis's id of the shard with index i:
// shardId-000000000000 for 0.
func ShardID(i int) string { return fmt.Sprintf("shardId-%012d", i) }

// splitHashKeys splits the 128-bit hash key space evenly into n shards, as
// Kinesis does for a new stream: shard i starts at floor(i*2^128/n) and ends
// one before the next shard's start (the last ends at 2^128-1).
func splitHashKeys(n int) ([]Shard, [][16]byte) {
	space := new(big.Int).Lsh(big.NewInt(1), 128)
	bound := func(i int) *big.Int {
		b := new(big.Int).Mul(space, big.NewInt(int64(i)))
		return b.Quo(b, big.NewInt(int64(n)))
	}
	shards := make([]Shard, n)
	starts := make([][16]byte, n)
	for i := range n {
		start, end := bound(i), bound(i+1)
		end.Sub(end, big.NewInt(1))
		shards[i] = Shard{ID: ShardID(i), StartingHashKey: start.String(), EndingHashKey: end.String()}
		start.FillBytes(starts[i][:])
	}
	return shards, starts
}

// HashKey returns the hash key Kinesis derives from a partition key: its MD5
// digest read as a big-endian unsigned 128-bit integer, in decimal.
func HashKey(partitionKey string) string {
	sum := md5.Sum([]byte(partitionKey))
	return new(big.Int).SetBytes(sum[:]).String()
}

// shardFor returns the index of the shard whose hash key range holds
// MD5(partitionKey).
func (s *Stream) shardFor(partitionKey string) int {
	sum := md5.Sum([]byte(partitionKey))
	// The first shard whose start is above the hash, minus one. starts[0]
	// is zero, so the answer is at least 0.
	return sort.Search(len(s.starts), func(i int) bool {
		return bytes.Compare(s.starts[i][:], sum[:]) > 0
	}) - 1
}

// ShardFor returns the shard that takes records with this partition key.
func (s *Stream) ShardFor(partitionKey string) Shard { return s.shards[s.shardFor(partitionKey)] }
