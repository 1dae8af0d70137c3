package main

import reports3 "github.com/secretwatch/secretwatch/report/s3"

// reportFormats are the renderings the scheduled report puts in S3: report.html, .csv and .json.
// The HTML writer links no template package (report.WriteHTML), so it costs the bootstrap tens
// of kilobytes, not the 3.8 MB html/template did (BENCHMARKS.md, "Package size").
func reportFormats() []reports3.Format {
	return []reports3.Format{reports3.HTML(), reports3.CSV(), reports3.JSON()}
}
