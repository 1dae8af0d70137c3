//go:build race

package cli

// raceDetector: the tests run under -race (5-10× slower); see acceptanceCases.
const raceDetector = true
