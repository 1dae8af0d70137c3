package cloudtrail

import "errors"

// Every error this package returns or puts in an Item wraps exactly one of these (or, for Read, the
// context's error). Test with errors.Is. Messages start with "cloudtrail: " and name the source, the
// record index and, for input read line by line, the line ("cloudtrail: logs.ndjson:7: record 6:
// malformed input: …"); they quote no value from the input, so no request or response element can
// leak into a log.
var (
	// ErrUnreadable: a path could not be listed, opened or read (missing file, permission denied,
	// I/O error). Nothing was decoded from it; a command line tool should exit non-zero.
	ErrUnreadable = errors.New("unreadable")

	// ErrMalformed: the bytes are not JSON (a syntax error, a truncated or corrupt gzip stream, an
	// empty input). What follows the error in the same file (or, for NDJSON, the same line) is
	// skipped.
	ErrMalformed = errors.New("malformed input")

	// ErrNotRecord: valid JSON that is neither a CloudTrail record nor an envelope this package
	// knows (an SNS notification, an EventBridge event of another detail-type, a number…).
	ErrNotRecord = errors.New("not a CloudTrail record")

	// ErrIncomplete: the value was decoded as a record and the record is returned with the error
	// (Item.Record, or DecodeRecord's first result), but part of it is missing or unusable: no
	// userIdentity, no requestParameters, an eventTime that is not a time, a field of the wrong JSON
	// type (left zero). Use the record — it is never dropped — and count the defect.
	ErrIncomplete = errors.New("incomplete record")

	// ErrOversize: a value over the size limits (MaxRecordBytes for a record or any value read
	// whole, MaxStringBytes for one string in it). It was skipped without being kept in memory; the
	// values around it are read as usual. The message gives its position and size.
	ErrOversize = errors.New("over-size value")
)
