// Package privacy accounts for the privacy spent by differentially private
// training (DP-SGD) with the Rényi-DP analysis of the sampled Gaussian
// mechanism.
//
// One DP-SGD step samples every training example independently with
// probability q (Poisson sampling), clips each sampled example's gradient to
// L2 norm C, sums them and adds Gaussian noise of standard deviation σC. The
// analysis here (Mironov, Talwar and Zhang, "Rényi Differential Privacy of
// the Sampled Gaussian Mechanism", 2019) holds for exactly that sampling:
// shuffling the data and cutting it into fixed batches is a different
// mechanism, and reporting its ε with this accountant would be wrong.
//
// RDP computes the Rényi-DP of T steps at each order α; Epsilon converts it to
// (ε, δ)-DP by minimizing over the orders, either with the conversion of
// Balle et al. 2020 (Theorem 21, the one Opacus uses today, Conversion
// Balle) or with the older ε = min_α RDP(α) + log(1/δ)/(α−1) (Classic, as in
// Abadi et al. and early TF Privacy). NoiseForEpsilon inverts the chain by
// bisection on σ. The numbers agree with Opacus's
// opacus/accountants/analysis/rdp.py, which the tests check against goldens
// made by running that file (tools/privacy/rdp_golden.py).
package privacy
