package config

import (
	"fmt"
	"time"
)

// Report configures the month's report (package report).
type Report struct {
	// ShortAbandon is the ring time up to which an abandoned call is a
	// short abandon, left out of the service level's denominator.
	ShortAbandon time.Duration `yaml:"short_abandon"`
	// GreetingLimit is the greeting latency (answer to the receptionist's
	// first word, the record's speech) above which the month's voice part
	// counts a call as late to greet.
	GreetingLimit time.Duration `yaml:"greeting_limit"`
	// KeepMonths is how long after a month's report is approved its
	// sampled recordings stay protected from retention.
	KeepMonths int `yaml:"keep_months"`
	// Office names the place the box serves, printed on the month's
	// report ("Oficina central, San Salvador"); empty prints none.
	Office string `yaml:"office"`
}

// Sample configures the month's random sample of calls to evaluate.
type Sample struct {
	// Confidence, Margin and P size the sample by Cochran with the finite
	// population correction.
	Confidence float64 `yaml:"confidence"`
	Margin     float64 `yaml:"margin"`
	P          float64 `yaml:"p"`
	// PerOperator, when > 0, takes that many calls per receptionist
	// instead of Cochran's size.
	PerOperator int `yaml:"per_operator"`
	// Floor is the least number of calls per receptionist; Reserves the
	// length of each receptionist's ranked reserve list.
	Floor    int `yaml:"floor"`
	Reserves int `yaml:"reserves"`
}

func defaultReport() Report {
	return Report{ShortAbandon: 5 * time.Second, GreetingLimit: 3 * time.Second, KeepMonths: 12}
}

func defaultSample() Sample {
	return Sample{Confidence: 0.95, Margin: 0.10, P: 0.5, Floor: 5, Reserves: 10}
}

func (r Report) validate() error {
	if r.ShortAbandon < 0 || r.ShortAbandon > time.Minute {
		return fmt.Errorf("%w: report.short_abandon %v: want 0 to 1m", ErrInvalid, r.ShortAbandon)
	}
	if r.GreetingLimit <= 0 || r.GreetingLimit > time.Minute {
		return fmt.Errorf("%w: report.greeting_limit %v: want more than 0, at most 1m", ErrInvalid, r.GreetingLimit)
	}
	if r.KeepMonths < 1 || r.KeepMonths > 120 {
		return fmt.Errorf("%w: report.keep_months %d: want 1 to 120", ErrInvalid, r.KeepMonths)
	}
	if len(r.Office) > 200 {
		return fmt.Errorf("%w: report.office: %d bytes, want at most 200", ErrInvalid, len(r.Office))
	}
	return nil
}

func (s Sample) validate() error {
	switch {
	case !(s.Confidence >= 0.5 && s.Confidence <= 0.999):
		return fmt.Errorf("%w: sample.confidence %v: want 0.5 to 0.999", ErrInvalid, s.Confidence)
	case !(s.Margin > 0 && s.Margin <= 0.5):
		return fmt.Errorf("%w: sample.margin %v: want more than 0, at most 0.5", ErrInvalid, s.Margin)
	case !(s.P > 0 && s.P < 1):
		return fmt.Errorf("%w: sample.p %v: want between 0 and 1", ErrInvalid, s.P)
	case s.PerOperator < 0 || s.PerOperator > 10000:
		return fmt.Errorf("%w: sample.per_operator %d: want 0 (Cochran) to 10000", ErrInvalid, s.PerOperator)
	case s.Floor < 0 || s.Floor > 10000:
		return fmt.Errorf("%w: sample.floor %d: want 0 to 10000", ErrInvalid, s.Floor)
	case s.Reserves < 0 || s.Reserves > 10000:
		return fmt.Errorf("%w: sample.reserves %d: want 0 to 10000", ErrInvalid, s.Reserves)
	}
	return nil
}
