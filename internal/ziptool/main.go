// Command ziptool writes a reproducible zip for the Lambda package: fixed timestamps, the given
// file order, and executable bits kept (Lambda needs bootstrap to be executable). It exists so
// that building the package needs nothing but Go.
//
//	go run ./internal/ziptool OUT.zip FILE[=NAME]...
package main

import (
	"archive/zip"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "ziptool:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if len(args) < 2 {
		return fmt.Errorf("usage: ziptool OUT.zip FILE[=NAME]...")
	}
	out, err := os.Create(args[0])
	if err != nil {
		return err
	}
	zw := zip.NewWriter(out)
	for _, a := range args[1:] {
		src, name, ok := strings.Cut(a, "=")
		if !ok {
			name = filepath.Base(src)
		}
		if err := add(zw, src, name); err != nil {
			out.Close()
			return err
		}
	}
	if err := zw.Close(); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

func add(zw *zip.Writer, src, name string) error {
	f, err := os.Open(src)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	h, err := zip.FileInfoHeader(fi)
	if err != nil {
		return err
	}
	h.Name = name
	h.Method = zip.Deflate
	h.Modified = time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	mode := os.FileMode(0o644)
	if fi.Mode()&0o111 != 0 {
		mode = 0o755
	}
	h.SetMode(mode)
	w, err := zw.CreateHeader(h)
	if err != nil {
		return err
	}
	_, err = io.Copy(w, f)
	return err
}
