package graph

import (
	"fmt"
	"math"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	kern "github.com/tapeml/tapeml/internal/kernel"
)

// BatchNormConfig holds a batch normalization's hyper-parameters.
type BatchNormConfig struct {
	// Momentum is the weight of a batch's statistics in the running
	// statistics: running = (1−Momentum)·running + Momentum·batch. Default
	// 0.1 (PyTorch's; Keras' momentum 0.99 is PyTorch's 0.01).
	Momentum float64
	// Eps is added to the variance before the square root; default 1e-5.
	Eps float64
}

// BatchNorm2D is PyTorch's nn.BatchNorm2d over x [N, C, H, W], with
// per-channel parameters "<name>.weight" (γ, initially 1) and "<name>.bias"
// (β, initially 0) of shape [C], and buffers "<name>.running_mean" (0),
// "<name>.running_var" (1) and "<name>.num_batches_tracked" (0).
//
// The training graph normalizes each channel with the batch's mean and
// biased variance over (N, H, W). After each run of the training machine
// (Machine.Run), and only then, the running statistics move towards the
// batch's — the variance towards the unbiased one — and
// num_batches_tracked grows by one, as PyTorch does in a training forward.
// The buffers live in the shared Params store, so the inference graph, which
// normalizes with them, sees what training accumulated.
func BatchNorm2D(b *Builder, name string, x *G.Node, cfg BatchNormConfig) *G.Node {
	if x.Dims() != 4 {
		panic(shapeErr(name, x.Shape(), "[N, C, H, W]"))
	}
	return batchNorm(b, name, x, cfg, b.Training())
}

// batchNorm adds the layer with batch statistics (training) or running
// statistics; the gradient checks use it to test both in a training graph.
func batchNorm(b *Builder, name string, x *G.Node, cfg BatchNormConfig, training bool) *G.Node {
	if cfg.Momentum == 0 {
		cfg.Momentum = 0.1
	}
	if cfg.Eps == 0 {
		cfg.Eps = 1e-5
	}
	if cfg.Momentum < 0 || cfg.Momentum > 1 || cfg.Eps < 0 {
		panic(fmt.Sprintf("graph: %s: invalid BatchNormConfig %+v", name, cfg))
	}
	gamma, beta, mean, variance := batchNormParams(b, name, x.Shape()[1])
	state := batchNormState{
		training: training, eps: cfg.Eps, momentum: cfg.Momentum,
		runMean: b.Params.Get(name + ".running_mean"), runVar: b.Params.Get(name + ".running_var"),
		count: b.Params.Get(name + ".num_batches_tracked"),
	}
	var k interface {
		kernel
		Feedback
	}
	if b.Dtype() == tensor.Float64 {
		k = &batchNormKernel[float64]{batchNormState: state}
	} else {
		k = &batchNormKernel[float32]{batchNormState: state}
	}
	if training {
		b.AddFeedback(k)
	}
	return mustApply(k, x, gamma, beta, mean, variance)
}

// batchNormParams returns the nodes of γ, β and the running statistics of
// a normalization over c channels, creating them (and the batch counter)
// in state_dict order on first use.
func batchNormParams(b *Builder, name string, c int) (gamma, beta, mean, variance *G.Node) {
	gamma = b.Param(name+".weight", []int{c}, Constant(1))
	beta = b.Param(name+".bias", []int{c}, Constant(0))
	mean = b.Buffer(name+".running_mean", []int{c}, Constant(0))
	variance = b.Buffer(name+".running_var", []int{c}, Constant(1))
	b.Counter(name+".num_batches_tracked", nil)
	return gamma, beta, mean, variance
}

// batchNormState is what a batch normalization node keeps between its
// forward pass, its backward passes and the update of the running
// statistics.
type batchNormState struct {
	training      bool
	eps, momentum float64
	runMean       *Param // updated by Apply
	runVar        *Param
	count         *Param

	// Per channel, from the last forward: the mean and 1/√(var+eps) it
	// normalized with, and in training the batch's unbiased variance.
	mean, invStd, unbiasedVar []float64
	// pending says a training forward ran since the last Apply, so a
	// machine's run updates the running statistics once, however many
	// times forward runs without one (as in a gradient check).
	pending bool

	// forwards counts forward passes; sumG and sumGX (see sums) belong to
	// forward number sumsOf.
	forwards, sumsOf int64
	sumG, sumGX      []float64
}

