package main

import (
	"bufio"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/secretwatch/secretwatch/cloudtrail"
)

// mergeDaily rewrites the tree at src as one CloudTrail log file per region and day under dst
// (same AWSLogs layout, same records in the same order, raw JSON kept), for a small example that
// a repository can carry: a 14-day account in a few dozen files instead of thousands.
func mergeDaily(ctx context.Context, src, dst string) error {
	files, err := cloudtrail.Files([]string{src})
	if err != nil {
		return fmt.Errorf("daily: %w", err)
	}
	type out struct {
		f  *os.File
		zw *gzip.Writer
		bw *bufio.Writer
		n  int
	}
	open := map[string]*out{}
	closeOut := func(o *out) error {
		_, err := o.bw.WriteString("]}\n")
		return errors.Join(err, o.bw.Flush(), o.zw.Close(), o.f.Close())
	}
	for it := range cloudtrail.Read(ctx, files) {
		if it.Err != nil && it.Record == nil {
			return fmt.Errorf("daily: %w", it.Err)
		}
		r := it.Record
		day := r.EventTime.UTC().Format("2006/01/02")
		key := r.AWSRegion + "/" + day
		o := open[key]
		if o == nil {
			dir := filepath.Join(dst, "AWSLogs", r.RecipientAccountID, "CloudTrail", r.AWSRegion, day)
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return err
			}
			name := fmt.Sprintf("%s_CloudTrail_%s_%sT0000Z_daily.json.gz", r.RecipientAccountID, r.AWSRegion, r.EventTime.UTC().Format("20060102"))
			f, err := os.Create(filepath.Join(dir, name))
			if err != nil {
				return err
			}
			zw, _ := gzip.NewWriterLevel(f, gzip.BestCompression)
			o = &out{f: f, zw: zw, bw: bufio.NewWriter(zw)}
			o.bw.WriteString(`{"Records":[`)
			open[key] = o
		}
		if o.n > 0 {
			o.bw.WriteByte(',')
		}
		o.bw.Write(it.Raw)
		o.n++
	}
	var errs []error
	for _, o := range open {
		errs = append(errs, closeOut(o))
	}
	return errors.Join(errs...)
}
