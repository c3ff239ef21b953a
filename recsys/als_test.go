package recsys

import (
	"context"
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"runtime"
	"slices"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// toyInteractions is a small interaction matrix with weights 1–3, one
// user and one item without interactions.
func toyInteractions(t *testing.T, users, items int, seed uint64) *Matrix {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 1))
	var rs []Rating
	for u := 0; u < users-1; u++ {
		for _, i := range rng.Perm(items - 1)[:1+rng.IntN(min(5, items-1))] {
			rs = append(rs, Rating{User: int32(u), Item: int32(i), Value: float32(1 + rng.IntN(3))})
		}
	}
	m, err := NewMatrix(rs, users, items)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// referenceIALS is implicit ALS written out densely in float64: every
// row's system built over all columns and solved by gonum's Cholesky
// (steps 0), or by steps of textbook conjugate gradient on the dense
// system.
func referenceIALS(m *Matrix, cfg IALSConfig, x, y []float64, steps int) {
	f := cfg.Factors
	w := make([][]float64, m.NumUsers)
	for u := range w {
		w[u] = make([]float64, m.NumItems)
		items, vals := m.UserRow(u)
		for k, i := range items {
			w[u][i] = float64(vals[k])
		}
	}
	at := func(r, c int, byUser bool) float64 {
		if byUser {
			return w[r][c]
		}
		return w[c][r]
	}
	active := func(n, other int, byUser bool) int {
		k := 0
		for c := 0; c < other; c++ {
			for r := 0; r < n; r++ {
				if at(r, c, byUser) > 0 {
					k++
					break
				}
			}
		}
		return k
	}
	half := func(x, y []float64, n, other int, byUser bool) {
		others := active(n, other, byUser)
		for r := 0; r < n; r++ {
			a := mat.NewDense(f, f, nil)
			b := mat.NewVecDense(f, nil)
			var sw float64
			for c := 0; c < other; c++ {
				v := at(r, c, byUser)
				sw += v
				conf := 1 + cfg.Alpha*v
				yc := mat.NewVecDense(f, slices.Clone(y[c*f:(c+1)*f]))
				var outer mat.Dense
				outer.Outer(conf, yc, yc)
				a.Add(a, &outer)
				if v > 0 {
					b.AddScaledVec(b, conf, yc)
				}
			}
			xr := x[r*f : (r+1)*f]
			if sw == 0 {
				clear(xr)
				continue
			}
			lambda := cfg.Reg * (cfg.Alpha*sw + float64(others))
			for k := 0; k < f; k++ {
				a.Set(k, k, a.At(k, k)+lambda)
			}
			if steps == 0 {
				var sol mat.VecDense
				if err := sol.SolveVec(a, b); err != nil {
					panic(err)
				}
				copy(xr, sol.RawVector().Data)
				continue
			}
			xv := mat.NewVecDense(f, slices.Clone(xr))
			var r0, ap mat.VecDense
			r0.MulVec(a, xv)
			r0.SubVec(b, &r0)
			p := mat.VecDenseCopyOf(&r0)
			rs := mat.Dot(&r0, &r0)
			for it := 0; it < steps && rs >= 1e-20; it++ {
				ap.MulVec(a, p)
				alpha := rs / mat.Dot(p, &ap)
				xv.AddScaledVec(xv, alpha, p)
				r0.AddScaledVec(&r0, -alpha, &ap)
				rsNew := mat.Dot(&r0, &r0)
				p.AddScaledVec(&r0, rsNew/rs, p)
				rs = rsNew
			}
			copy(xr, xv.RawVector().Data)
		}
	}
	for u := 0; u < m.NumUsers; u++ {
		if m.UserCount(u) == 0 {
			clear(x[u*f : (u+1)*f])
		}
	}
	for i := 0; i < m.NumItems; i++ {
		if m.ItemCount(i) == 0 {
			clear(y[i*f : (i+1)*f])
		}
	}
	for it := 0; it < cfg.Iterations; it++ {
		half(x, y, m.NumUsers, m.NumItems, true)
		half(y, x, m.NumItems, m.NumUsers, false)
	}
}

