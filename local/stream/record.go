package stream

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"time"
)

// Record is one record as read from a shard: Kinesis's Record, with the
// shard it came from.
type Record struct {
	Shard          string
	SequenceNumber string
	PartitionKey   string
	Data           []byte
	// ArrivedAt is when the stream took the record (Kinesis's
	// ApproximateArrivalTimestamp): the commit of its batch, by Config.Now.
	ArrivedAt time.Time
}

// seqWidth is the width of a sequence number: the digits of the largest
// uint64.
const seqWidth = 20

// formatSeq writes a sequence number as 20 decimal digits with leading
// zeros, so that sequence numbers sort the same as strings and as numbers.
func formatSeq(n uint64) string {
	var b [seqWidth]byte
	for i := seqWidth - 1; i >= 0; i-- {
		b[i] = byte('0' + n%10)
		n /= 10
	}
	return string(b[:])
}

// parseSeq reads a sequence number; leading zeros are optional.
func parseSeq(s string) (uint64, error) {
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil || n == 0 {
		return 0, fmt.Errorf("%w: %q is not a sequence number of this stream (a positive decimal number, as WriteBatch and Read return)", ErrInvalidSequence, s)
	}
	return n, nil
}

func seqKey(n uint64) []byte { return binary.BigEndian.AppendUint64(make([]byte, 0, 8), n) }

// recordVersion is the first byte of every stored record.
const recordVersion = 1

// encodeRecord lays a record out as: version (1 byte), arrival time (Unix
// nanoseconds, 8 bytes big-endian), partition key length (uvarint),
// partition key, data.
func encodeRecord(arrived time.Time, key string, data []byte) []byte {
	b := make([]byte, 0, 1+8+binary.MaxVarintLen64+len(key)+len(data))
	b = append(b, recordVersion)
	b = binary.BigEndian.AppendUint64(b, uint64(arrived.UnixNano()))
	b = binary.AppendUvarint(b, uint64(len(key)))
	b = append(b, key...)
	return append(b, data...)
}

var errCorrupt = errors.New("corrupt record")

// decodeRecord reads what encodeRecord wrote, copying out of v (bbolt's
// values live only as long as their transaction).
func decodeRecord(v []byte) (arrived time.Time, key string, data []byte, err error) {
	if len(v) < 10 || v[0] != recordVersion {
		return time.Time{}, "", nil, errCorrupt
	}
	arrived = time.Unix(0, int64(binary.BigEndian.Uint64(v[1:9])))
	n, w := binary.Uvarint(v[9:])
	if w <= 0 || uint64(len(v)-9-w) < n {
		return time.Time{}, "", nil, errCorrupt
	}
	rest := v[9+w:]
	key = string(rest[:n])
	data = append([]byte{}, rest[n:]...)
	return arrived, key, data, nil
}

// arrivalOf reads only the arrival time of an encoded record.
func arrivalOf(v []byte) (time.Time, error) {
	if len(v) < 10 || v[0] != recordVersion {
		return time.Time{}, errCorrupt
	}
	return time.Unix(0, int64(binary.BigEndian.Uint64(v[1:9]))), nil
}
