package storage

import (
	"os"
	"path/filepath"
)

// Stats are the figures of a store.
type Stats struct {
	// LSMBytes and VLogBytes are the sizes of the LSM tables (.sst) and
	// value-log files (.vlog). badger's db.Size() reads them from expvar
	// metrics, which are off to save memory (it then returns 0, 0), so they
	// are read from the directory here. The value log in use is
	// preallocated, so VLogBytes is its apparent size, not blocks in use.
	LSMBytes  int64
	VLogBytes int64
	// WALBytes is the size of the memtable write-ahead logs (.mem).
	WALBytes int64
	// Written counts the records written since Open.
	Written uint64
	// GCRuns counts GC passes of Run; GCRewrites counts the value-log files
	// they rewrote.
	GCRuns     uint64
	GCRewrites uint64
}

// Stats returns the store's figures. Files removed while it reads the
// directory (by compaction) are skipped.
func (s *Store) Stats() Stats {
	st := Stats{
		Written:    s.written.Load(),
		GCRuns:     s.gcRuns.Load(),
		GCRewrites: s.gcRewrites.Load(),
	}
	ents, err := os.ReadDir(s.dir)
	if err != nil {
		s.log.Warn("read store dir", "err", err)
		return st
	}
	for _, e := range ents {
		var sum *int64
		switch filepath.Ext(e.Name()) {
		case ".sst":
			sum = &st.LSMBytes
		case ".vlog":
			sum = &st.VLogBytes
		case ".mem":
			sum = &st.WALBytes
		default:
			continue
		}
		info, err := e.Info()
		if err != nil {
			continue
		}
		*sum += info.Size()
	}
	return st
}