func maxDiff(a, b []float64) float64 {
	var d float64
	for k := range a {
		d = max(d, math.Abs(a[k]-b[k]))
	}
	return d
}

// TestIALSMatchesReference: the solver equals the dense float64
// reference within 1e-6 after a fixed number of iterations — exactly
// solved (conjugate gradient steps = factors) and with 2 conjugate
// gradient steps against textbook CG on the dense systems.
func TestIALSMatchesReference(t *testing.T) {
	m := toyInteractions(t, 9, 8, 3)
	for _, steps := range []int{0, 2} {
		cfg := IALSConfig{Factors: 3, Reg: 0.05, Alpha: 3, Iterations: 6, CGSteps: steps, InitStd: 0.1}.WithDefaults()
		if steps == 0 {
			cfg.CGSteps = cfg.Factors
		}
		rng := rand.New(rand.NewPCG(5, 5))
		x0, y0 := normalTable(rng, m.NumUsers*cfg.Factors, 0.1), normalTable(rng, m.NumItems*cfg.Factors, 0.1)
		x, y := slices.Clone(x0), slices.Clone(y0)
		if err := runIALS(context.Background(), m, cfg, x, y, nil); err != nil {
			t.Fatal(err)
		}
		rx, ry := slices.Clone(x0), slices.Clone(y0)
		referenceIALS(m, cfg, rx, ry, steps)
		d := max(maxDiff(x, rx), maxDiff(y, ry))
		if d > 1e-6 || math.IsNaN(d) {
			t.Errorf("cg steps %d (0: exact): factors differ from the reference by %g", steps, d)
		}
		t.Logf("cg steps %d (0: exact): largest difference from the reference %.3g", steps, d)
		if maxDiff(x, x0) < 1e-3 {
			t.Errorf("cg steps %d: the factors did not move", steps)
		}
	}
}

// TestIALSNumPyGolden: the solver, with as many conjugate gradient steps
// as factors, equals NumPy's exact solves (tools/implicit/ials_golden.py)
// within 1e-6.
func TestIALSNumPyGolden(t *testing.T) {
	b, err := os.ReadFile("testdata/ials_golden.json")
	if err != nil {
		t.Fatal(err)
	}
	var g struct {
		Users, Items, Factors, Iterations int
		Alpha, Reg                        float64
		Weights                           [][]float64
		InitUser                          [][]float64 `json:"init_user"`
		InitItem                          [][]float64 `json:"init_item"`
		User, Item                        [][]float64
	}
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatal(err)
	}
	var rs []Rating
	for u, row := range g.Weights {
		for i, v := range row {
			if v > 0 {
				rs = append(rs, Rating{User: int32(u), Item: int32(i), Value: float32(v)})
			}
		}
	}
	m, err := NewMatrix(rs, g.Users, g.Items)
	if err != nil {
		t.Fatal(err)
	}
	flat := func(rows [][]float64) []float64 { return slices.Concat(rows...) }
	x, y := flat(g.InitUser), flat(g.InitItem)
	cfg := IALSConfig{Factors: g.Factors, Reg: g.Reg, Alpha: g.Alpha, Iterations: g.Iterations, CGSteps: g.Factors}.WithDefaults()
	if err := runIALS(context.Background(), m, cfg, x, y, nil); err != nil {
		t.Fatal(err)
	}
	d := max(maxDiff(x, flat(g.User)), maxDiff(y, flat(g.Item)))
	if d > 1e-6 || math.IsNaN(d) {
		t.Errorf("factors differ from NumPy's by %g", d)
	}
	t.Logf("largest difference from NumPy's factors %.3g", d)
}

