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
	return batchNormPool(b, name, x, cfg, training, false)
}

// batchNormPool is batchNorm, followed by MaxPool2D(2) in the same node
// when pool is set (batchNormPoolKernel).
func batchNormPool(b *Builder, name string, x *G.Node, cfg BatchNormConfig, training, pool bool) *G.Node {
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
	switch {
	case pool && b.Dtype() == tensor.Float64:
		k = &batchNormPoolKernel[float64]{bn: batchNormKernel[float64]{batchNormState: state}}
	case pool:
		k = &batchNormPoolKernel[float32]{bn: batchNormKernel[float32]{batchNormState: state}}
	case b.Dtype() == tensor.Float64:
		k = &batchNormKernel[float64]{batchNormState: state}
	default:
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

	// forwards counts forward passes; sumG and sumGX (see setSums) belong to
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
	x, y := values[T](in[0]), values[T](out)
	if err := k.prepare(in[0]); err != nil {
		return err
	}
	inChunks(c, func(_, from, to int) {
		for ch := from; ch < to; ch++ {
			scale, shift := k.statistics(in, ch)
			for i := 0; i < n; i++ {
				off := (i*c + ch) * hw
				planeAffine(y[off:off+hw], x[off:off+hw], scale, shift)
			}
		}
	})
	k.finish()
	return nil
}

// prepare sizes the per-channel state for input x and checks that a
// training forward has batch statistics to compute.
func (k *batchNormKernel[T]) prepare(x *tensor.Dense) error {
	n, c, hw := k.dims(x)
	k.mean, k.invStd, k.unbiasedVar = grow(k.mean, c), grow(k.invStd, c), grow(k.unbiasedVar, c)
	if k.training && n*hw < 2 {
		// Checked here rather than in outShape so that it is an error of the
		// run (a final batch of one), not a panic while building.
		return fmt.Errorf("input %v: training needs more than one value per channel for batch statistics", x.Shape())
	}
	return nil
}

// statistics sets channel ch's mean and 1/√(var+eps) (the batch's, in
// training) and returns the affine map y = x·scale + shift it normalizes
// with.
func (k *batchNormKernel[T]) statistics(in []*tensor.Dense, ch int) (scale, shift float64) {
	n, c, hw := k.dims(in[0])
	x, gamma, beta := values[T](in[0]), values[T](in[1]), values[T](in[2])
	mean, variance := float64(values[T](in[3])[ch]), float64(values[T](in[4])[ch])
	if k.training {
		m := float64(n * hw)
		var part [kern.SquareLanes]float64
		for i := 0; i < n; i++ {
			if i+1 < n { // the next example's plane, a page or more away
				prefetch(x[((i+1)*c+ch)*hw:][:hw])
			}
			planeSum(&part, x[(i*c+ch)*hw:][:hw])
		}
		mean = kern.ReduceLanes(&part) / m
		part = [kern.SquareLanes]float64{} // two passes: no cancellation for large means
		for i := 0; i < n; i++ {
			planeSqDev(&part, x[(i*c+ch)*hw:][:hw], mean)
		}
		sq := kern.ReduceLanes(&part)
		variance = sq / m
		k.unbiasedVar[ch] = sq / (m - 1)
	}
	invStd := 1 / math.Sqrt(variance+k.eps)
	k.mean[ch], k.invStd[ch] = mean, invStd
	scale = float64(gamma[ch]) * invStd
	return scale, float64(beta[ch]) - mean*scale
}

// finish records a forward pass.
func (k *batchNormKernel[T]) finish() {
	k.pending = k.training
	k.forwards++
}

func (k *batchNormKernel[T]) backward(in []*tensor.Dense, _, gOut *tensor.Dense, wrt int, grad *tensor.Dense) error {
	n, c, hw := k.dims(in[0])
	x, g, dst := values[T](in[0]), values[T](gOut), values[T](grad)
	if k.sumsOf != k.forwards || len(k.sumG) != c {
		k.sumG, k.sumGX = grow(k.sumG, c), grow(k.sumGX, c)
		inChunks(c, func(_, from, to int) {
			for ch := from; ch < to; ch++ {
				var pg, pgx [kern.SquareLanes]float64
				for i := 0; i < n; i++ {
					off := (i*c + ch) * hw
					planeSums(&pg, &pgx, g[off:off+hw], x[off:off+hw], k.mean[ch])
				}
				k.setSums(ch, &pg, &pgx)
			}
		})
		k.sumsOf = k.forwards
	}
	if k.paramGrad(wrt, dst) {
		return nil
	}
	inChunks(c, func(_, from, to int) {
		for ch := from; ch < to; ch++ {
			scale, a, mean, bx := k.gradMap(in, ch)
			for i := 0; i < n; i++ {
				off := (i*c + ch) * hw
				planeGrad(dst[off:off+hw], x[off:off+hw], g[off:off+hw], scale, a, mean, bx)
			}
		}
	})
	return nil
}

// setSums stores channel ch's Σg and Σg·x̂ with x̂ = (x−mean)·invStd from
// their lanes: the gradients of β and γ, and what the gradient of x needs.
// The three backward passes of a run share them.
func (k *batchNormKernel[T]) setSums(ch int, pg, pgx *[kern.SquareLanes]float64) {
	k.sumG[ch], k.sumGX[ch] = kern.ReduceLanes(pg), kern.ReduceLanes(pgx)*k.invStd[ch]
}

// paramGrad writes the gradient of γ (wrt 1) or β (wrt 2) and reports
// whether wrt was one of them.
func (k *batchNormKernel[T]) paramGrad(wrt int, dst []T) bool {
	var sums []float64
	switch wrt {
	case 1:
		sums = k.sumGX
	case 2:
		sums = k.sumG
	default:
		return false
	}
	for ch, v := range sums {
		dst[ch] = T(v)
	}
	return true
}

// gradMap returns channel ch's input gradient as planeGrad's constants.
// In training, dx = γ·invStd·(g − Σg/m − x̂·Σg·x̂/m): the batch mean and
// variance depend on every x of the channel. In inference the statistics
// are constants and the layer is affine.
func (k *batchNormKernel[T]) gradMap(in []*tensor.Dense, ch int) (scale, a, mean, bx float64) {
	n, _, hw := k.dims(in[0])
	m := float64(n * hw)
	mean, invStd := k.mean[ch], k.invStd[ch]
	scale = float64(values[T](in[1])[ch]) * invStd
	if k.training {
		a, bx = k.sumG[ch]/m, k.sumGX[ch]/m*invStd
	}
	return scale, a, mean, bx
}

// The plane loops: internal/kernel's vector loops for float32, the same
// operations in Go for float64 (gradient checks).

func planeSum[T float](part *[kern.SquareLanes]float64, x []T) {
	if x32, ok := any(x).([]float32); ok {
		kern.SumLanes(part, x32)
		return
	}
	for i, v := range x {
		part[i%kern.SquareLanes] += float64(v)
	}
}

func planeSqDev[T float](part *[kern.SquareLanes]float64, x []T, mean float64) {
	if x32, ok := any(x).([]float32); ok {
		kern.SqDevLanes(part, x32, mean)
		return
	}
	for i, v := range x {
		d := float64(v) - mean
		part[i%kern.SquareLanes] += d * d
	}
}

// prefetch is kernel.Prefetch for float32 (nothing for float64).
func prefetch[T float](x []T) {
	if x32, ok := any(x).([]float32); ok {
		kern.Prefetch(x32)
	}
}

func planeAffine[T float](y, x []T, scale, shift float64) {
	if x32, ok := any(x).([]float32); ok {
		kern.Affine(any(y).([]float32), x32, scale, shift)
		return
	}
	for j, v := range x {
		y[j] = T(float64(float64(v)*scale) + shift)
	}
}

func planeSums[T float](pg, pgx *[kern.SquareLanes]float64, g, x []T, mean float64) {
	if g32, ok := any(g).([]float32); ok {
		kern.BatchNormSums(pg, pgx, g32, any(x).([]float32), mean)
		return
	}
	for i, v := range g {
		gv := float64(v)
		pg[i%kern.SquareLanes] += gv
		pgx[i%kern.SquareLanes] += float64(gv * (float64(x[i]) - mean))
	}
}

func planeGrad[T float](dst, x, g []T, scale, a, mean, bx float64) {
	if g32, ok := any(g).([]float32); ok {
		kern.BatchNormGrad(any(dst).([]float32), any(x).([]float32), g32, scale, a, mean, bx)
		return
	}
	for j, gv := range g {
		t := float64((float64(x[j]) - mean) * bx)
		dst[j] = T(scale * (float64(gv) - a - t))
	}
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
