package recsys

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// lowRank returns a dense rows × cols matrix of the given rank.
func lowRank(rows, cols, rank int, seed uint64) []float64 {
	rng := rand.New(rand.NewPCG(seed, 1))
	a := make([]float64, rows*rank)
	b := make([]float64, rank*cols)
	for i := range a {
		a[i] = rng.NormFloat64()
	}
	for i := range b {
		b[i] = rng.NormFloat64()
	}
	out := make([]float64, rows*cols)
	for r := 0; r < rows; r++ {
		for c := 0; c < cols; c++ {
			for k := 0; k < rank; k++ {
				out[r*cols+c] += a[r*rank+k] * b[k*cols+c]
			}
		}
	}
	return out
}

func denseToSparse(x []float64, rows, cols int) *sparseMatrix {
	s := &sparseMatrix{rows: rows, cols: cols, start: make([]int, rows+1)}
	for r := 0; r < rows; r++ {
		for c := 0; c < cols; c++ {
			s.index = append(s.index, int32(c))
			s.value = append(s.value, x[r*cols+c])
		}
		s.start[r+1] = len(s.index)
	}
	return s
}

func TestTruncatedSVDReconstructsLowRank(t *testing.T) {
	const rows, cols, rank = 30, 20, 3
	x := lowRank(rows, cols, rank, 5)
	u, sigma, v := truncatedSVD(denseToSparse(x, rows, cols), rank, 5, 2, 1)
	var worst float64
	for r := 0; r < rows; r++ {
		for c := 0; c < cols; c++ {
			var y float64
			for k := 0; k < rank; k++ {
				y += u[r*rank+k] * sigma[k] * v[c*rank+k]
			}
			worst = math.Max(worst, math.Abs(y-x[r*cols+c]))
		}
	}
	if worst > 1e-9 {
		t.Errorf("reconstruction error %g, want ≈ 0 for a rank-%d matrix", worst, rank)
	}
	// The singular values are the exact ones (gonum's dense SVD).
	var svd mat.SVD
	if !svd.Factorize(mat.NewDense(rows, cols, x), mat.SVDNone) {
		t.Fatal("gonum SVD failed")
	}
	exact := svd.Values(nil)
	for k := 0; k < rank; k++ {
		if math.Abs(sigma[k]-exact[k]) > 1e-9*exact[0] {
			t.Errorf("σ%d = %v, exact %v", k, sigma[k], exact[k])
		}
	}
}

func TestTruncatedSVDLeadingTripletsOfFullRank(t *testing.T) {
	// A full-rank matrix with a decaying spectrum: the leading singular
	// values match the exact ones closely after power iterations.
	const rows, cols = 60, 40
	x := lowRank(rows, cols, 4, 9)
	noise := lowRank(rows, cols, 40, 10)
	for i := range x {
		x[i] = 10*x[i] + 0.01*noise[i]
	}
	_, sigma, _ := truncatedSVD(denseToSparse(x, rows, cols), 4, 6, 4, 3)
	var svd mat.SVD
	svd.Factorize(mat.NewDense(rows, cols, x), mat.SVDNone)
	exact := svd.Values(nil)
	for k := range sigma {
		if math.Abs(sigma[k]-exact[k])/exact[k] > 1e-6 {
			t.Errorf("σ%d = %v, exact %v", k, sigma[k], exact[k])
		}
	}
}

func TestSVDPredictsFullyObservedLowRankRatings(t *testing.T) {
	// R = 3 + ½·(rank 2): after subtracting user means the residual has
	// rank ≤ 3, so three factors reproduce every rating.
	const users, items = 25, 15
	x := lowRank(users, items, 2, 11)
	var rs []Rating
	for u := 0; u < users; u++ {
		for i := 0; i < items; i++ {
			v := 3 + 0.25*x[u*items+i]
			rs = append(rs, Rating{User: int32(u), Item: int32(i), Value: float32(min(max(v, 1), 5))})
		}
	}
	m, err := NewMatrix(rs, users, items)
	if err != nil {
		t.Fatal(err)
	}
	s, err := FitSVD(m, Scale{Min: 1, Max: 5}, SVDConfig{Factors: 3, Centre: CentreUser})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rs {
		if got := s.Predict(int(r.User), int(r.Item)); math.Abs(got-float64(r.Value)) > 1e-5 {
			t.Fatalf("Predict(%d, %d) = %v, want %v", r.User, r.Item, got, r.Value)
		}
	}
	if sv := s.SingularValues(); len(sv) != 3 || sv[0] < sv[1] || sv[1] < sv[2] {
		t.Errorf("singular values %v: want 3, descending", sv)
	}
}

func TestOrthonormalizeRankDeficient(t *testing.T) {
	// Columns 0 and 2 are equal: the third column vanishes.
	x := []float64{1, 2, 1, 0, 1, 0, 1, 0, 1}
	orthonormalize(x, 3, 3)
	for j := 0; j < 2; j++ {
		var n float64
		for r := 0; r < 3; r++ {
			n += x[r*3+j] * x[r*3+j]
		}
		if math.Abs(n-1) > 1e-12 {
			t.Errorf("column %d has norm² %v", j, n)
		}
	}
	for r := 0; r < 3; r++ {
		if x[r*3+2] != 0 {
			t.Errorf("dependent column not zeroed: %v", x)
		}
	}
}
