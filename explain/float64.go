package explain

import (
	"context"
	"fmt"

	"github.com/tapeml/tapeml/graph"
	"gorgonia.org/tensor"
)

// The adaptive rule's float64 twin. A trained recurrence can move its
// logit by more than 1 within a stretch of the path narrower than one
// float32 step of α (the built-in BiLSTM's transitions are 10⁻¹⁰ to
// 2·10⁻⁸ wide), which no float32 evaluation resolves. Panels narrower
// than float64Below are therefore evaluated by the same evaluation graph
// built in float64, on a float64 copy of the parameters: there α, the
// path's points and the whole forward and backward pass keep 16 digits,
// and the halving goes on down to minPanel64. The twin is made once per
// explanation call, only when a panel needs it, and dropped after, and
// a model has one at a time (other calls wait for it): it
// holds the parameters in float64 (twice their float32 bytes) and one
// machine of twinRows rows (for the built-in BiLSTM, 4.8 million
// parameters, the heap grew by 38 MB when it was built and by 275 MB
// once it had run: TestBuiltinTwin).

// twinRows is the float64 machine's batch: the rows of one halving (9)
// and a few more; float64 rows are few per round.
const twinRows = 16

// twin is a float64 attribution machine, made on first use.
type twin struct {
	pool *attrPool
	held bool // the pool's right to a twin is this one's
	m    *graph.AttributionMachine
}

// machine returns the float64 machine, building it on the first call:
// the evaluation graph compiled on float64 parameters, their values
// copied from the model's. It waits for the model's other twin, if any,
// to be released.
func (t *twin) machine(ctx context.Context) (*graph.AttributionMachine, error) {
	if t.m != nil {
		return t.m, nil
	}
	if !t.held {
		select {
		case t.pool.twins <- struct{}{}:
			t.held = true
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	p64 := graph.NewParams(tensor.Float64, 1)
	t.pool.lock.Lock()
	m, err := graph.CompileAttribution(t.pool.build, p64, twinRows)
	t.pool.lock.Unlock()
	if err != nil {
		return nil, fmt.Errorf("explain: compiling the float64 attribution graph: %w", err)
	}
	for _, q := range p64.List() {
		src := t.pool.params.Get(q.Name)
		if src == nil || src.Value == nil || !src.Value.Shape().Eq(q.Value.Shape()) {
			return nil, fmt.Errorf("explain: the float64 attribution graph's parameter %q %v has no counterpart in the model", q.Name, q.Value.Shape())
		}
		dst := q.Value.Float64s()
		switch s := src.Value.Data().(type) {
		case []float32:
			for i, v := range s {
				dst[i] = float64(v)
			}
		case []float64:
			copy(dst, s)
		default:
			return nil, fmt.Errorf("explain: parameter %q holds %T, not floats", q.Name, s)
		}
	}
	t.m = m
	return m, nil
}

// release drops the machine and gives the model's right to a twin back.
func (t *twin) release() {
	t.m = nil
	if t.held {
		t.held = false
		<-t.pool.twins
	}
}

// evaluate runs rows (indices into all) on the float64 machine and
// records them as the float32 path does (record).
func (t *twin) evaluate(ctx context.Context, exs []attrExample, all []evalRow, rows []int) error {
	if len(rows) == 0 {
		return nil
	}
	m, err := t.machine(ctx)
	if err != nil {
		return err
	}
	var ids, points []float64
	if pt := m.Embedded(); pt != nil {
		ids, points = m.Inputs()[0].Float64s(), pt.Float64s()
	} else {
		points = m.Inputs()[0].Float64s()
	}
	sel := m.Select().Float64s()
	pw, k := len(points)/m.N, m.Width()
	iw := 0
	if ids != nil {
		iw = len(ids) / m.N
	}
	for from := 0; from < len(rows); from += m.N {
		if err := ctx.Err(); err != nil {
			return err
		}
		n := min(m.N, len(rows)-from)
		for r := range n {
			row := &all[rows[from+r]]
			e := &exs[row.ex]
			if ids != nil {
				for j, v := range e.ids {
					ids[r*iw+j] = float64(v)
				}
			}
			for j, v := range e.sel {
				sel[r*k+j] = float64(v)
			}
			point := points[r*pw : (r+1)*pw]
			for j, b := range e.base {
				// α and the point in float64: the point of this piece of
				// the path that float32 cannot tell from its neighbours.
				point[j] = float64(b) + row.alpha*(float64(e.x[j])-float64(b))
			}
		}
		clear(points[n*pw:])
		clear(sel[n*k:])
		if ids != nil {
			clear(ids[n*iw:])
		}
		if err := m.Run(); err != nil {
			return err
		}
		out, grad := m.Output().Float64s(), m.Grad().Float64s()
		for r := range n {
			row := &all[rows[from+r]]
			record(row, &exs[row.ex], out[r*k:(r+1)*k], grad[r*pw:(r+1)*pw])
		}
	}
	return nil
}
