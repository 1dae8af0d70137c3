package scenario

import (
	"math"
	"math/rand/v2"
)

// Every random choice derives from the seed through one of these: a PCG stream keyed by what is
// being decided (an hour of a region, an event, a day of a stream), or a stateless hash of the
// same. Keys never depend on goroutine scheduling, so output is identical however it is produced.

// Domain separators for the derived streams.
const (
	domainLayout uint64 = iota + 1
	domainHour
	domainEvent
	domainDay
	domainHash
)

// splitmix64 is a strong 64-bit mixer (Steele, Lea, Flood 2014).
func splitmix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	return x ^ x>>31
}

// mix hashes a sequence of values into one.
func mix(xs ...uint64) uint64 {
	h := uint64(0x243f6a8885a308d3)
	for _, x := range xs {
		h = splitmix64(h ^ x)
	}
	return h
}

// newRand returns a PCG-backed generator for the stream (seed, domain, key).
func newRand(seed, domain, key uint64) *rand.Rand {
	return rand.New(rand.NewPCG(mix(seed, domain), key))
}

const (
	alnum      = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	upperAlnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567" // IAM unique IDs and access keys use base32
	hexDigits  = "0123456789abcdef"
)

// randString returns n characters of alphabet drawn from r.
func randString(r *rand.Rand, alphabet string, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[r.IntN(len(alphabet))]
	}
	return string(b)
}

// hashString returns n characters of alphabet derived from h alone.
func hashString(h uint64, alphabet string, n int) string {
	return randString(rand.New(rand.NewPCG(h, domainHash)), alphabet, n)
}

// uuid4 returns a random version-4 UUID in its canonical text form.
func uuid4(r *rand.Rand) string {
	var b [16]byte
	hi, lo := r.Uint64(), r.Uint64()
	for i := range 8 {
		b[i] = byte(hi >> (8 * i))
		b[8+i] = byte(lo >> (8 * i))
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	const hx = hexDigits
	out := make([]byte, 36)
	j := 0
	for i, c := range b {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			out[j] = '-'
			j++
		}
		out[j], out[j+1] = hx[c>>4], hx[c&0x0f]
		j += 2
	}
	return string(out)
}

// poisson draws from a Poisson distribution with mean lambda (normal approximation above 30).
func poisson(r *rand.Rand, lambda float64) int {
	switch {
	case lambda <= 0:
		return 0
	case lambda < 30:
		l, k, p := math.Exp(-lambda), 0, 1.0
		for {
			p *= r.Float64()
			if p <= l {
				return k
			}
			k++
		}
	default:
		n := math.Round(lambda + math.Sqrt(lambda)*r.NormFloat64())
		return int(max(n, 0))
	}
}

// poissonish is a Poisson draw kept within lambda ± 1.5·sqrt(lambda) (+1 above). Real traffic is
// Poisson-like, but its rare 4σ hours would be indistinguishable from the read spikes the
// scenario injects; clamping keeps every normal hour within the detector's robust baseline.
func poissonish(r *rand.Rand, lambda float64) int {
	n := poisson(r, lambda)
	sd := 1.5 * math.Sqrt(lambda)
	lo := int(math.Ceil(lambda - sd))
	hi := int(math.Floor(lambda + sd + 1))
	return min(max(n, lo, 0), hi)
}
