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

// TestDequantRow checks the vector dequantization at every level against
// the Go loop, bit for bit, for every length around the vector width, with
// guards around dst.
func TestDequantRow(t *testing.T) {
	levels(t, func(t *testing.T, l Level) {
		rng := rand.New(rand.NewPCG(7, 8))
		for n := 0; n < 70; n++ {
			for _, add := range []bool{false, true} {
				src, sw, bias := make([]int32, n), make([]float32, n), make([]float32, n)
				offs := make([]int32, n)
				for i := range offs {
					offs[i] = rng.Int32N(1<<20) - 1<<19
				}
				if n%2 == 1 {
					offs = nil
				}
				dst := newGuardedF32(n)
				want := make([]float32, n)
				for i := range src {
					src[i] = rng.Int32N(1<<24) - 1<<23
					sw[i], bias[i] = rng.Float32(), rng.Float32()-0.5
					dst.v()[i] = rng.Float32()
					want[i] = dst.v()[i]
				}
				dequantRow(dst.v(), src, offs, sw, bias, 0.37, add)
				dequantGo(want, src, offs, sw, bias, 0, 0.37, add)
				name := fmt.Sprintf("n %d add %v", n, add)
				dst.check(t, name)
				for i, got := range dst.v() {
					if math.Float32bits(got) != math.Float32bits(want[i]) {
						t.Fatalf("%s: [%d] = %v, want %v", name, i, got, want[i])
					}
				}
			}
		}
	})
}

// TestDequantTile checks the whole-tile dequantization (AVX-512 for full
// 32-column tiles) at every level against the Go loop, bit for bit, with
// guards around dst and in the gaps between its rows.
func TestDequantTile(t *testing.T) {
	levels(t, func(t *testing.T, l Level) {
		rng := rand.New(rand.NewPCG(9, 10))
		const ldd = 37
		for rows := 1; rows <= 6; rows++ {
			for _, cols := range []int{32, 31, 17, 16, 1} {
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
						dst := newGuardedF32((rows-1)*ldd + cols)
						want := make([]float32, len(dst.v()))
						for i := range want {
							if i%ldd < cols {
								dst.v()[i] = rng.Float32()
							}
							want[i] = dst.v()[i]
						}
						DequantTile(dst.v(), ldd, tile, 32, rows, cols, offs, sw, sx, bias, add)
						for r := 0; r < rows; r++ {
							dequantGo(want[r*ldd:][:cols], tile[r*32:][:cols], offs, sw, bias, 0, sx[r], add)
						}
						name := fmt.Sprintf("rows %d cols %d add %v offs %v", rows, cols, add, withOffs)
						dst.check(t, name)
						for i, got := range dst.v() {
							if math.Float32bits(got) != math.Float32bits(want[i]) {
								t.Fatalf("%s: [%d] = %v, want %v", name, i, got, want[i])
							}
						}
					}
				}
			}
		}
	})
}

// QGemm with every int8 kernel against qgemmRef, bit for bit, on every pair
// of sides in sizes and depths around the groups and the vector widths,
// with odd leading dimensions and guards around C and in its gaps, on 1
// to 7 threads (each split of QGemmParts, the parts run by QGemmPart).
func TestQGemmSizes(t *testing.T) {
	const sentinel = int32(-0x5a5a5a5a)
	const gl = 16
	rng := rand.New(rand.NewPCG(41, 42))
	for _, arch := range QArches() {
		t.Run(arch.Name(), func(t *testing.T) {
			for _, m := range sizes {
				for _, n := range sizes {
					for _, k := range []int{0, 1, 2, 3, 4, 5, 7, 8, 15, 16, 17, 33, 65} {
						lda, ldb, ldc := k+1+(m+n)%3, k+2, n+1+k%2
						a, b := make([]int8, m*lda), make([]int8, n*ldb)
						for i := range a {
							a[i] = int8(rng.IntN(256) - 128)
						}
						for i := range b {
							b[i] = int8(rng.IntN(256) - 128)
						}
						size := 0
						if m > 0 {
							size = (m-1)*ldc + n
						}
						want := make([]int32, size)
						qgemmRef(m, n, k, a, lda, b, ldb, want, ldc)
						p := QPack(arch, n, k, b, ldb)
						if p.Arch() != arch || p.Depth()%arch.group != 0 || p.Depth() < k {
							t.Fatalf("QPack(%s, %d, %d): arch %s, depth %d", arch.Name(), n, k, p.Arch().Name(), p.Depth())
						}
						for _, threads := range []int{1, 2, 3, 7} { // splits by columns and by rows (QGemmParts)
							all := make([]int32, size+2*gl)
							for i := range all {
								all[i] = sentinel
							}
							QGemm(threads, m, a, lda, p, all[gl:gl+size], ldc)
							name := fmt.Sprintf("%dx%dx%d threads %d", m, n, k, threads)
							for i, g := range all {
								c := i - gl
								if c < 0 || c >= size || c%ldc >= n {
									if g != sentinel {
										t.Fatalf("%s: wrote %d at %d outside C", name, g, c)
									}
									continue
								}
								if g != want[c] {
									t.Fatalf("%s: C[%d][%d] = %d, reference %d", name, c/ldc, c%ldc, g, want[c])
								}
							}
						}
					}
				}
			}
		})
	}
}

