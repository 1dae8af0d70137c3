//go:build reporthtml

package main

import reports3 "github.com/secretwatch/secretwatch/report/s3"

// reportFormats: with the reporthtml build tag, the scheduled report also writes report.html
// (see weekly_formats.go for the cost).
func reportFormats() []reports3.Format {
	return []reports3.Format{reports3.HTML(), reports3.CSV(), reports3.JSON()}
}
