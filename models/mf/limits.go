package mf

import (
	"fmt"

	"github.com/tapeml/tapeml/graph"
)

// Upper bounds Validate enforces besides the 2^24 users and items, so
// that a configuration read from a file cannot ask for more memory than
// any sensible model needs. MaxParams bounds the total: 2^27 values are
// 512 MiB of float32.
const (
	MaxFactors = 4096
	MaxParams  = 1 << 27
)

// checkLimits reports factors over MaxFactors, then a total parameter
// count over MaxParams.
func (c Config) checkLimits() error {
	if c.Factors > MaxFactors {
		return fmt.Errorf("mf: factors %d is over the limit of %d", c.Factors, MaxFactors)
	}
	if n := graph.SpecNumel(c.ParamSpecs()); n > MaxParams {
		return fmt.Errorf("mf: %d users and %d items with %d factors need %d parameters, over the limit of %d", c.Users, c.Items, c.Factors, n, MaxParams)
	}
	return nil
}

// ParamSpecs returns the names and shapes of the model's parameters, in
// state_dict order, without allocating them: loaders compare them with a
// weight file's tensors first (checkpoint.CheckShapes). Zero fields are not
// defaulted here; call WithDefaults first.
func (c Config) ParamSpecs() []graph.ParamSpec {
	return []graph.ParamSpec{
		{Name: UserFactors, Shape: []int{c.Users, c.Factors}},
		{Name: ItemFactors, Shape: []int{c.Items, c.Factors}},
		{Name: UserBias, Shape: []int{c.Users, 1}},
		{Name: ItemBias, Shape: []int{c.Items, 1}},
		{Name: GlobalBias, Shape: []int{1}},
	}
}
