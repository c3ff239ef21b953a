package explain

import (
	"context"
	"runtime"
	"time"

	"github.com/tapeml/tapeml"
)

// TwinCost is what the float64 twin costs on a text model: the time to
// build it, the heap it adds once built and once run, and the time of a
// run of the float64 and of a float32 machine, each filled with rows of
// text's embedding (for TestBuiltinTwin).
type TwinCost struct {
	Build          time.Duration
	BuiltMB, RunMB float64
	Run64, Run32   time.Duration
	Rows64, Rows32 int
}

func MeasureTwin(m *tapeml.Model, text string) (TwinCost, error) {
	var c TwinCost
	ids, err := m.EncodeTexts([]string{text})
	if err != nil {
		return c, err
	}
	p, err := unwrap(m).attribution()
	if err != nil {
		return c, err
	}
	m32, err := p.Get(context.Background())
	if err != nil {
		return c, err
	}
	defer p.Put(m32)
	x, err := m32.Embed(ids)
	if err != nil {
		return c, err
	}
	for r := range m32.N {
		copy(m32.Inputs()[0].Float32s()[r*len(ids):], ids)
		copy(m32.Embedded().Float32s()[r*len(x):], x)
		m32.Select().Float32s()[r*m32.Width()] = 1
	}
	if err := m32.Run(); err != nil { // its allocations before the twin's
		return c, err
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	start := time.Now()
	tw := &twin{pool: p}
	defer tw.release()
	m64, err := tw.machine(context.Background())
	if err != nil {
		return c, err
	}
	c.Build = time.Since(start)
	runtime.GC()
	runtime.ReadMemStats(&after)
	c.BuiltMB = float64(after.HeapAlloc-before.HeapAlloc) / 1e6
	for r := range m64.N {
		for j, v := range ids {
			m64.Inputs()[0].Float64s()[r*len(ids)+j] = float64(v)
		}
		for j, v := range x {
			m64.Embedded().Float64s()[r*len(x)+j] = float64(v)
		}
		m64.Select().Float64s()[r*m64.Width()] = 1
	}
	const runs = 3
	c.Rows64, c.Rows32 = m64.N, m32.N
	for _, mc := range []struct {
		run func() error
		d   *time.Duration
	}{{m64.Run, &c.Run64}, {m32.Run, &c.Run32}} {
		if err := mc.run(); err != nil { // the twin's first run allocates
			return c, err
		}
		start := time.Now()
		for range runs {
			if err := mc.run(); err != nil {
				return c, err
			}
		}
		*mc.d = time.Since(start) / runs
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	c.RunMB = float64(after.HeapAlloc-before.HeapAlloc) / 1e6
	runtime.KeepAlive(m64)
	return c, nil
}
