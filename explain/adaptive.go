package explain

import (
	"cmp"
	"context"
	"math"
	"slices"

	"gonum.org/v1/gonum/integrate/quad"
)

// Adaptive Integrated Gradients: the path [0, 1] is cut into panels, each
// integrated by a few Gauss–Legendre points, and the model is also
// evaluated at every panel's ends. Along the path the integrand of the
// completeness sum is the derivative of f(α) = f(baseline + α(x −
// baseline)), so on a panel [a, b] its exact integral is f(b) − f(a): the
// panel's residual r = Q[a, b] − (f(b) − f(a)) is its quadrature error,
// known exactly, and the explanation's delta is the sum of the residuals.
// The panels with the largest |r| are halved, a round at a time, until
// |Σr| — the delta — is within the tolerance, and Σ|r| within ten times
// it (so that residuals cancelling by chance do not stop the refinement
// of attributions that are still wrong), or the budget of evaluations is
// spent.
// A transition far narrower than the panels (the BiLSTM's, 10⁻⁴ wide)
// cannot hide from this: it shows in f at the panel's ends whether or not
// a quadrature point falls on it. Panels narrower than float32 resolves
// are evaluated in float64 (float64.go); each point of the path has one
// value of f, from one precision, which both panels it ends share, so
// the residuals still sum to delta exactly.

const (
	// panelPoints is the Gauss–Legendre points per panel: enough for the
	// smooth stretches of a recurrent model (exact for degree 7), few
	// enough that halving a panel around a ReLU or max-pool kink (where
	// more points gain nothing) costs 2·4 + 1 evaluations.
	panelPoints = 4
	// firstPanels is how many equal panels the path starts as.
	firstPanels = 4
	// maxSplitsPerRound bounds the panels halved per example and round, so
	// the budget is spent where the residuals still are after each round.
	maxSplitsPerRound = 16
	// DefaultTolerance is Options.Tolerance's default.
	DefaultTolerance = 0.005
	// DefaultMaxSteps is Options.MaxSteps's default.
	DefaultMaxSteps = 1500
	// minAdaptiveSteps is the first round's evaluations: firstPanels
	// panels of panelPoints points and their firstPanels + 1 ends.
	minAdaptiveSteps = firstPanels*panelPoints + firstPanels + 1
	// minPanel64 is the narrowest panel the rule halves. In float64 a
	// panel that wide still spans about a thousand steps of α; a residual
	// left in it is a jump of f that float64 does not resolve either.
	minPanel64 = 1e-13
	// adaptiveMemory bounds the panel vectors held at once, in bytes:
	// examples are refined in groups that fit.
	adaptiveMemory = 256 << 20
)

// float64Below is the width under which a panel is evaluated in float64:
// there float32 barely resolves the points along the path (one float32
// step of α is 6·10⁻⁸ near 1). A variable only so that a test can send
// wider panels to float64.
var float64Below = 1e-7

// panel is one piece [a, b] of an example's path.
type panel struct {
	a, b   float64
	fa, fb float64   // the explained logit at the ends
	q      float64   // the quadrature of the completeness integrand
	vec    []float32 // the quadrature of the gradient, per element of x
	// f64 marks a panel whose points are evaluated in float64; fa64 and
	// fb64 ends whose f is (or is about to be) float64's.
	f64, fa64, fb64 bool
}

func (p *panel) residual() float64 { return p.q - (p.fb - p.fa) }

// adaptiveRun is one example's refinement.
type adaptiveRun struct {
	panels  []*panel
	evals   int
	evals64 int // of evals, in float64
	// ends64 are the points whose f this round evaluates again in
	// float64 (split), once the round's panels are known.
	ends64 []float64
	target float64 // |Σr| to reach
	done   bool
}

// evalRow is one evaluation of a round: at alpha on example ex; the
// result goes into a panel's quadrature (node ≥ 0, with weight w) or is f
// at one of its ends.
type evalRow struct {
	ex    int
	alpha float64
	p     *panel
	node  bool
	w     float64
	left  *panel // the panels whose left and right end this is (nil: none)
	right *panel
	f64   bool // evaluated in float64
}

// adaptive computes IG by the adaptive rule, filling res (attr, fx, fbase,
// delta, evals).
func (p *attrPool) adaptive(ctx context.Context, o Options, exs []attrExample, res []attrResult) error {
	if len(exs) == 0 {
		return nil
	}
	tw := &twin{pool: p}
	defer tw.release()
	// The most panels an example can reach, and so how many fit in memory.
	maxPanels := firstPanels + (o.MaxSteps-minAdaptiveSteps)/(2*panelPoints+1)
	group := max(1, adaptiveMemory/(maxPanels*len(exs[0].x)*4*2))
	for from := 0; from < len(exs); from += group {
		to := min(len(exs), from+group)
		if err := p.adaptiveGroup(ctx, tw, o, exs[from:to], res[from:to]); err != nil {
			return err
		}
	}
	return nil
}

