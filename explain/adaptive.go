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
// a quadrature point falls on it.

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
	// minPanel is the narrowest panel the rule halves: below it, float32
	// does not resolve the points along the path.
	minPanel = 1e-7
	// adaptiveMemory bounds the panel vectors held at once, in bytes:
	// examples are refined in groups that fit.
	adaptiveMemory = 256 << 20
)

// panel is one piece [a, b] of an example's path.
type panel struct {
	a, b   float64
	fa, fb float64   // the explained logit at the ends
	q      float64   // the quadrature of the completeness integrand
	vec    []float32 // the quadrature of the gradient, per element of x
}

func (p *panel) residual() float64 { return p.q - (p.fb - p.fa) }

// adaptiveRun is one example's refinement.
type adaptiveRun struct {
	panels []*panel
	evals  int
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
}

// adaptive computes IG by the adaptive rule, filling res (attr, fx, fbase,
// delta, evals).
func (p *attrPool) adaptive(ctx context.Context, o Options, exs []attrExample, res []attrResult) error {
	if len(exs) == 0 {
		return nil
	}
	// The most panels an example can reach, and so how many fit in memory.
	maxPanels := firstPanels + (o.MaxSteps-minAdaptiveSteps)/(2*panelPoints+1)
	group := max(1, adaptiveMemory/(maxPanels*len(exs[0].x)*4*2))
	for from := 0; from < len(exs); from += group {
		to := min(len(exs), from+group)
		if err := p.adaptiveGroup(ctx, o, exs[from:to], res[from:to]); err != nil {
			return err
		}
	}
	return nil
}

func (p *attrPool) adaptiveGroup(ctx context.Context, o Options, exs []attrExample, res []attrResult) error {
	nodes, weights := make([]float64, panelPoints), make([]float64, panelPoints)
	runs := make([]adaptiveRun, len(exs))
	var rows []evalRow
	// The first round: equal panels, their points and all their ends.
	for i := range exs {
		r := &runs[i]
		for k := range firstPanels {
			r.panels = append(r.panels, &panel{a: float64(k) / firstPanels, b: float64(k+1) / firstPanels})
		}
		for k, pn := range r.panels {
			var left *panel
			if k > 0 {
				left = r.panels[k-1]
			}
			rows = append(rows, evalRow{ex: i, alpha: pn.a, left: left, right: pn})
			rows = appendNodes(rows, i, pn, nodes, weights)
		}
		last := r.panels[len(r.panels)-1]
		rows = append(rows, evalRow{ex: i, alpha: 1, left: last})
	}
	for len(rows) > 0 {
		if err := p.evaluate(ctx, exs, rows); err != nil {
			return err
		}
		for _, row := range rows {
			runs[row.ex].evals++
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
		out.evals = r.evals
		largest := 0.0
		for _, pn := range r.panels {
			if pn.b-pn.a < minPanel {
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
	// A panel narrower than minPanel is as refined as it gets: float32
	// barely resolves the path's points there, so a residual left in it
	// is a jump of f itself (a trained recurrence can jump by more than
	// a logit between neighbouring float32 inputs), which no gradient
	// follows. The rule stops when the rest has converged rather than
	// spend the budget elsewhere; the delta reports the jump.
	delta, sum, stuck, stuckAbs := 0.0, 0.0, 0.0, 0.0
	for _, pn := range r.panels {
		delta += pn.residual()
		sum += math.Abs(pn.residual())
		if pn.b-pn.a < minPanel {
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
	planned, left := 0, sum
	for _, pn := range order {
		if pn.b-pn.a < minPanel {
			left -= math.Abs(pn.residual())
			continue
		}
		if (planned > 0 && left <= 5*r.target) || planned == maxSplitsPerRound || r.evals+(planned+1)*cost > budget {
			break
		}
		left -= math.Abs(pn.residual())
		planned++
		rows = r.split(rows, ex, pn, nodes, weights)
	}
	if planned == 0 {
		r.done = true
	}
	return rows
}

// split halves pn in place into two panels: its midpoint and both halves'
// points are to be evaluated.
func (r *adaptiveRun) split(rows []evalRow, ex int, pn *panel, nodes, weights []float64) []evalRow {
	mid := (pn.a + pn.b) / 2
	right := &panel{a: mid, b: pn.b, fb: pn.fb}
	pn.b, pn.q, pn.vec = mid, 0, nil
	i := slices.Index(r.panels, pn)
	r.panels = slices.Insert(r.panels, i+1, right)
	rows = append(rows, evalRow{ex: ex, alpha: mid, left: pn, right: right})
	rows = appendNodes(rows, ex, pn, nodes, weights)
	return appendNodes(rows, ex, right, nodes, weights)
}

// appendNodes appends the Gauss–Legendre points of pn.
func appendNodes(rows []evalRow, ex int, pn *panel, nodes, weights []float64) []evalRow {
	quad.Legendre{}.FixedLocations(nodes, weights, pn.a, pn.b)
	for j := range nodes {
		rows = append(rows, evalRow{ex: ex, alpha: nodes[j], p: pn, node: true, w: weights[j]})
	}
	return rows
}

// evaluate runs rows on the attribution machines: ends record f, points
// add their weighted gradient to their panel.
func (p *attrPool) evaluate(ctx context.Context, exs []attrExample, rows []evalRow) error {
	return p.run(ctx, attrTask{
		rows: len(rows),
		fill: func(i int, ids, point, sel []float32) {
			row := &rows[i]
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
			row := &rows[i]
			e := &exs[row.ex]
			if !row.node {
				f := dotSel(out, e.sel)
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
		},
	})
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
