package bolt

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"io/fs"
	"os"

	bberrors "go.etcd.io/bbolt/errors"
)

// Errors Open returns (wrapped, with the file name and what to do), for callers that map them to
// exit codes or messages.
var (
	// ErrInUse: another process holds the store open.
	ErrInUse = errors.New("in use by another secretwatch process")
	// ErrNotFile: the path names a directory or a special file, not a store file.
	ErrNotFile = errors.New("not a regular file")
	// ErrDamaged: the file is not a usable store (truncated, overwritten, not a store at all).
	ErrDamaged = errors.New("damaged")
)

// bbolt's file layout (go.etcd.io/bbolt internal/common): two meta pages at the start, each a
// 16-byte page header then the meta: magic, version, page size, flags (4 bytes each), the root
// bucket (16), the freelist page (8), the high-water mark in pages (8), the transaction ID (8)
// and an FNV-64a checksum of everything before it (8), in the machine's byte order (little
// endian on every platform Go's bbolt supports that we build for).
const (
	boltMagic     = 0xED0CDAED
	boltVersion   = 2
	pageHeader    = 16
	metaSize      = 64
	metaChecksum  = 56 // offset of the checksum inside the meta
	metaHighWater = 40
	metaTxID      = 48
	minPageSize   = 512
	maxPageSize   = 1 << 16
)

type metaPage struct {
	pageSize uint32
	highPage uint64 // pages the store uses: the file must hold at least highPage × pageSize bytes
	txid     uint64
}

func readMeta(b []byte) (metaPage, bool) {
	if len(b) < pageHeader+metaSize {
		return metaPage{}, false
	}
	m := b[pageHeader : pageHeader+metaSize]
	le := binary.LittleEndian
	if le.Uint32(m[0:]) != boltMagic || le.Uint32(m[4:]) != boltVersion {
		return metaPage{}, false
	}
	h := fnv.New64a()
	h.Write(m[:metaChecksum])
	if h.Sum64() != le.Uint64(m[metaChecksum:]) {
		return metaPage{}, false
	}
	mp := metaPage{pageSize: le.Uint32(m[8:]), highPage: le.Uint64(m[metaHighWater:]), txid: le.Uint64(m[metaTxID:])}
	if mp.pageSize < minPageSize || mp.pageSize > maxPageSize {
		return metaPage{}, false
	}
	return mp, true
}

// checkFile looks at a store file before bbolt opens it. bbolt trusts its file: on a truncated one
// it panics, in a goroutine of its own where no recover can catch it. A missing or empty file is
// fine (Open creates the store). The error wraps ErrDamaged and says what to do.
func checkFile(path string) error {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return openError(path, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return openError(path, err)
	}
	if !st.Mode().IsRegular() {
		what := "a special file"
		if st.IsDir() {
			what = "a directory"
		}
		return fmt.Errorf("store %s is %s: %w", path, what, ErrNotFile)
	}
	size := st.Size()
	if size == 0 {
		return nil
	}
	buf := make([]byte, 2*maxPageSize)
	n, err := f.ReadAt(buf, 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return openError(path, err)
	}
	buf = buf[:n]
	var best metaPage
	found := false
	m0, ok0 := readMeta(buf)
	if ok0 {
		best, found = m0, true
	}
	for _, ps := range []int{int(m0.pageSize), os.Getpagesize(), 4096} {
		if ps == 0 || ps >= len(buf) {
			continue
		}
		if m1, ok := readMeta(buf[ps:]); ok && (!found || m1.txid > best.txid) {
			best, found = m1, true
		}
	}
	if !found {
		return damaged(path, fmt.Sprintf("%d bytes and no valid header: not a secretwatch store, or overwritten", size))
	}
	if need := int64(best.highPage) * int64(best.pageSize); size < need {
		return damaged(path, fmt.Sprintf("truncated: %d bytes, its header says at least %d", size, need))
	}
	return nil
}

func damaged(path, why string) error {
	return fmt.Errorf("store %s is %w (%s); it only caches what the logs say: move it away (or delete it) and replay the logs again to rebuild it", path, ErrDamaged, why)
}

// openError turns what bbolt.Open or the file system said into one clear sentence: the file
// named once ("open … open …" otherwise), the cause kept for errors.Is.
func openError(path string, err error) error {
	switch {
	case errors.Is(err, bberrors.ErrTimeout):
		return fmt.Errorf("store %s is %w: wait for it to finish, or pass another --store", path, ErrInUse)
	case errors.Is(err, bberrors.ErrInvalid), errors.Is(err, bberrors.ErrChecksum), errors.Is(err, bberrors.ErrVersionMismatch):
		return damaged(path, err.Error())
	}
	if pe, ok := errors.AsType[*fs.PathError](err); ok {
		err = pe.Err
	}
	if errors.Is(err, fs.ErrPermission) {
		return fmt.Errorf("store %s: %w: check the file's and its directory's permissions, or pass another --store", path, err)
	}
	return fmt.Errorf("store %s: %w", path, err)
}
