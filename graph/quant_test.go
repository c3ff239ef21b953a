package graph

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"

	kern "github.com/tapeml/tapeml/internal/kernel"
)

// BenchmarkQGemm compares the int8 product with the float32 one on a
// ConvNet-sized dense layer (batch 32, 8192 → 1024), in one run, all
// threads, against the float32 serving product with its weights packed once:
//
//	go test -run '^$' -bench 'QGemm' ./graph
func BenchmarkQGemm(b *testing.B) {
	const m, n, k = 32, 1024, 8192
	rng := rand.New(rand.NewPCG(1, 2))
	a8, b8 := make([]int8, m*k), make([]int8, n*k)
	af, bf := make([]float32, m*k), make([]float32, n*k)
	for i := range a8 {
		a8[i] = int8(rng.IntN(255) - 127)
		af[i] = float32(a8[i])
	}
	for i := range b8 {
		b8[i] = int8(rng.IntN(255) - 127)
		bf[i] = float32(b8[i])
	}
	c32, cf := make([]int32, m*n), make([]float32, m*n)
	for _, arch := range kern.QArches() {
		if arch.Encoding() == kern.QBytes {
			continue
		}
		p := kern.QPack(arch, n, k, b8, k)
		b.Run("int8/"+arch.Name(), func(b *testing.B) {
			for b.Loop() {
				kern.QGemm(runtime.GOMAXPROCS(0), m, a8, k, p, c32, n)
			}
			b.ReportMetric(float64(b.N)*m*n*k/b.Elapsed().Seconds()/1e9, "GMAC/s")
		})
	}
	// The anchor: the float32 serving product, weights packed once.
	var pw packedWeights
	pw.pack(bf, n, k)
	b.Run("float32/"+kern.Active().String(), func(b *testing.B) {
		for b.Loop() {
			pw.product(new(productSite), af, m, k, n, nil, cf)
		}
		b.ReportMetric(float64(b.N)*m*n*k/b.Elapsed().Seconds()/1e9, "GMAC/s")
	})
}

// TestQuantizeEncodeRows checks the fused (and, with AVX-512, vector)
// quantization into a kernel's encoding against quantizeRowsDynamic and
// encode, on every arch, with zero, NaN and infinite rows and ties.
func TestQuantizeEncodeRows(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	const m, k, lda = 7, 45, 50
	x := make([]float32, m*lda)
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	clear(x[lda : lda+k])              // row 1: zeros
	x[2*lda+3] = float32(math.NaN())   // row 2: a NaN
	x[3*lda+4] = float32(math.Inf(-1)) // row 3: −∞
	for j := 0; j < k; j++ {           // row 4: ties at the scale 1
		x[4*lda+j] = float32(j%5) - 2.5 + 0*float32(j)
	}
	x[4*lda] = 127
	for _, arch := range kern.QArches() {
		p := kern.QPack(arch, 3, k, make([]int8, 3*k), k)
		var acts kern.QActs
		scales := make([]float32, m)
		quantizeEncodeRows(p, x, m, k, lda, &acts, scales)
		q, want := make([]int8, m*k), make([]float32, m)
		quantizeRowsDynamic(x, m, k, lda, q, want)
		var ref kern.QActs
		ref.Convert(p, m, q, k)
		if arch.Encoding() == kern.QBytes {
			ref.Buf, ref.LDA = make([]byte, m*k), k
			arch.Encode(ref.Buf, q)
		}
		if !slices.Equal(scales, want) {
			t.Fatalf("%s: scales %v, want %v", arch.Name(), scales, want)
		}
		for i := 0; i < m; i++ {
			got, exp := acts.Buf[i*acts.LDA:][:k*arch.Elem()], ref.Buf[i*ref.LDA:][:k*arch.Elem()]
			if !slices.Equal(got, exp) {
				t.Fatalf("%s: row %d encoded %v, want %v", arch.Name(), i, got, exp)
			}
		}
	}
}

// quantizeRowsDynamic is the reference quantizeEncodeRows is checked
// against: quantizeRowsDynamic quantizes each of the m rows of x (k values, rows
// lda apart) with its own scale into q [m, k]; scales[i] is row i's.
func quantizeRowsDynamic(x []float32, m, k, lda int, q []int8, scales []float32) {
	for i := 0; i < m; i++ {
		row := x[i*lda : i*lda+k]
		var a float32
		for _, v := range row {
			if v > a {
				a = v
			} else if -v > a {
				a = -v
			}
		}
		s := a / 127
		if !(s > 0) || math.IsInf(float64(s), 0) {
			s = 1
		}
		scales[i] = s
		quantizeInto(q[i*k:(i+1)*k], row, 1/s)
	}
}

// A row scale whose largest weight (127·scale) is infinite in float32 is
// refused, as are zero, negative and NaN scales.
func TestQuantWeightValidateScales(t *testing.T) {
	for _, s := range []float32{0, -1, float32(math.NaN()), float32(math.Inf(1)), 3e38} {
		q := &QuantWeight{Q: []int8{1, 2}, Shape: []int{1, 2}, Scale: []float32{s}}
		if err := q.Validate(); err == nil {
			t.Errorf("scale %v accepted", s)
		}
	}
	q := &QuantWeight{Q: []int8{1, 2}, Shape: []int{1, 2}, Scale: []float32{1e36}}
	if err := q.Validate(); err != nil {
		t.Errorf("scale 1e36: %v", err)
	}
}

