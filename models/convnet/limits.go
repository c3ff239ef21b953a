package convnet

import (
	"fmt"

	"github.com/tapeml/tapeml/graph"
	"github.com/tapeml/tapeml/train"
)

// Upper bounds Validate enforces, so that a configuration read from a
// file (meta.json, an imported file's metadata) cannot ask for more
// memory than any sensible model needs. MaxParams bounds the total: 2^27
// values are 512 MiB of float32 (the first Linear layer grows with the
// image: 96×96 inputs need 76 million).
const (
	MaxChannels = 64
	MaxSide     = 4096 // pixels, for height and width
	MaxClasses  = 1 << 16
	MaxParams   = 1 << 27
)

// checkLimits reports the first field over its bound, then a total
// parameter count over MaxParams.
func (c Config) checkLimits() error {
	for _, f := range []struct {
		name   string
		v, max int
	}{{"channels", c.Channels, MaxChannels}, {"height", c.Height, MaxSide}, {"width", c.Width, MaxSide}, {"classes", c.Classes, MaxClasses}} {
		if f.v > f.max {
			return train.Invalidf("convnet: %s %d is over the limit of %d", train.Field(f.name), f.v, f.max)
		}
	}
	if n := graph.SpecNumel(c.ParamSpecs()); n > MaxParams {
		return fmt.Errorf("convnet: %d×%d inputs need %d parameters, over the limit of %d", c.Height, c.Width, n, MaxParams)
	}
	return nil
}

// ParamSpecs returns the names and shapes of the parameters and buffers
// the model creates, in state_dict order, without allocating them: loaders
// bound the total size with them (Validate); a test checks them against
// Build.
func (c Config) ParamSpecs() []graph.ParamSpec {
	var specs []graph.ParamSpec
	in := c.Channels
	for i, out := range []int{conv1Filters, conv2Filters} {
		p := fmt.Sprintf("layer%d.", i+1)
		specs = append(specs,
			graph.ParamSpec{Name: p + "0.weight", Shape: []int{out, in, 3, 3}},
			graph.ParamSpec{Name: p + "0.bias", Shape: []int{out}},
			graph.ParamSpec{Name: p + "1.weight", Shape: []int{out}},
			graph.ParamSpec{Name: p + "1.bias", Shape: []int{out}},
			graph.ParamSpec{Name: p + "1.running_mean", Shape: []int{out}},
			graph.ParamSpec{Name: p + "1.running_var", Shape: []int{out}},
			graph.ParamSpec{Name: p + "1.num_batches_tracked", Shape: []int{}, Counter: true},
		)
		in = out
	}
	in = c.FlatWidth()
	for _, l := range []struct {
		name string
		out  int
	}{{"fc.0", hidden1}, {"fc.3", hidden2}, {"fc.6", c.Classes}} {
		specs = append(specs,
			graph.ParamSpec{Name: l.name + ".weight", Shape: []int{l.out, in}},
			graph.ParamSpec{Name: l.name + ".bias", Shape: []int{l.out}},
		)
		in = l.out
	}
	return specs
}
