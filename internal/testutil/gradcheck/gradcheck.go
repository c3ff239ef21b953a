// Package gradcheck compares the gradients Gorgonia derives for a scalar
// loss with central finite differences, in float64: the check every layer
// and loss of package graph passes.
package gradcheck

import (
	"fmt"
	"math"
	"math/rand/v2"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Config tunes Check.
type Config struct {
	Eps       float64 // finite-difference step; default 1e-6
	Tol       float64 // allowed |analytic − numeric| / max(1, |numeric|); default 1e-5
	MaxPoints int     // elements checked per tensor, sampled when larger; default 64
	Seed      uint64  // parameter initialization and sampling
}

// Check compares the analytic gradients of loss, a scalar node of g, with
// respect to wrt — leaf nodes that carry float64 values: parameters or
// inputs — with central finite differences. It returns an error describing
// the first mismatch.
func Check(g *G.ExprGraph, loss *G.Node, wrt []*G.Node, cfg Config) error {
	if cfg.Eps == 0 {
		cfg.Eps = 1e-6
	}
	if cfg.Tol == 0 {
		cfg.Tol = 1e-5
	}
	if cfg.MaxPoints == 0 {
		cfg.MaxPoints = 64
	}
	grads, err := G.Grad(loss, wrt...)
	if err != nil {
		return fmt.Errorf("differentiating: %w", err)
	}
	vm := G.NewTapeMachine(g)
	defer vm.Close()
	run := func() (float64, error) {
		defer vm.Reset()
		if err := vm.RunAll(); err != nil {
			return 0, err
		}
		return scalar(loss.Value()), nil
	}
	if _, err := run(); err != nil {
		return err
	}
	analytic := make([][]float64, len(wrt))
	for i, g := range grads {
		analytic[i] = append([]float64(nil), g.Value().(*tensor.Dense).Float64s()...)
	}
	rng := rand.New(rand.NewPCG(cfg.Seed, 7))
	for i, n := range wrt {
		v, ok := n.Value().(*tensor.Dense)
		if !ok {
			return fmt.Errorf("%s has no tensor value", n.Name())
		}
		x := v.Float64s()
		points := rng.Perm(len(x))
		if len(points) > cfg.MaxPoints {
			points = points[:cfg.MaxPoints]
		}
		for _, j := range points {
			orig := x[j]
			x[j] = orig + cfg.Eps
			up, err := run()
			if err != nil {
				return err
			}
			x[j] = orig - cfg.Eps
			down, err := run()
			if err != nil {
				return err
			}
			x[j] = orig
			numeric := (up - down) / (2 * cfg.Eps)
			if d := math.Abs(analytic[i][j] - numeric); d > cfg.Tol*math.Max(1, math.Abs(numeric)) || math.IsNaN(d) {
				return fmt.Errorf("d loss/d %s[%d]: analytic %.9g, numeric %.9g", n.Name(), j, analytic[i][j], numeric)
			}
		}
	}
	return nil
}

// scalar reads a scalar value of either precision.
func scalar(v G.Value) float64 {
	switch v := v.(type) {
	case *G.F32:
		return float64(*v)
	case *G.F64:
		return float64(*v)
	case *tensor.Dense:
		switch d := v.Data().(type) {
		case float32:
			return float64(d)
		case float64:
			return d
		case []float32:
			return float64(d[0])
		case []float64:
			return d[0]
		}
	}
	return math.NaN()
}
