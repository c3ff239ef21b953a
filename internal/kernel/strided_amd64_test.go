//go:build amd64 && !purego

package kernel

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// sgemmKernel12x32Strided on a packed panel and on a row-major A read in
// place (a leading dimension wider than k, NaN in the gap), in each store
// mode, against sgemmKernel12x32 and sgemmKernel12x32Set on the packed
// panel (the same bits: the same fused multiply-adds in the same order),
// for every width, depths around and past the unrolling, guards around C
// and the bias, and a C gap that must stay untouched.
func TestSgemmKernelStrided(t *testing.T) {
	if Supported() < AVX512 {
		t.Skip("the CPU has no AVX-512")
	}
	rng := rand.New(rand.NewPCG(41, 42))
	for _, k := range []int{0, 1, 2, 3, 7, 64, 257} {
		for rows := 1; rows <= 12; rows++ {
			for cols := 1; cols <= 32; cols++ {
				if rows != 12 && rows != 1 && rows != 7 && cols%5 != 1 && cols != 32 {
					continue // every width at heights 1, 7 and 12, a sample of the rest
				}
				lda := k + 3
				ad := make([]float32, 12*lda) // row-major, NaN in the gaps
				packed := make([]float32, max(12*k, 1))
				for i := range ad {
					ad[i] = float32(math.NaN())
				}
				for i := 0; i < 12; i++ {
					for p := 0; p < k; p++ {
						v := float32(rng.NormFloat64())
						ad[i*lda+p], packed[p*12+i] = v, v
					}
				}
				b := randFloats(rng, max(k*32, 1))
				bias := newGuardedF32(32)
				copy(bias.v(), randFloats(rng, 32))
				ldc := cols + 5
				c0 := randFloats(rng, (rows-1)*ldc+cols)
				m0, m1 := sgemmMasks(cols)
				const alpha = -0.75
				for mode := sgemmAdd; mode <= sgemmBias; mode++ {
					for _, direct := range []bool{false, true} {
						if direct && rows != 12 {
							continue // in place, all 12 rows are read
						}
						name := fmt.Sprintf("k=%d rows=%d cols=%d mode=%d direct=%v", k, rows, cols, mode, direct)
						want := newGuardedF32(len(c0))
						copy(want.v(), c0)
						switch mode {
						case sgemmAdd:
							sgemmKernel12x32(k, &packed[0], &b[0], &want.v()[0], ldc, alpha, rows, m0, m1)
						case sgemmSet:
							sgemmKernel12x32Set(k, &packed[0], &b[0], &want.v()[0], ldc, alpha, rows, m0, m1)
						case sgemmBias:
							for i := 0; i < rows; i++ {
								copy(want.v()[i*ldc:][:cols], bias.v()[:cols])
							}
							sgemmKernel12x32(k, &packed[0], &b[0], &want.v()[0], ldc, alpha, rows, m0, m1)
						}
						got := newGuardedF32(len(c0))
						copy(got.v(), c0)
						if mode != sgemmAdd {
							for i := range got.v() {
								if i%ldc < cols {
									got.v()[i] = float32(math.NaN()) // must not be read
								}
							}
						}
						if direct {
							sgemmKernel12x32Strided(k, &ad[0], lda, 1, &b[0], &got.v()[0], ldc, alpha, rows, m0, m1, mode, &bias.v()[0])
						} else {
							sgemmKernel12x32Strided(k, &packed[0], 1, 12, &b[0], &got.v()[0], ldc, alpha, rows, m0, m1, mode, &bias.v()[0])
						}
						got.check(t, name)
						bias.check(t, name+" (bias)")
						for i := range got.all {
							if math.Float32bits(got.all[i]) != math.Float32bits(want.all[i]) {
								t.Fatalf("%s: C[%d] = %v, want %v", name, i-guardLen, got.all[i], want.all[i])
							}
						}
						// Independently of the other kernels: the float64 sum.
						for i := 0; i < rows; i++ {
							for j := 0; j < cols; j++ {
								var s, mag float64
								for p := 0; p < k; p++ {
									x := float64(ad[i*lda+p]) * float64(b[p*32+j])
									s, mag = s+x, mag+math.Abs(x)
								}
								ref := alpha * s
								switch mode {
								case sgemmAdd:
									ref += float64(c0[i*ldc+j])
								case sgemmBias:
									ref += float64(bias.v()[j])
								}
								if d := math.Abs(float64(got.v()[i*ldc+j]) - ref); d > float64(k+3)*0x1p-23*(mag+math.Abs(ref))+1e-30 {
									t.Fatalf("%s: C[%d][%d] = %v, reference %v", name, i, j, got.v()[i*ldc+j], ref)
								}
							}
						}
					}
				}
			}
		}
	}
}

