package quantize

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/tapeml/tapeml"
	"github.com/tapeml/tapeml/checkpoint"
	"github.com/tapeml/tapeml/graph"
	"github.com/tapeml/tapeml/internal/core"
	"github.com/tapeml/tapeml/kinds"
)

// MinGain is the least batch-32 speed-up of the whole model that keeps a
// layer in int8: a layer whose int8 form makes the model less than 3%
// faster stays float32. The same all-int8 model timed twice in one run
// (CPU time, each batch's fastest round) differed by 0.2%, 2.6% and 1.8%
// (TextCNN) and 4.6% (ConvNet) at load 14–27 on 2 cores
// (docs/optimize.md): one such pair can understate the noise, hence the
// floor, and Int8 raises the margin to twice the run's own difference
// when that is larger (Report.Noise).
const MinGain = 0.03

// A Layer is one unit of int8 choice: the weights that a serving kernel
// runs in int8 only together (graph.Param.Unit), and what timing them
// found.
type Layer struct {
	Name    string   // the layer as its weights name it: "fc.0", "rnn_l1_reverse"
	Role    string   // linear, lstm, conv
	Weights []string // its weights, in the model's order
	// Float32 and Int8 are the model's CPU time (cpuClock) per batch of 32
	// test examples with this layer in float32 and in int8, every other
	// layer in int8:
	// for each batch the fastest of the rounds (undisturbed), averaged;
	// zero when not timed.
	Float32, Int8 time.Duration
	// Gain is Float32/Int8 − 1: 0.25 means the model is 25% faster with
	// this layer in int8.
	Gain float64
	// Kept says the layer is int8 in the checkpoint written.
	Kept bool
}

// units groups the weights int8 can quantize with a kernel of their own
// (not embedding tables, which are gathered dequantized) into layers, in
// the model's order.
func units(specs []graph.ParamSpec) []Layer {
	var ls []Layer
	at := map[string]int{}
	for _, p := range specs {
		switch p.Role {
		case graph.RoleLinear, graph.RoleLSTM, graph.RoleConv:
		default:
			continue
		}
		name := p.Unit
		if name == "" {
			name = strings.TrimSuffix(p.Name, ".weight")
		}
		i, ok := at[name]
		if !ok {
			i = len(ls)
			at[name] = i
			ls = append(ls, Layer{Name: name, Role: p.Role.String()})
		}
		ls[i].Weights = append(ls[i].Weights, p.Name)
	}
	return ls
}

// layerTimes are one layer's timings: the model's seconds for each batch
// of 32 ([round][batch]) with the layer in float32 and with it in int8
// (the other layers int8 in both).
type layerTimes struct {
	float32, int8 [][]float64
}

// undisturbed is the time of one pass over the batches that other work
// on the machine disturbed least: for each batch the fastest of the
// rounds, summed. Other processes only ever add time, so on a shared
// machine the minimum is the steadiest estimate of a model's own time
// (the median of the rounds moved by 11% between two timings of the same
// TextCNN model at load 18, see MinGain).
func undisturbed(t [][]float64) float64 {
	if len(t) == 0 {
		return 0
	}
	var sum float64
	for b := range t[0] {
		m := math.Inf(1)
		for _, round := range t {
			if b < len(round) {
				m = min(m, round[b])
			}
		}
		sum += m
	}
	return sum
}

// choose decides each layer from its timings: int8 is kept when the
// model's undisturbed time with the layer in float32 is more than margin
// above its time with the layer in int8, over all the rounds and over
// each half of them (even and odd rounds). A layer without timings keeps
// int8: its speed was not measured, which the caller reports.
func choose(ls []Layer, ts []layerTimes, margin float64) {
	for i := range ls {
		f, q := undisturbed(ts[i].float32), undisturbed(ts[i].int8)
		if !(f > 0) || !(q > 0) {
			ls[i].Kept = true
			continue
		}
		batches := float64(len(ts[i].float32[0]))
		ls[i].Float32, ls[i].Int8 = seconds(f/batches), seconds(q/batches)
		ls[i].Gain = f/q - 1
		// Both halves of the rounds must find it, so that a stretch of
		// disturbance in one model's turns does not decide alone.
		ls[i].Kept = ls[i].Gain > margin
		if len(ts[i].float32) >= 2 && len(ts[i].int8) == len(ts[i].float32) {
			for h := range 2 {
				f, q := undisturbed(half(ts[i].float32, h)), undisturbed(half(ts[i].int8, h))
				ls[i].Kept = ls[i].Kept && f/q-1 > margin
			}
		}
	}
}

