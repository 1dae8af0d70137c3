//go:build !reporthtml

package main

import reports3 "github.com/secretwatch/secretwatch/report/s3"

// reportFormats are the renderings the scheduled report puts in S3. The default build writes CSV
// and JSON only: the HTML renderer links html/template, which makes the arm64 bootstrap 3.8 MB
// larger (14.1 MB instead of 10.3 MB) and breaks the 10 MB budget. Build with
// `SECRETWATCH_BUILD_TAGS=reporthtml scripts/build-lambda.sh` to add report.html.
func reportFormats() []reports3.Format { return []reports3.Format{reports3.CSV(), reports3.JSON()} }
