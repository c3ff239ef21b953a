package metrics

import (
	"fmt"
	"math"
)

// RMSE is the root mean squared error of predictions against targets; NaN
// for empty input.
func RMSE(predictions, targets []float32) (float64, error) {
	var e regressionErrors
	if err := e.add(predictions, targets); err != nil {
		return math.NaN(), fmt.Errorf("RMSE: %w", err)
	}
	return e.rmse(), nil
}

// MAE is the mean absolute error of predictions against targets; NaN for
// empty input.
func MAE(predictions, targets []float32) (float64, error) {
	var e regressionErrors
	if err := e.add(predictions, targets); err != nil {
		return math.NaN(), fmt.Errorf("MAE: %w", err)
	}
	return e.mae(), nil
}

// regressionErrors sums errors in float64 so that an epoch of millions of
// float32 values loses no precision.
type regressionErrors struct {
	n                 int
	squared, absolute float64
}

func (e *regressionErrors) add(predictions, targets []float32) error {
	if len(predictions) != len(targets) {
		return fmt.Errorf("%d predictions but %d targets", len(predictions), len(targets))
	}
	for i, p := range predictions {
		d := float64(p) - float64(targets[i])
		e.squared += d * d
		e.absolute += math.Abs(d)
	}
	e.n += len(predictions)
	return nil
}

func (e *regressionErrors) rmse() float64 {
	if e.n == 0 {
		return math.NaN()
	}
	return math.Sqrt(e.squared / float64(e.n))
}

func (e *regressionErrors) mae() float64 {
	if e.n == 0 {
		return math.NaN()
	}
	return e.absolute / float64(e.n)
}
