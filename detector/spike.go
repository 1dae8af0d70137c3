package detector

import (
	"fmt"
	"math"
	"slices"
	"time"
)

// SpikeConfig tunes the read-spike rule. The statistic (docs/detection.md):
//
// For the hour h of a read, the samples are the read counts of the same hour of day on the prior
// days of the same kind (weekday or weekend) inside the retention window, counting only days after
// the series began (hours without reads count as zero). With m the median of the samples and
// s = 1.4826·MAD their robust standard deviation, floored at sqrt(max(m,1)) (Poisson noise), the
// hour is a spike when its count c satisfies all of
//
//	c ≥ MinCount,  c ≥ m + Sigmas·s,  c ≥ Ratio·max(m, 1),
//
// and at least MinSamples prior days exist (warm-up). Median and MAD ignore up to half of the
// samples, so a spike that went on for a few days is not learnt as normal; comparing with the same
// hour on days of the same kind makes a daytime ramp or a quiet weekend normal.
type SpikeConfig struct {
	MinCount   int64   // minimum reads in the hour (default 20)
	Sigmas     float64 // robust standard deviations above the median (default 6)
	Ratio      float64 // minimum multiple of the median (default 5)
	MinSamples int     // prior same-kind days needed before the rule speaks (default 3)
}

func (c *SpikeConfig) defaults() {
	if c.MinCount <= 0 {
		c.MinCount = 20
	}
	if c.Sigmas <= 0 {
		c.Sigmas = 6
	}
	if c.Ratio <= 0 {
		c.Ratio = 5
	}
	if c.MinSamples <= 0 {
		c.MinSamples = 3
	}
}

// spikeVerdict is the result of checking one hour of one series.
type spikeVerdict struct {
	Spike     bool
	Count     int64
	Median    float64
	Sigma     float64
	Samples   int
	Threshold float64
	Hour      time.Time
}

func isWeekend(t time.Time) bool {
	d := t.Weekday()
	return d == time.Saturday || d == time.Sunday
}

// checkSpike evaluates hour h of series s (see SpikeConfig).
func checkSpike(cfg SpikeConfig, s *Series, h int64, retention time.Duration) spikeVerdict {
	v := spikeVerdict{Count: s.Hours[h], Hour: time.Unix(h*3600, 0).UTC()}
	if s.FirstSeen.IsZero() {
		return v
	}
	first := Hour(s.FirstSeen)
	weekend := isWeekend(v.Hour)
	maxDays := int(retention / (24 * time.Hour))
	samples := make([]float64, 0, maxDays)
	for d := 1; d <= maxDays; d++ {
		ph := h - int64(24*d)
		if ph < first-int64(first%24) { // before the series' first day
			break
		}
		if isWeekend(time.Unix(ph*3600, 0).UTC()) != weekend {
			continue
		}
		samples = append(samples, float64(s.Hours[ph]))
	}
	v.Samples = len(samples)
	if len(samples) < cfg.MinSamples {
		return v
	}
	v.Median = median(samples)
	dev := make([]float64, len(samples))
	for i, x := range samples {
		dev[i] = math.Abs(x - v.Median)
	}
	v.Sigma = max(1.4826*median(dev), math.Sqrt(max(v.Median, 1)))
	v.Threshold = max(float64(cfg.MinCount), v.Median+cfg.Sigmas*v.Sigma, cfg.Ratio*max(v.Median, 1))
	v.Spike = float64(v.Count) >= v.Threshold
	return v
}

func median(x []float64) float64 {
	s := slices.Clone(x)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

func (v spikeVerdict) reason(who string) string {
	kind := "weekdays"
	if isWeekend(v.Hour) {
		kind = "weekend days"
	}
	return fmt.Sprintf("%d reads %s in the hour from %s; baseline %.1f ± %.1f for %s %s (median ± robust σ of %d prior %s); threshold %.0f",
		v.Count, who, v.Hour.Format("2006-01-02 15:04 MST"), v.Median, v.Sigma,
		v.Hour.Weekday().String()[:3], v.Hour.Format("15:04"), v.Samples, kind, v.Threshold)
}
