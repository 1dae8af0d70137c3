package metrics

import (
	"time"

	"github.com/secretwatch/secretwatch/detector"
)

// MaxDimensionValue is CloudWatch's limit for a dimension value (and EMF's for a dimension
// target), in characters.
const MaxDimensionValue = maxDimensionValue

// Dimension is one name/value pair of a [Datum].
type Dimension struct {
	Name, Value string
}

// Datum is one metric value, as every recorder publishes it.
type Datum struct {
	Name  string
	Unit  string
	Value float64
	Dim   *Dimension // nil: no dimension
}

// Plan is a validated [Config]: what a recorder publishes for a call. Recorders outside this
// package (metrics/cloudwatch, which needs the AWS SDK) use it so that every recorder sends
// the same data.
type Plan struct {
	s settings
}

// NewPlan validates cfg.
func NewPlan(cfg Config) (Plan, error) {
	s, err := cfg.settings()
	if err != nil {
		return Plan{}, err
	}
	return Plan{s: s}, nil
}

// Namespace is the metrics' namespace (DefaultNamespace when the Config left it empty).
func (p Plan) Namespace() string { return p.s.namespace }

// Now is the metrics' timestamp for a call made now.
func (p Plan) Now() time.Time { return p.s.now() }

// Data maps the counts of one call onto the contract's metrics (see the package documentation).
func (p Plan) Data(st detector.Stats, storeErrors int64, latency time.Duration) []Datum {
	in := p.s.data(st, storeErrors, latency)
	out := make([]Datum, len(in))
	for i, d := range in {
		out[i] = Datum{Name: d.name, Unit: d.unit, Value: d.value}
		if d.dim != nil {
			out[i].Dim = &Dimension{Name: d.dim.name, Value: d.dim.value}
		}
	}
	return out
}
