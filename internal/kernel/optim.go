package kernel

// AdamConsts are one Adam step's constants, laid out as the vector loops
// read them.
type AdamConsts struct {
	Beta1, OneMinusBeta1, Beta2, OneMinusBeta2 float32
	NegStep, Bc2Sqrt, Eps                      float32
}

// The optimizer loops below update a prefix of their slices (all of the
// same length) with vector instructions and return its length; the caller
// finishes the rest with its scalar loop. Each returns 0 on the generic
// level.

// Adam applies torch.optim.Adam's element-wise update, without AMSGrad:
//
//	m ← fma(1−β1, g, β1·m)
//	v ← fma((1−β2)·g, g, β2·v)
//	w ← w + (negStep·m) / (√v/bc2Sqrt + ε)
func Adam(w, g, m, v []float32, c *AdamConsts) int {
	n := len(w)
	_, _, _ = g[:n], m[:n], v[:n]
	return adam(w, g, m, v, n, c)
}

// SGDMomentum applies SGD with momentum after its first step:
// buf ← fma(keep, g, mom·buf); w ← fma(negLR, buf, w).
func SGDMomentum(w, g, buf []float32, negLR, mom, keep float32) int {
	n := len(w)
	_, _ = g[:n], buf[:n]
	return sgdMomentum(w, g, buf, n, negLR, mom, keep)
}

// SGD applies plain SGD: w ← fma(negLR, g, w).
func SGD(w, g []float32, negLR float32) int {
	n := len(w)
	_ = g[:n]
	return sgd(w, g, n, negLR)
}
