package gpio_test

import (
	"compress/gzip"
	"fmt"
	"io"
	"strings"
)

// cpioEntry is one file of the initramfs. The archive is written here rather
// than with cpio(1) so that /dev/console can be a device node without root.
type cpioEntry struct {
	name  string
	mode  uint32 // type and permission bits, as in stat(2)
	data  []byte // file content, or the link target of a symlink
	major uint32 // device number of a device node
	minor uint32
}

const (
	modeDir  = 0o040000
	modeFile = 0o100000
	modeLink = 0o120000
	modeChar = 0o020000
)

// writeInitramfs writes entries as a gzipped "newc" cpio archive, the
// format the kernel unpacks into its root file system.
func writeInitramfs(w io.Writer, entries []cpioEntry) error {
	zw := gzip.NewWriter(w)
	for i, e := range append(entries, cpioEntry{name: "TRAILER!!!"}) {
		nlink := 1
		if e.mode&modeDir != 0 && e.mode&modeFile == 0 {
			nlink = 2
		}
		name := e.name + "\x00"
		hdr := fmt.Sprintf("070701%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x",
			i+1, e.mode, 0, 0, nlink, 0, len(e.data), 0, 0, e.major, e.minor, len(name), 0)
		if _, err := io.WriteString(zw, hdr+name+pad(len(hdr)+len(name))); err != nil {
			return err
		}
		if _, err := zw.Write(e.data); err != nil {
			return err
		}
		if _, err := io.WriteString(zw, pad(len(e.data))); err != nil {
			return err
		}
	}
	return zw.Close()
}

// pad returns the NULs that align n bytes to 4, as newc requires after the
// header+name and after the data.
func pad(n int) string {
	return strings.Repeat("\x00", (4-n%4)%4)
}
