package privacy_test

import (
	"fmt"

	"github.com/tapeml/tapeml/privacy"
)

// The MNIST setting of Abadi et al.: batch 256 of 60,000, σ = 1.12, 60 epochs.
func ExampleCompute() {
	q := 256.0 / 60000
	steps, _ := privacy.StepsForEpochs(60, q)
	sp, _ := privacy.Compute(q, 1.12, steps, 1e-5, privacy.Classic)
	fmt.Printf("%d steps: epsilon %.2f (classic conversion, order %v)\n", steps, sp.Epsilon, sp.Order)
	sp, _ = privacy.Compute(q, 1.12, steps, 1e-5, privacy.Balle)
	fmt.Printf("epsilon %.2f (Opacus's conversion)\n", sp.Epsilon)
	// Output:
	// 14062 steps: epsilon 2.92 (classic conversion, order 9.1)
	// epsilon 2.52 (Opacus's conversion)
}

func ExampleNoiseForEpsilon() {
	q := 256.0 / 60000
	steps, _ := privacy.StepsForEpochs(60, q)
	sigma, _ := privacy.NoiseForEpsilon(3, q, steps, 1e-5, privacy.Balle)
	fmt.Printf("sigma %.3f\n", sigma)
	// Output:
	// sigma 1.014
}
