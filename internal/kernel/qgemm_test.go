package kernel

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// TestQGemmMatchesReference checks every int8 path against qgemmRef bit
// for bit on sizes around the tiles' edges, with extremes (−128, 127) in
// the data and guard values after every row of C that must survive.
func TestQGemmMatchesReference(t *testing.T) {
	const guard = 7
	const sentinel = int32(-0x5a5a5a5a)
	rng := rand.New(rand.NewPCG(3, 4))
	sizes := [][3]int{{1, 1, 1}, {1, 33, 3}, {5, 17, 7}, {6, 32, 4}, {7, 31, 5}, {13, 65, 129}, {2, 3, 1000}, {37, 50, 66}, {12, 96, 256}}
	for _, arch := range QArches() {
		for _, s := range sizes {
			m, n, k := s[0], s[1], s[2]
			for _, extreme := range []bool{false, true} {
				t.Run(fmt.Sprintf("%s/%dx%dx%d/extreme=%v", arch.name, m, n, k, extreme), func(t *testing.T) {
					lda, ldb, ldc := k+3, k+1, n+guard
					a, b := make([]int8, m*lda), make([]int8, n*ldb)
					for i := range a {
						a[i] = int8(rng.IntN(256) - 128)
						if extreme {
							a[i] = []int8{-128, 127}[rng.IntN(2)]
						}
					}
					for i := range b {
						b[i] = int8(rng.IntN(256) - 128)
						if extreme {
							b[i] = []int8{-128, 127}[rng.IntN(2)]
						}
					}
					want := make([]int32, m*ldc)
					qgemmRef(m, n, k, a, lda, b, ldb, want, ldc)
					p := QPack(arch, n, k, b, ldb)
					for _, threads := range []int{1, 2} {
						got := make([]int32, m*ldc+guard)
						for i := range got {
							got[i] = sentinel
						}
						QGemm(threads, m, a, lda, p, got, ldc)
						for i := 0; i < m; i++ {
							for j := 0; j < ldc; j++ {
								g := got[i*ldc+j]
								if j >= n {
									if g != sentinel {
										t.Fatalf("threads %d: guard C[%d][%d] overwritten with %d", threads, i, j, g)
									}
									continue
								}
								if w := want[i*ldc+j]; g != w {
									t.Fatalf("threads %d: C[%d][%d] = %d, reference %d", threads, i, j, g, w)
								}
							}
						}
						for i, g := range got[m*ldc:] {
							if g != sentinel {
								t.Fatalf("threads %d: guard after C (%d) overwritten with %d", threads, i, g)
							}
						}
					}
				})
			}
		}
	}
}

func TestQuantize(t *testing.T) {
	nan := float32(math.NaN())
	for _, c := range []struct {
		f    float32
		want int8
	}{{0, 0}, {0.5, 0}, {1.5, 2}, {2.5, 2}, {-0.5, 0}, {-1.5, -2}, {0.49999997, 0}, {126.5, 126}, {126.6, 127}, {127, 127}, {1e9, 127}, {-1e9, -127}, {-128, -127}, {nan, 0}, {float32(math.Inf(1)), 127}} {
		if got := Quantize(c.f); got != c.want {
			t.Errorf("Quantize(%v) = %d, want %d", c.f, got, c.want)
		}
	}
}

// TestDequantRow checks the vector dequantization against the Go loop,
// bit for bit, for every length around the vector width.
func TestDequantRow(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for n := 0; n < 40; n++ {
		for _, add := range []bool{false, true} {
			src, sw, bias := make([]int32, n), make([]float32, n), make([]float32, n)
			offs := make([]int32, n)
			for i := range offs {
				offs[i] = rng.Int32N(1<<20) - 1<<19
			}
			if n%2 == 1 {
				offs = nil
			}
			dst, want := make([]float32, n+1), make([]float32, n+1)
			for i := range src {
				src[i] = rng.Int32N(1<<24) - 1<<23
				sw[i], bias[i] = rng.Float32(), rng.Float32()-0.5
				dst[i] = rng.Float32()
				want[i] = dst[i]
			}
			dst[n], want[n] = 42, 42 // guard
			dequantRow(dst[:n], src, offs, sw, bias, 0.37, add)
			dequantGo(want[:n], src, offs, sw, bias, 0, 0.37, add)
			for i := range dst {
				if math.Float32bits(dst[i]) != math.Float32bits(want[i]) {
					t.Fatalf("n %d add %v: [%d] = %v, want %v", n, add, i, dst[i], want[i])
				}
			}
		}
	}
}

// TestDequantTile checks the whole-tile dequantization (AVX-512 for full
// 32-column tiles) against the Go loop, bit for bit, with guard values.
func TestDequantTile(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	const ldd = 37
	for rows := 1; rows <= 6; rows++ {
		for _, cols := range []int{32, 17} {
			for _, add := range []bool{false, true} {
				for _, withOffs := range []bool{false, true} {
					tile := make([]int32, 6*32)
					for i := range tile {
						tile[i] = rng.Int32N(1<<24) - 1<<23
					}
					var offs []int32
					if withOffs {
						offs = make([]int32, cols)
						for i := range offs {
							offs[i] = rng.Int32N(1<<20) - 1<<19
						}
					}
					sw, bias, sx := make([]float32, cols), make([]float32, cols), make([]float32, rows)
					for i := range sw {
						sw[i], bias[i] = rng.Float32(), rng.Float32()-0.5
					}
					for i := range sx {
						sx[i] = rng.Float32()
					}
					dst, want := make([]float32, rows*ldd), make([]float32, rows*ldd)
					for i := range dst {
						dst[i] = rng.Float32()
						want[i] = dst[i]
					}
					DequantTile(dst, ldd, tile, 32, rows, cols, offs, sw, sx, bias, add)
					for r := 0; r < rows; r++ {
						dequantGo(want[r*ldd:][:cols], tile[r*32:][:cols], offs, sw, bias, 0, sx[r], add)
					}
					for i := range dst {
						if math.Float32bits(dst[i]) != math.Float32bits(want[i]) {
							t.Fatalf("rows %d cols %d add %v offs %v: [%d] = %v, want %v", rows, cols, add, withOffs, i, dst[i], want[i])
						}
					}
				}
			}
		}
	}
}
