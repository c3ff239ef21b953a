package graph

// CompileTape compiles the Infer graph of build for a batch of n on
// Gorgonia's tape machine: the reference a plan is checked against.
func CompileTape(build BuildFunc, params *Params, n int) (*Machine, error) {
	return compile(build, nil, params, nil, n, Infer, true)
}