// TestFitDeterministic: iALS does not depend on the thread count; BPR is
// the same for a seed and a thread count, and changes with the seed.
func TestFitDeterministic(t *testing.T) {
	m := toyInteractions(t, 60, 40, 7)
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	fit := func(threads int, seed uint64) (ials, bpr []float64) {
		runtime.GOMAXPROCS(threads)
		a, err := FitIALS(context.Background(), m, IALSConfig{Factors: 4, Iterations: 3, Seed: seed}, nil)
		if err != nil {
			t.Fatal(err)
		}
		b, err := FitBPR(context.Background(), m, BPRConfig{Factors: 4, Epochs: 3, Seed: seed}, nil)
		if err != nil {
			t.Fatal(err)
		}
		return slices.Concat(a.user, a.item), slices.Concat(b.user, b.item, b.itemBias)
	}
	i1, b1 := fit(1, 1)
	i2, b2 := fit(2, 1)
	i2again, b2again := fit(2, 1)
	_, b2seed := fit(2, 2)
	if !slices.Equal(i1, i2) {
		t.Error("iALS: 1 and 2 threads differ")
	}
	if !slices.Equal(b2, b2again) || !slices.Equal(i2, i2again) {
		t.Error("the same seed and threads gave different factors")
	}
	if slices.Equal(b2, b2seed) {
		t.Error("BPR: another seed gave the same factors")
	}
	if len(b1) != len(b2) {
		t.Error("BPR: 1 and 2 threads gave tables of different sizes")
	}
}

