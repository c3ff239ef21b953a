package graph

import (
	"testing"

	"gorgonia.org/tensor"
)

// CompileTape compiles the Infer graph of build for a batch of n on
// Gorgonia's tape machine: the reference a plan is checked against.
func CompileTape(build BuildFunc, params *Params, n int) (*Machine, error) {
	return compile(build, nil, params, nil, n, Infer, true)
}

// KernelAllocs is the allocations per run of a planned machine's kernels
// alone, called in the plan's order on its tensors: what Run allocates
// that is not the plan's doing.
func KernelAllocs(m *Machine, inputs []*tensor.Dense, runs int) (float64, error) {
	var err error
	allocs := testing.AllocsPerRun(runs, func() {
		for i, args := range m.plan.inputs {
			for _, a := range args {
				m.plan.steps[a.step].in[a.arg] = inputs[i]
			}
		}
		for _, s := range m.plan.steps {
			if e := s.k.forward(s.in, s.out); e != nil {
				err = e
			}
		}
	})
	return allocs, err
}
