package storage

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

// discardFile is badger's mmapped discard-stats file (1 MiB, sparse).
const discardFile = "DISCARD"

// preallocator gives blocks to the holes of the files badger maps shared
// and writes (or, at Open, reads) in place: the memtable logs (.mem, 2 ×
// MemTableSize), the value logs (.vlog, 2 × ValueLogFileSize) and DISCARD.
// badger creates them sparse (ftruncate); a page of a hole touched with no
// block to give it is a SIGBUS. On tmpfs even a read of a hole allocates,
// which is how `switchtap calls` died on a full disk. Tables (.sst) are
// written whole into files of their exact size and need nothing.
type preallocator struct {
	dir string
	mu  sync.Mutex
}

// mapped reports whether badger maps the file and may touch its holes.
func mapped(name string) bool {
	switch filepath.Ext(name) {
	case ".mem", ".vlog":
		return true
	}
	return name == discardFile
}

// run allocates the holes of every mapped file; it costs one directory
// read and one stat per file once they are whole. It also reports whether
// any file was still sparse, for a caller that cannot fill them.
func (p *preallocator) run() error {
	_, err := p.scan(true)
	return err
}

// sparse reports the bytes of holes in the mapped files, filling nothing.
func (p *preallocator) sparse() (uint64, error) { return p.scan(false) }

func (p *preallocator) scan(fill bool) (uint64, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	ents, err := os.ReadDir(p.dir)
	if err != nil {
		return 0, fmt.Errorf("read store dir: %w", err)
	}
	var holes uint64
	var errs []error
	for _, e := range ents {
		if !mapped(e.Name()) {
			continue
		}
		info, err := e.Info()
		if err != nil {
			continue // removed meanwhile (a memtable flushed)
		}
		size := info.Size()
		st, ok := info.Sys().(*syscall.Stat_t)
		if !ok || st.Blocks*512 >= size {
			continue
		}
		holes += uint64(size - st.Blocks*512) //nolint:gosec // G115: checked positive above.
		if !fill {
			continue
		}
		if err := allocate(filepath.Join(p.dir, e.Name()), size); err != nil {
			errs = append(errs, err)
		}
	}
	return holes, errors.Join(errs...)
}

// allocate gives blocks to the whole of a file without changing its size
// (FALLOC_FL_KEEP_SIZE: badger may truncate a value log meanwhile, and
// must find it as it left it).
func allocate(path string, size int64) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return fmt.Errorf("preallocate %s: %w", filepath.Base(path), err)
	}
	defer f.Close()
	if err := unix.Fallocate(int(f.Fd()), unix.FALLOC_FL_KEEP_SIZE, 0, size); err != nil {
		if isNoSpace(err) {
			return fmt.Errorf("preallocate %s (%d bytes): %w: %w", filepath.Base(path), size, ErrDiskFull, err)
		}
		return fmt.Errorf("preallocate %s: %w", filepath.Base(path), err)
	}
	return nil
}