// Every arch's encoding of a value matches its Encoding, Elem and
// ZeroByte, and QGemmArch follows the level unless a test forces an arch.
func TestQArch(t *testing.T) {
	vals := []int8{0, 1, -1, 127, -127, -128, 42}
	for _, arch := range QArches() {
		dst := make([]byte, len(vals)*arch.Elem()+1)
		dst[len(dst)-1] = 0xa5
		arch.Encode(dst[:len(dst)-1], vals)
		if dst[len(dst)-1] != 0xa5 {
			t.Fatalf("%s: Encode wrote past its values", arch.Name())
		}
		for i, v := range vals {
			var got int
			switch arch.Encoding() {
			case QInt16:
				got = int(int16(uint16(dst[2*i]) | uint16(dst[2*i+1])<<8))
			case QOffset:
				got = int(dst[i]) - 128
			default:
				got = int(int8(dst[i]))
			}
			if got != int(v) {
				t.Fatalf("%s: %d encodes as %d", arch.Name(), v, got)
			}
		}
		zero := make([]byte, arch.Elem())
		arch.Encode(zero, []int8{0})
		for _, b := range zero {
			if b != arch.ZeroByte() {
				t.Fatalf("%s: 0 encodes as %v, ZeroByte %#x", arch.Name(), zero, arch.ZeroByte())
			}
		}
	}
	levels(t, func(t *testing.T, l Level) {
		if got := QGemmArch(); got != qgemmArchFor(l) {
			t.Fatalf("QGemmArch() = %s at %s", got.Name(), l)
		}
		defer SetQGemmArch(qgemmGeneric)()
		if QGemmArch() != qgemmGeneric {
			t.Fatalf("SetQGemmArch(generic) gave %s", QGemmArch().Name())
		}
	})
}

// QuantEncode at every level against the +128 encoding of Quantize, on
// every length in sizes, with ties, saturation and guards around dst.
func TestQuantEncode(t *testing.T) {
	levels(t, func(t *testing.T, l Level) {
		rng := rand.New(rand.NewPCG(43, 44))
		for _, n := range append(sizes[:len(sizes):len(sizes)], 100) {
			src := make([]float32, n)
			for i := range src {
				switch i % 4 {
				case 0:
					src[i] = float32(rng.IntN(300)-150) + 0.5 // ties, some past ±127
				default:
					src[i] = float32(rng.NormFloat64()) * 60
				}
			}
			const inv = 1.25
			all := make([]byte, n+2*guardLen)
			for i := range all {
				all[i] = 0xa5
			}
			dst := all[guardLen : guardLen+n]
			done := QuantEncode(dst, src, inv)
			name := fmt.Sprintf("n=%d", n)
			if done > n || done%16 != 0 || l < AVX512 && done != 0 || l == AVX512 && n-done >= 16 {
				t.Fatalf("%s: encoded %d at %s", name, done, l)
			}
			for i, b := range all {
				j := i - guardLen
				if j >= 0 && j < done {
					if want := byte(Quantize(src[j]*inv)) ^ 0x80; b != want {
						t.Fatalf("%s: [%d] = %#x for %v, want %#x", name, j, b, src[j]*inv, want)
					}
				} else if b != 0xa5 {
					t.Fatalf("%s: wrote %#x at %d, outside the %d it reported", name, b, j, done)
				}
			}
		}
	})
}
