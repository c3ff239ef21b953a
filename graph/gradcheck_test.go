package graph

import (
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/tapeml/tapeml/internal/testutil/gradcheck"
)

// GradCheckConfig tunes GradCheck.
type GradCheckConfig = gradcheck.Config

// GradCheck builds a training-mode float64 graph with build and checks the
// gradients of its loss with respect to the nodes build returns against
// finite differences (gradcheck.Check).
func GradCheck(build func(b *Builder) (loss *G.Node, wrt []*G.Node, err error), cfg GradCheckConfig) error {
	b := NewBuilder(NewParams(tensor.Float64, cfg.Seed), Train, &Noise{Seed: cfg.Seed})
	loss, wrt, err := build(b)
	if err != nil {
		return err
	}
	return gradcheck.Check(b.G, loss, wrt, cfg)
}