// batchNormKernel: inputs x [N, C, H, W], γ [C], β [C], running mean [C],
// running variance [C]; output [N, C, H, W]. Channels are independent, so
// they are split among the threads; each channel's sums run in a fixed
// order in float64 (for float32, in internal/kernel's sixteen lanes, the
// same bits at every SIMD level), so results do not depend on the thread
// count.
type batchNormKernel[T float] struct{ batchNormState }

func (k *batchNormKernel[T]) name() string {
	mode := "eval"
	if k.training {
		mode = "train"
	}
	return fmt.Sprintf("BatchNorm2D(%s, momentum=%v, eps=%v)", mode, k.momentum, k.eps)
}

// Running statistics are state, not functions of the loss.
func (*batchNormKernel[T]) differentiable() []bool { return []bool{true, true, true, false, false} }

func (k *batchNormKernel[T]) outShape(in []tensor.Shape) (tensor.Shape, error) {
	x := in[0]
	if len(x) != 4 {
		return nil, fmt.Errorf("input %v, expected [N, C, H, W]", x)
	}
	for i, what := range []string{"weight", "bias", "running_mean", "running_var"} {
		if s := in[i+1]; len(s) != 1 || s[0] != x[1] {
			return nil, fmt.Errorf("%s %v, expected [%d] for input %v", what, s, x[1], x)
		}
	}
	return x.Clone(), nil
}

// dims returns the batch size, channels and values per channel plane.
func (*batchNormKernel[T]) dims(x *tensor.Dense) (n, c, hw int) {
	s := x.Shape()
	return s[0], s[1], s[2] * s[3]
}

// grow returns s resized to n, reusing its storage.
func grow(s []float64, n int) []float64 {
	if cap(s) < n {
		return make([]float64, n)
	}
	return s[:n]
}

func (k *batchNormKernel[T]) forward(in []*tensor.Dense, out *tensor.Dense) error {
	n, c, hw := k.dims(in[0])
	x, gamma, beta, y := values[T](in[0]), values[T](in[1]), values[T](in[2]), values[T](out)
	runMean, runVar := values[T](in[3]), values[T](in[4])
	k.mean, k.invStd, k.unbiasedVar = grow(k.mean, c), grow(k.invStd, c), grow(k.unbiasedVar, c)
	m := float64(n * hw)
	if k.training && n*hw < 2 {
		// Checked here rather than in outShape so that it is an error of the
		// run (a final batch of one), not a panic while building.
		return fmt.Errorf("input %v: training needs more than one value per channel for batch statistics", in[0].Shape())
	}
	x32, _ := any(x).([]float32)
	y32, f32 := any(y).([]float32)
	inChunks(c, func(_, from, to int) {
		for ch := from; ch < to; ch++ {
			mean, variance := float64(runMean[ch]), float64(runVar[ch])
			if k.training {
				var sum, sq float64
				if f32 { // the same sums in lanes, vectorized
					var part [kern.SquareLanes]float64
					for i := 0; i < n; i++ {
						kern.SumLanes(&part, x32[(i*c+ch)*hw:][:hw])
					}
					mean = kern.ReduceLanes(&part) / m
					part = [kern.SquareLanes]float64{}
					for i := 0; i < n; i++ {
						kern.SqDevLanes(&part, x32[(i*c+ch)*hw:][:hw], mean)
					}
					sq = kern.ReduceLanes(&part)
				} else {
					for i := 0; i < n; i++ {
						for _, v := range x[(i*c+ch)*hw:][:hw] {
							sum += float64(v)
						}
					}
					mean = sum / m
					// two passes: no cancellation for large means
					for i := 0; i < n; i++ {
						for _, v := range x[(i*c+ch)*hw:][:hw] {
							d := float64(v) - mean
							sq += d * d
						}
					}
				}
				variance = sq / m
				k.unbiasedVar[ch] = sq / (m - 1)
			}
			invStd := 1 / math.Sqrt(variance+k.eps)
			k.mean[ch], k.invStd[ch] = mean, invStd
			scale := float64(gamma[ch]) * invStd
			shift := float64(beta[ch]) - mean*scale
			for i := 0; i < n; i++ {
				off := (i*c + ch) * hw
				if f32 {
					kern.Affine(y32[off:off+hw], x32[off:off+hw], scale, shift)
					continue
				}
				for j, v := range x[off : off+hw] {
					y[off+j] = T(float64(float64(v)*scale) + shift)
				}
			}
		}
	})
	k.pending = k.training
	k.forwards++
	return nil
}

