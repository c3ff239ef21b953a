package tapeml

import (
	"context"
	"fmt"
)

// WarmupConcurrent is Warmup for k concurrent callers: it compiles and
// runs min(k, MachinesPerBucket) machines of every batch bucket, so that
// k calls at once, of any size, meet no compilation — a server running k
// batches at a time calls it before it reports a model ready. Call it
// before the model is shared: it holds the machines it warms.
func (m *Model) WarmupConcurrent(ctx context.Context, k int) error {
	if m.run == nil {
		return nil
	}
	if k < 1 {
		return fmt.Errorf("tapeml: WarmupConcurrent: %d callers", k)
	}
	for i, n := range m.run.buckets {
		held := make([]*servingMachine, 0, k)
		var err error
		for range min(k, cap(m.run.pools[i].idle)) {
			if err = ctx.Err(); err != nil {
				break
			}
			var sm *servingMachine
			if sm, err = m.run.get(ctx, i); err != nil {
				break
			}
			held = append(held, sm)
			for _, t := range sm.in {
				clear(t.Float32s())
			}
			if err = sm.m.Run(sm.in, nil); err != nil {
				err = fmt.Errorf("tapeml: warming up batch %d: %w", n, err)
				break
			}
		}
		for _, sm := range held {
			m.run.put(i, sm)
		}
		if err != nil {
			return err
		}
	}
	return nil
}