// half is the even (h 0) or odd (h 1) rounds of t.
func half(t [][]float64, h int) [][]float64 {
	var out [][]float64
	for r := h; r < len(t); r += 2 {
		out = append(out, t[r])
	}
	return out
}

// noiseMargin is the margin choose uses: MinGain, or twice the relative
// difference of the undisturbed times of the same model timed twice, a
// and b, when that is larger.
func noiseMargin(a, b [][]float64) (noise, margin float64) {
	ta, tb := undisturbed(a), undisturbed(b)
	if !(ta > 0) || !(tb > 0) {
		return 0, MinGain
	}
	noise = math.Abs(ta/tb - 1)
	return noise, max(MinGain, 2*noise)
}

func seconds(s float64) time.Duration { return time.Duration(s * 1e9) }

// layerBudget is the timing time after which timeLayers stops adding
// rounds beyond those asked for.
const layerBudget = 10 * time.Second

// timeLayers times (in CPU time where the process's is read: cpuClock),
// in rounds, the model with every layer of ls in int8
// (twice: the repeat measures the noise) and, for each layer, with that
// layer alone in float32, on batches of 32 of the test inputs; decode
// makes the model of a set of int8 layers. The order of the models turns
// every round so that none is always timed first.
func timeLayers(ctx context.Context, ls []Layer, decode func(int8 []bool) (*tapeml.Model, error), s *splits, rounds int) ([]layerTimes, [2][][]float64, error) {
	var base [2][][]float64
	nb := min(s.n/32, 16)
	if nb < 1 || rounds < 1 || len(ls) == 0 {
		return nil, base, nil
	}
	// models[0] and [1]: every layer int8; models[2+i]: layer i float32.
	models := make([]*tapeml.Model, 2+len(ls))
	all := make([]bool, len(ls))
	for i := range all {
		all[i] = true
	}
	for i := range models {
		set := slices.Clone(all)
		if i >= 2 {
			set[i-2] = false
		}
		m, err := decode(set)
		if err != nil {
			return nil, base, err
		}
		if err := m.Warmup(ctx); err != nil {
			return nil, base, err
		}
		models[i] = m
	}
	times := make([][][]float64, len(models)) // [model][round][batch]
	// At least rounds rounds; more, up to 4×, while they take less than
	// layerBudget together (a model of milliseconds a batch gets many
	// rounds for its minima at little cost).
	clock := cpuClock()
	start := time.Now()
	for r := 0; r < rounds || r < 4*rounds && time.Since(start) < layerBudget; r++ {
		for k := range models {
			i := (k + r) % len(models)
			ts := make([]float64, nb)
			for b := range ts {
				from := clock()
				if _, err := models[i].Forward(ctx, slice(s.inputs, s.n, b*32, b*32+32), 32); err != nil {
					return nil, base, err
				}
				ts[b] = (clock() - from).Seconds()
			}
			times[i] = append(times[i], ts)
		}
	}
	ts := make([]layerTimes, len(ls))
	for i := range ls {
		ts[i] = layerTimes{float32: times[2+i], int8: times[0]}
	}
	return ts, [2][][]float64{times[0], times[1]}, nil
}

// decodeModel makes a serving model of the checkpoint c, held in memory.
func decodeModel(c *checkpoint.Checkpoint) (*tapeml.Model, error) {
	l, err := kinds.Decode(c)
	if err != nil {
		return nil, err
	}
	cm := &core.Model{Loaded: l, Path: c.Dir}
	if cm.Run, err = core.NewRunner(l.Network.Build, l.Params, 32, runtime.GOMAXPROCS(0)); err != nil {
		return nil, fmt.Errorf("%s: %w", c.Dir, err)
	}
	return core.Wrap(cm).(*tapeml.Model), nil
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	v = slices.Clone(v)
	sort.Float64s(v)
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}

// wallClock reads the time since its first call.
func wallClock() func() time.Duration {
	start := time.Now()
	return func() time.Duration { return time.Since(start) }
}