func (p *attrPool) adaptiveGroup(ctx context.Context, tw *twin, o Options, exs []attrExample, res []attrResult) error {
	nodes, weights := make([]float64, panelPoints), make([]float64, panelPoints)
	runs := make([]adaptiveRun, len(exs))
	var rows []evalRow
	// The first round: equal panels, their points and all their ends.
	for i := range exs {
		r := &runs[i]
		f64 := 1.0/firstPanels < float64Below
		for k := range firstPanels {
			r.panels = append(r.panels, &panel{a: float64(k) / firstPanels, b: float64(k+1) / firstPanels, f64: f64, fa64: f64, fb64: f64})
		}
		for k, pn := range r.panels {
			var left *panel
			if k > 0 {
				left = r.panels[k-1]
			}
			rows = append(rows, evalRow{ex: i, alpha: pn.a, left: left, right: pn, f64: f64})
			rows = appendNodes(rows, i, pn, nodes, weights)
		}
		last := r.panels[len(r.panels)-1]
		rows = append(rows, evalRow{ex: i, alpha: 1, left: last, f64: f64})
	}
	for len(rows) > 0 {
		if err := p.evaluate(ctx, tw, exs, rows); err != nil {
			return err
		}
		for _, row := range rows {
			runs[row.ex].evals++
			if row.f64 {
				runs[row.ex].evals64++
			}
		}
		rows = rows[:0]
		for i := range runs {
			r := &runs[i]
			if r.done {
				continue
			}
			if r.target == 0 {
				fb, fx := r.panels[0].fa, r.panels[len(r.panels)-1].fb
				// Relative to f(x) − f(baseline), with a floor at float32's
				// resolution of the logits themselves.
				r.target = max(o.Tolerance*math.Abs(fx-fb), 1e-6*max(1, math.Abs(fx), math.Abs(fb)))
			}
			rows = r.refine(rows, i, o.MaxSteps, nodes, weights)
		}
	}
	for i := range runs {
		r, e, out := &runs[i], &exs[i], &res[i]
		out.fbase, out.fx = r.panels[0].fa, r.panels[len(r.panels)-1].fb
		sum := make([]float64, len(e.x))
		for _, pn := range r.panels {
			for k, v := range pn.vec {
				sum[k] += float64(v)
			}
		}
		total := 0.0
		for k, g := range sum {
			out.attr[k] = g * (float64(e.x[k]) - float64(e.base[k]))
			total += out.attr[k]
		}
		out.delta = total - (out.fx - out.fbase)
		out.evals, out.evals64 = r.evals, r.evals64
		largest := 0.0
		for _, pn := range r.panels {
			if pn.b-pn.a < minPanel64 {
				out.jump += pn.residual()
				if math.Abs(pn.residual()) > largest {
					largest, out.jumpAt = math.Abs(pn.residual()), pn.a
				}
			}
		}
	}
	return nil
}

// refine decides an example's next round: done when its residuals are
// within the target or the budget cannot pay for another halving; else
// the panels with the largest residuals are halved, their evaluations
// appended to rows.
func (r *adaptiveRun) refine(rows []evalRow, ex, budget int, nodes, weights []float64) []evalRow {
	// A panel narrower than minPanel64 is as refined as it gets: a
	// residual left in it is a jump of f that not even float64 resolves,
	// which no gradient follows. The rule stops when the rest has
	// converged rather than spend the budget elsewhere; the delta reports
	// the jump.
	delta, sum, stuck, stuckAbs := 0.0, 0.0, 0.0, 0.0
	for _, pn := range r.panels {
		delta += pn.residual()
		sum += math.Abs(pn.residual())
		if pn.b-pn.a < minPanel64 {
			stuck += pn.residual()
			stuckAbs += math.Abs(pn.residual())
		}
	}
	const cost = 2*panelPoints + 1
	converged := func(delta, sum float64) bool { return math.Abs(delta) <= r.target && sum <= 10*r.target }
	if converged(delta, sum) || converged(delta-stuck, sum-stuckAbs) || r.evals+cost > budget {
		r.done = true
		return rows
	}
	order := slices.Clone(r.panels)
	slices.SortFunc(order, func(x, y *panel) int {
		return cmp.Compare(math.Abs(y.residual()), math.Abs(x.residual()))
	})
	planned, planEvals, left := 0, 0, sum
	for _, pn := range order {
		if pn.b-pn.a < minPanel64 {
			left -= math.Abs(pn.residual())
			continue
		}
		if (planned > 0 && left <= 5*r.target) || planned == maxSplitsPerRound || r.evals+planEvals+r.splitCost(pn) > budget {
			break
		}
		left -= math.Abs(pn.residual())
		planned++
		n := len(rows) + len(r.ends64)
		rows = r.split(rows, ex, pn, nodes, weights)
		planEvals += len(rows) + len(r.ends64) - n
	}
	// The panels each such end now ends: a neighbour may have been
	// halved after the end was planned.
	for _, a := range r.ends64 {
		k, _ := slices.BinarySearchFunc(r.panels, a, func(pn *panel, a float64) int { return cmp.Compare(pn.a, a) })
		row := evalRow{ex: ex, alpha: a, f64: true}
		if k < len(r.panels) && r.panels[k].a == a {
			row.right = r.panels[k]
		}
		if k > 0 && r.panels[k-1].b == a {
			row.left = r.panels[k-1]
		}
		rows = append(rows, row)
	}
	r.ends64 = r.ends64[:0]
	if planned == 0 {
		r.done = true
	}
	return rows
}

