package stream

// UseDBBatch makes s write with bbolt's db.Batch instead of its own group
// commit, for the benchmarks' comparison.
func UseDBBatch(s *Stream) { s.dbBatch = true }
