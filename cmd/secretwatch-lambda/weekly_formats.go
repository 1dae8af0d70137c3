package main

import reports3 "github.com/secretwatch/secretwatch/report/s3"

// reportFormats are the renderings the scheduled report puts in S3: report.html, .csv and .json.
// The HTML writer links no template package (report.WriteHTML): the bootstrap with all three is
// smaller than it was with CSV and JSON alone, and html/template would add 3.8 MB
// (BENCHMARKS.md, "Package size"; TestLambdaBootstrapSize keeps it within 10 MB).
func reportFormats() []reports3.Format {
	return []reports3.Format{reports3.HTML(), reports3.CSV(), reports3.JSON()}
}