// splitCost is the evaluations halving pn takes: its midpoint and both
// halves' points, and, when the halves are the first float64 panels
// there, its ends again in float64.
func (r *adaptiveRun) splitCost(pn *panel) int {
	n := 2*panelPoints + 1
	if (pn.b-pn.a)/2 < float64Below {
		if !pn.fa64 {
			n++
		}
		if !pn.fb64 {
			n++
		}
	}
	return n
}

// split halves pn in place into two panels: its midpoint and both halves'
// points are to be evaluated. Halves narrower than float64Below are
// evaluated in float64, and so are their outer ends, once: each point
// keeps one value of f, shared by the two panels it ends, so that the
// residuals keep summing to delta (a neighbour's residual then includes
// whatever float32 had wrong at the shared end, and is refined in turn).
func (r *adaptiveRun) split(rows []evalRow, ex int, pn *panel, nodes, weights []float64) []evalRow {
	mid := (pn.a + pn.b) / 2
	f64 := pn.f64 || mid-pn.a < float64Below
	right := &panel{a: mid, b: pn.b, fb: pn.fb, f64: f64, fb64: pn.fb64}
	pn.b, pn.q, pn.vec, pn.f64 = mid, 0, nil, f64
	i := slices.Index(r.panels, pn)
	r.panels = slices.Insert(r.panels, i+1, right)
	if f64 && !pn.fa64 {
		if i > 0 {
			r.panels[i-1].fb64 = true
		}
		pn.fa64 = true
		r.ends64 = append(r.ends64, pn.a)
	}
	if f64 && !right.fb64 {
		if i+2 < len(r.panels) {
			r.panels[i+2].fa64 = true
		}
		right.fb64 = true
		r.ends64 = append(r.ends64, right.b)
	}
	pn.fb64, right.fa64 = f64, f64
	rows = append(rows, evalRow{ex: ex, alpha: mid, left: pn, right: right, f64: f64})
	rows = appendNodes(rows, ex, pn, nodes, weights)
	return appendNodes(rows, ex, right, nodes, weights)
}

// appendNodes appends the Gauss–Legendre points of pn.
func appendNodes(rows []evalRow, ex int, pn *panel, nodes, weights []float64) []evalRow {
	quad.Legendre{}.FixedLocations(nodes, weights, pn.a, pn.b)
	for j := range nodes {
		rows = append(rows, evalRow{ex: ex, alpha: nodes[j], p: pn, node: true, w: weights[j], f64: pn.f64})
	}
	return rows
}

// evaluate runs rows: those in float32 on the attribution machines, the
// others on the float64 twin.
func (p *attrPool) evaluate(ctx context.Context, tw *twin, exs []attrExample, rows []evalRow) error {
	var rows32, rows64 []int
	for i := range rows {
		if rows[i].f64 {
			rows64 = append(rows64, i)
		} else {
			rows32 = append(rows32, i)
		}
	}
	err := p.run(ctx, attrTask{
		rows: len(rows32),
		fill: func(i int, ids, point, sel []float32) {
			row := &rows[rows32[i]]
			e := &exs[row.ex]
			copy(ids, e.ids)
			copy(sel, e.sel)
			switch row.alpha {
			case 0:
				copy(point, e.base)
			case 1:
				copy(point, e.x)
			default:
				a := float32(row.alpha)
				for k, b := range e.base {
					point[k] = b + a*(e.x[k]-b)
				}
			}
		},
		done: func(i int, out, grad []float32) {
			row := &rows[rows32[i]]
			record(row, &exs[row.ex], out, grad)
		},
	})
	if err != nil {
		return err
	}
	return tw.evaluate(ctx, exs, rows, rows64)
}

// record takes one evaluation's outputs and gradient: an end's f goes to
// the panels it ends, a point's weighted gradient into its panel.
func record[T float32 | float64](row *evalRow, e *attrExample, out, grad []T) {
	if !row.node {
		f := 0.0
		for j, v := range out {
			f += float64(v) * float64(e.sel[j])
		}
		if row.left != nil {
			row.left.fb = f
		}
		if row.right != nil {
			row.right.fa = f
		}
		return
	}
	pn := row.p
	if pn.vec == nil {
		pn.vec = make([]float32, len(grad))
	}
	h := 0.0
	for k, g := range grad {
		pn.vec[k] += float32(row.w * float64(g))
		h += float64(g) * (float64(e.x[k]) - float64(e.base[k]))
	}
	pn.q += row.w * h
}

// dotSel is the explained logit: the outputs weighted by the target's
// selection.
func dotSel(out, sel []float32) float64 {
	s := 0.0
	for j, v := range out {
		s += float64(v) * float64(sel[j])
	}
	return s
}