// sgemmKernelNarrow, on rows of a row-major A read in place (NaN in the
// gaps) and two packed panels, in each store mode, against
// sgemmKernel12x32Strided on each panel (the same bits), for every height
// and width, depths around and past the unrolling, guards around C and the
// bias, C's gaps untouched, and against the float64 sum.
func TestSgemmKernelNarrow(t *testing.T) {
	if Supported() < AVX512 {
		t.Skip("the CPU has no AVX-512")
	}
	rng := rand.New(rand.NewPCG(43, 44))
	for _, k := range []int{0, 1, 2, 3, 7, 64, 257} {
		for rows := 1; rows <= sgemmNarrowRows; rows++ {
			for cols := 1; cols <= 64; cols++ {
				lda := k + 3
				ad := make([]float32, 12*lda) // twelve rows for the reference kernel; NaN in the gaps
				for i := range ad {
					ad[i] = float32(math.NaN())
				}
				for i := 0; i < 12; i++ {
					for p := 0; p < k; p++ {
						ad[i*lda+p] = float32(rng.NormFloat64())
					}
				}
				const stride = 32*257 + 32 // panels further apart than their length
				b := randFloats(rng, stride+max(k*32, 1))
				bias := newGuardedF32(64)
				copy(bias.v(), randFloats(rng, 64))
				ldc := cols + 5
				c0 := randFloats(rng, (rows-1)*ldc+cols)
				const alpha = -0.75
				for mode := sgemmAdd; mode <= sgemmBias; mode++ {
					name := fmt.Sprintf("k=%d rows=%d cols=%d mode=%d", k, rows, cols, mode)
					// The reference: the 12-row kernel on 12 rows, one panel at a time,
					// into a C of 12 rows, of which the first rows are compared.
					want := make([]float32, 12*ldc)
					for i := range want {
						want[i] = float32(math.NaN())
					}
					for i := 0; i < rows; i++ {
						copy(want[i*ldc:][:cols], c0[i*ldc:][:cols])
					}
					for panel := 0; panel*32 < cols; panel++ {
						m0, m1 := sgemmMasks(cols - 32*panel)
						sgemmKernel12x32Strided(k, &ad[0], lda, 1, &b[panel*stride], &want[32*panel], ldc, alpha, 12, m0, m1, mode, &bias.v()[32*panel])
					}
					got := newGuardedF32(len(c0))
					copy(got.v(), c0)
					if mode != sgemmAdd {
						for i := range got.v() {
							if i%ldc < cols {
								got.v()[i] = float32(math.NaN()) // must not be read
							}
						}
					}
					bp := &bias.v()[0]
					sgemmKernelNarrow(k, &ad[0], lda, &b[0], stride, &got.v()[0], ldc, alpha, rows, sgemmNarrowMasks(cols), mode, bp)
					got.check(t, name)
					bias.check(t, name+" (bias)")
					for i, g := range got.v() {
						w := want[i]
						if i%ldc >= cols {
							w = c0[i] // the gap of C
						}
						if math.Float32bits(g) != math.Float32bits(w) {
							t.Fatalf("%s: C[%d][%d] = %v, want %v", name, i/ldc, i%ldc, g, w)
						}
					}
					for i := 0; i < rows; i++ {
						for j := 0; j < cols; j++ {
							var s, mag float64
							for p := 0; p < k; p++ {
								x := float64(ad[i*lda+p]) * float64(b[j/32*stride+p*32+j%32])
								s, mag = s+x, mag+math.Abs(x)
							}
							ref := alpha * s
							switch mode {
							case sgemmAdd:
								ref += float64(c0[i*ldc+j])
							case sgemmBias:
								ref += float64(bias.v()[j])
							}
							if d := math.Abs(float64(got.v()[i*ldc+j]) - ref); d > float64(k+3)*0x1p-23*(mag+math.Abs(ref))+1e-30 {
								t.Fatalf("%s: C[%d][%d] = %v, reference %v", name, i, j, got.v()[i*ldc+j], ref)
							}
						}
					}
				}
			}
		}
	}
}

// sgemmRow512 (sgemmKernelRow on four panels, sgemmKernelNarrow on fewer)
// on one row of A and up to four packed panels, in each store mode,
// against sgemmKernel12x32Strided on each panel (the same bits), for every
// width to 128, with guards around the row of C and the bias.
func TestSgemmKernelRow(t *testing.T) {
	if Supported() < AVX512 {
		t.Skip("the CPU has no AVX-512")
	}
	rng := rand.New(rand.NewPCG(45, 46))
	for _, k := range []int{0, 1, 2, 3, 7, 64, 257} {
		lda := k + 3
		ad := make([]float32, 12*lda) // twelve rows for the reference kernel; NaN in the gaps
		for i := range ad {
			ad[i] = float32(math.NaN())
		}
		for i := 0; i < 12; i++ {
			for p := 0; p < k; p++ {
				ad[i*lda+p] = float32(rng.NormFloat64())
			}
		}
		stride := 32*k + 96 // panels further apart than their length
		b := randFloats(rng, 3*stride+max(32*k, 1))
		bias := newGuardedF32(128)
		copy(bias.v(), randFloats(rng, 128))
		for cols := 1; cols <= 128; cols++ {
			c0 := randFloats(rng, cols)
			const alpha = 1.25
			for mode := sgemmAdd; mode <= sgemmBias; mode++ {
				name := fmt.Sprintf("k=%d cols=%d mode=%d", k, cols, mode)
				want := make([]float32, 12*128)
				copy(want, c0)
				for panel := 0; panel*32 < cols; panel++ {
					m0, m1 := sgemmMasks(cols - 32*panel)
					sgemmKernel12x32Strided(k, &ad[0], lda, 1, &b[panel*stride], &want[32*panel], 128, alpha, 12, m0, m1, mode, &bias.v()[32*panel])
				}
				got := newGuardedF32(cols)
				copy(got.v(), c0)
				if mode != sgemmAdd {
					for i := range got.v() {
						got.v()[i] = float32(math.NaN()) // must not be read
					}
				}
				var bj []float32
				if mode == sgemmBias {
					bj = bias.v()
				}
				sgemmRow512(k, ad[:max(k, 1)], b, stride, got.v(), alpha, cols, mode != sgemmAdd, bj)
				got.check(t, name)
				bias.check(t, name+" (bias)")
				for j, g := range got.v() {
					if math.Float32bits(g) != math.Float32bits(want[j]) {
						t.Fatalf("%s: C[%d] = %v, want %v", name, j, g, want[j])
					}
				}
			}
		}
	}
}