func (k *batchNormKernel[T]) backward(in []*tensor.Dense, _, gOut *tensor.Dense, wrt int, grad *tensor.Dense) error {
	n, c, hw := k.dims(in[0])
	x, gamma, g, dst := values[T](in[0]), values[T](in[1]), values[T](gOut), values[T](grad)
	if k.sumsOf != k.forwards || len(k.sumG) != c {
		k.sums(x, g, n, c, hw)
	}
	switch wrt {
	case 1:
		for ch, v := range k.sumGX {
			dst[ch] = T(v)
		}
		return nil
	case 2:
		for ch, v := range k.sumG {
			dst[ch] = T(v)
		}
		return nil
	}
	m := float64(n * hw)
	x32, _ := any(x).([]float32)
	g32, _ := any(g).([]float32)
	d32, f32 := any(dst).([]float32)
	inChunks(c, func(_, from, to int) {
		for ch := from; ch < to; ch++ {
			mean, invStd := k.mean[ch], k.invStd[ch]
			scale := float64(gamma[ch]) * invStd
			// In training, dx = γ·invStd·(g − Σg/m − x̂·Σg·x̂/m): the batch
			// mean and variance depend on every x of the channel. In
			// inference the statistics are constants and the layer is affine.
			var a, bx float64
			if k.training {
				a, bx = k.sumG[ch]/m, k.sumGX[ch]/m*invStd
			}
			for i := 0; i < n; i++ {
				off := (i*c + ch) * hw
				if f32 {
					kern.BatchNormGrad(d32[off:off+hw], x32[off:off+hw], g32[off:off+hw], scale, a, mean, bx)
					continue
				}
				xs, gs, ds := x[off:off+hw], g[off:off+hw], dst[off:off+hw]
				for j, gv := range gs {
					t := float64((float64(xs[j]) - mean) * bx)
					ds[j] = T(scale * (float64(gv) - a - t))
				}
			}
		}
	})
	return nil
}

// sums computes, per channel, Σg and Σg·x̂ with x̂ = (x−mean)·invStd: the
// gradients of β and γ, and what the gradient of x needs. The three
// backward passes of a run share them.
func (k *batchNormKernel[T]) sums(x, g []T, n, c, hw int) {
	k.sumG, k.sumGX = grow(k.sumG, c), grow(k.sumGX, c)
	x32, _ := any(x).([]float32)
	g32, f32 := any(g).([]float32)
	inChunks(c, func(_, from, to int) {
		for ch := from; ch < to; ch++ {
			mean := k.mean[ch]
			var sumG, sumGX float64
			if f32 { // the same sums in lanes, vectorized
				var pg, pgx [kern.SquareLanes]float64
				for i := 0; i < n; i++ {
					off := (i*c + ch) * hw
					kern.BatchNormSums(&pg, &pgx, g32[off:off+hw], x32[off:off+hw], mean)
				}
				sumG, sumGX = kern.ReduceLanes(&pg), kern.ReduceLanes(&pgx)
			} else {
				for i := 0; i < n; i++ {
					off := (i*c + ch) * hw
					xs := x[off : off+hw]
					for j, gv := range g[off : off+hw] {
						sumG += float64(gv)
						sumGX += float64(gv) * (float64(xs[j]) - mean)
					}
				}
			}
			k.sumG[ch], k.sumGX[ch] = sumG, sumGX*k.invStd[ch]
		}
	})
	k.sumsOf = k.forwards
}

// Apply moves the running statistics towards the last training forward's
// batch statistics and counts the batch, as PyTorch's training forward
// does; without a new forward since the last call it does nothing.
func (k *batchNormKernel[T]) Apply() error {
	if !k.pending {
		return nil
	}
	k.pending = false
	rm, rv, count := values[T](k.runMean.Value), values[T](k.runVar.Value), values[T](k.count.Value)
	if len(rm) != len(k.mean) || len(rv) != len(k.mean) {
		return fmt.Errorf("%s: running statistics of %d and %d channels for a batch of %d", k.name(), len(rm), len(rv), len(k.mean))
	}
	mom := k.momentum
	for c := range rm {
		rm[c] = T(mom*k.mean[c] + (1-mom)*float64(rm[c]))
		rv[c] = T(mom*k.unbiasedVar[c] + (1-mom)*float64(rv[c]))
	}
	count[0]++
	return nil
}