// TestBiasedALSStationary: with exact solves the item half-step leaves
// every item's gradient of the documented objective at zero, and the
// objective falls from one iteration to the next.
func TestBiasedALSStationary(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 2))
	var rs []Rating
	for u := 0; u < 30; u++ {
		for _, i := range rng.Perm(25)[:3+rng.IntN(10)] {
			rs = append(rs, Rating{User: int32(u), Item: int32(i), Value: float32(1 + rng.IntN(5))})
		}
	}
	m, err := NewMatrix(rs, 30, 25)
	if err != nil {
		t.Fatal(err)
	}
	cfg := ALSConfig{Factors: 3, Reg: 0.1, Iterations: 5, CGSteps: 4}
	objective := func(f *BiasedFactors) float64 {
		var s float64
		for _, r := range rs {
			u, i := int(r.User), int(r.Item)
			e := float64(r.Value) - f.Predict(u, i)
			pu, qi := f.User[u*3:(u+1)*3], f.Item[i*3:(i+1)*3]
			s += e*e + cfg.Reg*(dot(pu, pu)+dot(qi, qi)+f.UserBias[u]*f.UserBias[u]+f.ItemBias[i]*f.ItemBias[i])
		}
		return s
	}
	var last float64 = math.Inf(1)
	f, err := FitBiasedALS(context.Background(), m, m.Mean, cfg, func(it int, f *BiasedFactors) error {
		o := objective(f)
		if o > last+1e-9 {
			t.Errorf("iteration %d: objective %g rose from %g", it, o, last)
		}
		last = o
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < m.NumItems; i++ {
		users, vals := m.ItemColumn(i)
		g := make([]float64, 4) // d/dq_i (3) and d/db_i
		for k, u := range users {
			e := float64(vals[k]) - f.Predict(int(u), i)
			axpy(-2*e, f.User[int(u)*3:int(u+1)*3], g[:3])
			g[3] += -2 * e
		}
		n := float64(len(users))
		axpy(2*cfg.Reg*n, f.Item[i*3:(i+1)*3], g[:3])
		g[3] += 2 * cfg.Reg * n * f.ItemBias[i]
		if d := math.Sqrt(dot(g, g)); d > 1e-8 {
			t.Errorf("item %d: gradient norm %g after its exact solve", i, d)
		}
	}
}

// TestImplicitExplainAddsUp: iALS's contributions add up to the exactly
// solved score, which is y_iᵀ x_u for x_u solved by the dense reference;
// BPR's are cosines and its exact is the served score.
func TestImplicitExplainAddsUp(t *testing.T) {
	m := toyInteractions(t, 20, 15, 9)
	a, err := FitIALS(context.Background(), m, IALSConfig{Factors: 4, Iterations: 4}, nil)
	if err != nil {
		t.Fatal(err)
	}
	u, i := 0, 0
	for ; m.ItemCount(i) == 0 || slices.Contains(func() []int32 { it, _ := m.UserRow(u); return it }(), int32(i)); i++ {
	}
	exact, cs, ok := a.Explain(u, i)
	if !ok || len(cs) != m.UserCount(u) {
		t.Fatalf("explain: ok %v, %d contributions for %d interactions", ok, len(cs), m.UserCount(u))
	}
	var sum float64
	for k, c := range cs {
		sum += c.Contribution
		if k > 0 && math.Abs(c.Contribution) > math.Abs(cs[k-1].Contribution) {
			t.Error("contributions not largest first")
		}
	}
	if math.Abs(sum-exact) > 1e-9 {
		t.Errorf("contributions add up to %g, exact %g", sum, exact)
	}
	want := exactUserScore(m, a, u, i)
	if math.Abs(exact-want) > 1e-9 {
		t.Errorf("exact score %g, the dense solve gives %g", exact, want)
	}
	if d := math.Abs(exact - a.Score(u, i)); d > 0.1 {
		t.Errorf("exact %g far from the served %g", exact, a.Score(u, i))
	}
	b, err := FitBPR(context.Background(), m, BPRConfig{Factors: 4, Epochs: 3}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if exact, cs, ok := b.Explain(u, i); !ok || exact != b.Score(u, i) || len(cs) != m.UserCount(u) || math.Abs(cs[0].Contribution) > 1 {
		t.Errorf("bpr explain: %v %v %+v", ok, exact, cs)
	}
	if _, _, ok := a.Explain(m.NumUsers-1, i); ok {
		t.Error("a user without interactions was explained")
	}
}

// exactUserScore solves user u's iALS system densely with gonum against
// the model's item factors and returns y_iᵀ x_u.
func exactUserScore(m *Matrix, a *Implicit, u, i int) float64 {
	f, cfg := a.Factors, *a.ials
	items, w := m.UserRow(u)
	others := 0
	for j := 0; j < m.NumItems; j++ {
		if m.ItemCount(j) > 0 {
			others++
		}
	}
	am := mat.NewDense(f, f, nil)
	b := mat.NewVecDense(f, nil)
	var sw float64
	for j := 0; j < m.NumItems; j++ {
		yj := mat.NewVecDense(f, slices.Clone(a.item[j*f:(j+1)*f]))
		conf := 1.0
		if k, ok := slices.BinarySearch(items, int32(j)); ok {
			conf += cfg.Alpha * float64(w[k])
			sw += float64(w[k])
			b.AddScaledVec(b, conf, yj)
		}
		var o mat.Dense
		o.Outer(conf, yj, yj)
		am.Add(am, &o)
	}
	lambda := cfg.Reg * (cfg.Alpha*sw + float64(others))
	for k := 0; k < f; k++ {
		am.Set(k, k, am.At(k, k)+lambda)
	}
	var x mat.VecDense
	if err := x.SolveVec(am, b); err != nil {
		panic(err)
	}
	return dot(x.RawVector().Data, a.item[i*f:(i+1)*f])
}

// TestImplicitPersist: Tensors and LoadImplicit give the same lists;
// tensors that do not fit are errors.
func TestImplicitPersist(t *testing.T) {
	m := toyInteractions(t, 20, 15, 4)
	for _, algo := range []string{AlgoIALS, AlgoBPR} {
		var fitted *Implicit
		var err error
		cfg := IALSConfig{Factors: 3, Iterations: 2}.WithDefaults()
		if algo == AlgoIALS {
			fitted, err = FitIALS(context.Background(), m, cfg, nil)
		} else {
			fitted, err = FitBPR(context.Background(), m, BPRConfig{Factors: 3, Epochs: 2}, nil)
		}
		if err != nil {
			t.Fatal(err)
		}
		loaded, err := LoadImplicit(m, algo, 3, &cfg, fitted.Tensors(), "model.safetensors")
		if err != nil {
			t.Fatal(err)
		}
		for u := 0; u < m.NumUsers; u++ {
			a, b := fitted.Recommend(u, 5, ExcludeSeen), loaded.Recommend(u, 5, ExcludeSeen)
			if len(a) != len(b) {
				t.Fatalf("%s user %d: %v against %v", algo, u, a, b)
			}
			for k := range a {
				if a[k].Index != b[k].Index || math.Abs(a[k].Score-b[k].Score) > 1e-5 {
					t.Fatalf("%s user %d: %v against %v", algo, u, a, b)
				}
			}
		}
		if _, err := LoadImplicit(m, algo, 4, &cfg, fitted.Tensors(), "model.safetensors"); err == nil {
			t.Errorf("%s: 4 factors loaded from 3", algo)
		}
	}
	if _, err := LoadImplicit(m, "svd", 3, nil, nil, "model.safetensors"); err == nil {
		t.Error("an unknown implicit algorithm loaded")
	}
}

// TestImplicitRecommendSeen: Recommend leaves out the user's items unless
// IncludeSeen; an unknown user gets the most popular items.
func TestImplicitRecommendSeen(t *testing.T) {
	m := toyInteractions(t, 20, 15, 6)
	a, err := FitIALS(context.Background(), m, IALSConfig{Factors: 3, Iterations: 2}, nil)
	if err != nil {
		t.Fatal(err)
	}
	items, _ := m.UserRow(0)
	for _, s := range a.Recommend(0, 20, ExcludeSeen) {
		if slices.Contains(items, int32(s.Index)) {
			t.Errorf("item %d the user has was recommended", s.Index)
		}
	}
	all := a.Recommend(0, 20, IncludeSeen)
	for _, i := range items {
		if !slices.ContainsFunc(all, func(s Scored) bool { return s.Index == int(i) }) {
			t.Errorf("IncludeSeen left out item %d", i)
		}
	}
	b := FitBaseline(m, Scale{})
	if got, want := a.Recommend(-1, 3, ExcludeSeen), b.Popular(m, -1, 3, ExcludeSeen); !slices.Equal(got, want) {
		t.Errorf("unknown user: %v, popular %v", got, want)
	}
}

// TestAutoAlpha: ForData's α is ConfidenceShare · users · items / Σw over
// the users and items with interactions, within its bounds, and a given α
// is kept.
func TestAutoAlpha(t *testing.T) {
	// 10 users, each with 5 of 50 items (every item once), then 10 more
	// items nobody touched.
	mk := func(w float32) *Matrix {
		var rs []Rating
		for u := 0; u < 10; u++ {
			for k := 0; k < 5; k++ {
				rs = append(rs, Rating{User: int32(u), Item: int32(5*u + k), Value: w})
			}
		}
		m, err := NewMatrix(rs, 10, 60)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	for _, c := range []struct {
		w    float32
		want float64
	}{
		{1, ConfidenceShare * 10 * 50 / 50},   // 0.2
		{0.5, ConfidenceShare * 10 * 50 / 25}, // 0.4
		{100, minAutoAlpha},                   // 0.002, raised
		{0.00001, maxAutoAlpha},               // 2000, lowered
	} {
		m := mk(c.w)
		if got := AutoAlpha(m); math.Abs(got-c.want) > 1e-9*c.want {
			t.Errorf("weight %v: α %v, want %v", c.w, got, c.want)
		}
		if got := (IALSConfig{}).ForData(m).Alpha; math.Abs(got-c.want) > 1e-9*c.want {
			t.Errorf("weight %v: ForData α %v, want %v", c.w, got, c.want)
		}
	}
	if got := (IALSConfig{Alpha: 7}).ForData(mk(1)).Alpha; got != 7 {
		t.Errorf("a given α became %v", got)
	}
}

// TestBPRForData: BPR's learning rate rises to WideLR when more than
// WideItems items have interactions (items nobody touched do not count),
// and a given learning rate is kept.
func TestBPRForData(t *testing.T) {
	mk := func(items, catalogue int) *Matrix {
		var rs []Rating
		for i := 0; i < items; i++ {
			rs = append(rs, Rating{User: int32(i % 7), Item: int32(i), Value: 1})
		}
		m, err := NewMatrix(rs, 7, catalogue)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	narrow := BPRConfig{}.WithDefaults().LR
	for _, c := range []struct {
		items, catalogue int
		want             float64
	}{
		{WideItems, 2 * WideItems, narrow},
		{WideItems + 1, WideItems + 1, WideLR},
	} {
		if got := (BPRConfig{}).ForData(mk(c.items, c.catalogue)).LR; got != c.want {
			t.Errorf("%d of %d items with interactions: lr %v, want %v", c.items, c.catalogue, got, c.want)
		}
	}
	if got := (BPRConfig{}).ForData(mk(WideItems+1, WideItems+1)).Average; got != WideAverage {
		t.Errorf("a wide catalogue: average %v, want %v", got, WideAverage)
	}
	if got := (BPRConfig{LR: 0.3, Average: 0.5}).ForData(mk(WideItems+1, WideItems+1)); got.LR != 0.3 || got.Average != 0.5 {
		t.Errorf("a given lr and average became %v and %v", got.LR, got.Average)
	}
	if got := (BPRConfig{}).ForData(mk(10, 10)); got != (BPRConfig{}).WithDefaults() {
		t.Errorf("ForData on a narrow catalogue: %+v, want the defaults", got)
	}
}

// TestBPRCandidates: the negative is the highest-scored of Candidates
// draws, so a fit with more draws differs from one with a single draw,
// and Candidates is bounded.
func TestBPRCandidates(t *testing.T) {
	m := toyInteractions(t, 60, 40, 7)
	fit := func(c int) []float64 {
		b, err := FitBPR(context.Background(), m, BPRConfig{Factors: 4, Epochs: 3, Candidates: c}, nil)
		if err != nil {
			t.Fatal(err)
		}
		return slices.Concat(b.user, b.item, b.itemBias)
	}
	if slices.Equal(fit(1), fit(20)) {
		t.Error("1 and 20 candidates gave the same factors")
	}
	for _, c := range []int{-1, MaxCandidates + 1} {
		if _, err := FitBPR(context.Background(), m, BPRConfig{Candidates: c}, nil); err == nil {
			t.Errorf("candidates %d: no error", c)
		}
	}
}

// TestBPRAverage: with Average, the model is the moving average of the
// epochs' tables, which leaves the training itself unchanged; Average is
// bounded.
func TestBPRAverage(t *testing.T) {
	m := toyInteractions(t, 60, 40, 7)
	cfg := BPRConfig{Factors: 4, Epochs: 4}
	var epochs [][]float64
	last, err := FitBPR(context.Background(), m, cfg, func(_ BPREpoch, b *Implicit) bool {
		epochs = append(epochs, slices.Concat(b.user, b.item, b.itemBias))
		return false
	})
	if err != nil {
		t.Fatal(err)
	}
	const keep = 0.7
	want := slices.Clone(epochs[0])
	for _, e := range epochs[1:] {
		for k := range want {
			want[k] = keep*want[k] + (1-keep)*e[k]
		}
	}
	cfg.Average = keep
	var seen int
	avg, err := FitBPR(context.Background(), m, cfg, func(_ BPREpoch, b *Implicit) bool {
		seen++
		if seen == 1 && !slices.Equal(slices.Concat(b.user, b.item, b.itemBias), epochs[0]) {
			t.Error("the average after one epoch is not that epoch's tables")
		}
		return false
	})
	if err != nil {
		t.Fatal(err)
	}
	got := slices.Concat(avg.user, avg.item, avg.itemBias)
	biases := len(avg.user) + len(avg.item)
	for k := range want {
		if k >= biases && m.ItemCount(k-biases) == 0 {
			continue // lowerUnseen set it after the fit
		}
		if math.Abs(got[k]-want[k]) > 1e-12 {
			t.Fatalf("table entry %d: %v, want the moving average %v", k, got[k], want[k])
		}
	}
	if slices.Equal(got, slices.Concat(last.user, last.item, last.itemBias)) {
		t.Error("the averaged model equals the last epoch's")
	}
	for _, a := range []float64{-0.1, 1, math.NaN()} {
		if _, err := FitBPR(context.Background(), m, BPRConfig{Average: a}, nil); err == nil {
			t.Errorf("average %v: no error", a)
		}
	}
}