// quantizeEncodeRows (its vector encoding with AVX-512, its Go loop for
// the tail and the other archs) on every pair of sides in the kernel
// tests' sizes list, at every level and for every arch, against
// quantizeRowsDynamic and the arch's Encode, with a zero and a NaN row,
// and guards: after the rows in acts.Buf's spare capacity, around the
// scales; the padding depths hold the arch's zero.
func TestQuantizeEncodeRowsSizes(t *testing.T) {
	const gl = 32
	sizes := []int{0, 1, 2, 3, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 65}
	rng := rand.New(rand.NewPCG(63, 64))
	for l := kern.Generic; l <= kern.Supported(); l++ {
		restore := kern.Set(l)
		for _, arch := range kern.QArches() {
			for _, m := range sizes {
				for _, k := range sizes {
					if k == 0 {
						continue // no layer has inputs of width 0
					}
					lda := k + 3
					x := make([]float32, m*lda)
					for i := range x {
						x[i] = float32(rng.NormFloat64()) * 3
					}
					if m > 2 {
						clear(x[lda : lda+k])              // row 1: zeros
						x[2*lda+k/2] = float32(math.NaN()) // row 2: a NaN
					}
					p := kern.QPack(arch, 3, k, make([]int8, 3*k), k)
					elem, ld := arch.Elem(), p.Depth()*arch.Elem()
					if arch.Encoding() == kern.QBytes {
						ld = k
					}
					var acts kern.QActs
					acts.Buf = make([]byte, m*ld+gl)
					for i := range acts.Buf {
						acts.Buf[i] = 0xa5
					}
					spare := acts.Buf
					scalesAll := make([]float32, m+2*gl)
					for i := range scalesAll {
						scalesAll[i] = -1
					}
					quantizeEncodeRows(p, x, m, k, lda, &acts, scalesAll[gl:gl+m])
					name := fmt.Sprintf("%s %s m=%d k=%d", l, arch.Name(), m, k)
					if acts.LDA != ld || acts.Rows != m {
						t.Fatalf("%s: LDA %d rows %d, want %d and %d", name, acts.LDA, acts.Rows, ld, m)
					}
					for i, b := range spare[m*ld:] {
						if b != 0xa5 {
							t.Fatalf("%s: wrote %#x at %d past the rows", name, b, i)
						}
					}
					for i, s := range scalesAll {
						if (i < gl || i >= gl+m) && s != -1 {
							t.Fatalf("%s: wrote scale %v at %d outside the %d rows", name, s, i-gl, m)
						}
					}
					q, want := make([]int8, m*k), make([]float32, m)
					quantizeRowsDynamic(x, m, k, lda, q, want)
					enc := make([]byte, k*elem)
					zero := make([]byte, elem)
					arch.Encode(zero, []int8{0})
					for i := 0; i < m; i++ {
						if s := scalesAll[gl+i]; s != want[i] {
							t.Fatalf("%s: row %d scale %v, want %v", name, i, s, want[i])
						}
						row := acts.Buf[i*ld : (i+1)*ld]
						arch.Encode(enc, q[i*k:(i+1)*k])
						if !bytes.Equal(row[:k*elem], enc) {
							t.Fatalf("%s: row %d encoded %v, want %v", name, i, row[:k*elem], enc)
						}
						for j := k * elem; j < ld; j++ {
							if row[j] != zero[(j-k*elem)%elem] {
								t.Fatalf("%s: row %d padding byte %d is %#x, want the arch's zero %v", name, i, j, row[j], zero)
							}
						}
					}
				}
			}
		}
		restore()
	}
}

// TestQuantizeEncodeRowsThreads checks that rows shared among goroutines
// (enough of them to split: 16K values per thread) encode as one
// goroutine does, with uneven row counts and the padding after k.
func TestQuantizeEncodeRowsThreads(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	for _, arch := range kern.QArches() {
		for _, sz := range [][3]int{{257, 129, 131}, {1031, 64, 64}, {3, 30000, 30001}} {
			m, k, lda := sz[0], sz[1], sz[2]
			x := randn32(rng, m*lda)
			x[lda+5] = float32(math.NaN())
			p := kern.QPack(arch, 3, k, make([]int8, 3*k), k)
			var one, many kern.QActs
			s1, s2 := make([]float32, m), make([]float32, m)
			quantizeEncodeRows(p, x, m, k, lda, &one, s1)
			many.Buf = bytes.Repeat([]byte{0xA5}, m*one.LDA) // stale bytes: each row must be written
			quantizeEncodeRowsThreads(new(quantSite), 3, p, x, m, k, lda, &many, s2)
			if !slices.Equal(s1, s2) || !slices.Equal(one.Buf, many.Buf) || one.LDA != many.LDA {
				t.Fatalf("%s %dx%d: 3 threads encode differently from 1", arch.Name(), m, k)
			}
		}
	}
}
