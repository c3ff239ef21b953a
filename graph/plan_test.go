package graph_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"gorgonia.org/tensor"

	"github.com/tapeml/tapeml/graph"
	kern "github.com/tapeml/tapeml/internal/kernel"
	"github.com/tapeml/tapeml/kinds"
	"github.com/tapeml/tapeml/models/convnet"
	"github.com/tapeml/tapeml/models/fasttext"
	"github.com/tapeml/tapeml/models/lstm"
	"github.com/tapeml/tapeml/models/mf"
	"github.com/tapeml/tapeml/models/textcnn"
	"github.com/tapeml/tapeml/models/transformer"
	"github.com/tapeml/tapeml/recommender"
)

// planModel is a built-in network with random weights and a maker of
// valid inputs for it.
type planModel struct {
	name   string
	build  graph.BuildFunc
	params *graph.Params
	inputs func(rng *rand.Rand, n int) []*tensor.Dense
}

// texts makes [n, maxLen] token ids below vocab with a random amount of
// 'pre' padding (some texts empty, some full).
func texts(maxLen, vocab int) func(rng *rand.Rand, n int) []*tensor.Dense {
	return func(rng *rand.Rand, n int) []*tensor.Dense {
		v := make([]float32, n*maxLen)
		for i := range n {
			pad := rng.IntN(maxLen + 1)
			for j := pad; j < maxLen; j++ {
				v[i*maxLen+j] = float32(1 + rng.IntN(vocab-1))
			}
		}
		return []*tensor.Dense{tensor.New(tensor.WithShape(n, maxLen), tensor.WithBacking(v))}
	}
}

// planModels are the built-in kinds' networks (both TextCNN
// architectures, both ConvNet normalizations, two transformer layouts),
// at their default sizes but for shorter texts, smaller vocabularies and
// images, with seeded random
// weights; with int8, every weight quantize would quantize has its int8
// form, convolution input scales calibrated on a batch.
func planModels(t *testing.T, int8 bool) []planModel {
	t.Helper()
	// Vocabularies are smaller than the defaults: the tables' random
	// initialization would take most of the test's time.
	kim := textcnn.DefaultConfig()
	kim.NumWords = 5000
	seed := textcnn.SeedConfig()
	conv := convnet.DefaultConfig()
	conv.Height, conv.Width = 16, 16
	groupNorm := conv
	groupNorm.Norm = convnet.NormGroup
	lstmCfg := lstm.DefaultConfig()
	lstmCfg.MaxLen, lstmCfg.NumWords = 40, 5000
	tf := transformer.DefaultConfig()
	tf.MaxLen = 64
	preLN := tf
	preLN.Norm, preLN.Pooling = transformer.PreLN, transformer.CLS
	ft := fasttext.DefaultConfig()
	ft.MaxLen, ft.NumWords, ft.Buckets = 100, 5000, 5000
	mfCfg := mf.DefaultConfig(50, 40)
	images := func(c convnet.Config) func(rng *rand.Rand, n int) []*tensor.Dense {
		return func(rng *rand.Rand, n int) []*tensor.Dense {
			v := make([]float32, n*c.Channels*c.Height*c.Width)
			for i := range v {
				v[i] = float32(rng.NormFloat64())
			}
			return []*tensor.Dense{tensor.New(tensor.WithShape(n, c.Channels, c.Height, c.Width), tensor.WithBacking(v))}
		}
	}
	cases := []struct {
		name   string
		cfg    kinds.Config
		inputs func(rng *rand.Rand, n int) []*tensor.Dense
	}{
		{"textcnn", &kim, texts(kim.MaxLen, kim.NumWords)},
		{"textcnn-seed", &seed, texts(seed.MaxLen, seed.NumWords)},
		{"lstm", &lstmCfg, texts(lstmCfg.MaxLen, lstmCfg.NumWords)},
		{"convnet", &conv, images(conv)},
		{"convnet-groupnorm", &groupNorm, images(groupNorm)},
		{"transformer", &tf, texts(tf.MaxLen, tf.VocabSize)},
		{"transformer-preln-cls", &preLN, texts(preLN.MaxLen, preLN.VocabSize)},
		{"fasttext", &ft, texts(ft.MaxLen, ft.NumWords)},
		{"recsys-mf", &recommender.Config{Algorithm: recommender.AlgoMF, MF: &mfCfg}, func(rng *rand.Rand, n int) []*tensor.Dense {
			u, it := make([]float32, n), make([]float32, n)
			for i := range n {
				u[i], it[i] = float32(rng.IntN(mfCfg.Users)), float32(rng.IntN(mfCfg.Items))
			}
			return []*tensor.Dense{tensor.New(tensor.WithShape(n, 1), tensor.WithBacking(u)), tensor.New(tensor.WithShape(n, 1), tensor.WithBacking(it))}
		}},
	}
	var out []planModel
	for i, c := range cases {
		net, err := c.cfg.Network()
		if err != nil {
			t.Fatal(err)
		}
		ps := graph.NewParams(tensor.Float32, uint64(i+1))
		if err := graph.Materialize(net.Build, ps); err != nil {
			t.Fatal(err)
		}
		for _, p := range ps.List() { // batch norm statistics away from the identity
			if strings.HasSuffix(p.Name, ".running_var") || strings.HasSuffix(p.Name, ".running_mean") {
				for j := range p.Value.Float32s() {
					p.Value.Float32s()[j] += 0.5 + 0.01*float32(j%7)
				}
			}
		}
		m := planModel{name: c.name, build: net.Build, params: ps, inputs: c.inputs}
		if int8 {
			m.name += "-int8"
			quantizeAll(t, m)
		}
		out = append(out, m)
	}
	return out
}

// quantizeAll gives m's Linear, convolution and LSTM weights their int8
// forms, as quantize.Int8 writes them: convolutions with the input scale
// a calibration batch records, the embedding a TextCNN convolution reads
// with that one scale.
func quantizeAll(t *testing.T, m planModel) {
	t.Helper()
	specs, err := graph.ParamShapes(m.build)
	if err != nil {
		t.Fatal(err)
	}
	m.params.Calibrate()
	cm, err := graph.Compile(m.build, nil, m.params, nil, 8, graph.Infer)
	if err != nil {
		t.Fatal(err)
	}
	if err := cm.Run(m.inputs(rand.New(rand.NewPCG(9, 9)), 8), nil); err != nil {
		t.Fatal(err)
	}
	calib := m.params.Calibration()
	for _, s := range specs {
		p := m.params.Get(s.Name)
		w := p.Value.Float32s()
		switch s.Role {
		case graph.RoleLinear, graph.RoleLSTM:
			m.params.SetQuantized(s.Name, graph.QuantizeRows(w, s.Shape))
		case graph.RoleConv:
			q := graph.QuantizeRows(w, s.Shape)
			if c := calib[s.Name]; c > 0 {
				q.InputScale = float32(c / 127)
			}
			m.params.SetQuantized(s.Name, q)
		case graph.RoleEmbedding:
			if c := calib[s.Name]; c > 0 {
				m.params.SetQuantized(s.Name, graph.QuantizeWithScale(w, s.Shape, float32(c/127)))
			}
		}
	}
}

// TestPlanParity checks that every built-in kind's serving machine runs a
// plan, and that the plan's outputs are the tape machine's, bit for bit,
// at batch 1, 3 and 32, over successive runs with different inputs (the
// plan's buffers are shared and reused), in float32 and int8.
func TestPlanParity(t *testing.T) {
	for _, int8 := range []bool{false, true} {
		for _, m := range planModels(t, int8) {
			t.Run(m.name, func(t *testing.T) {
				rng := rand.New(rand.NewPCG(1, 2))
				batches := []int{1, 3, 32}
				if slowKernels() {
					batches = batches[:2]
				}
				for _, n := range batches {
					plan, err := graph.Compile(m.build, nil, m.params, nil, n, graph.Infer)
					if err != nil {
						t.Fatal(err)
					}
					if !plan.Planned() {
						t.Fatalf("batch %d: the serving machine runs on the tape", n)
					}
					tape, err := graph.CompileTape(m.build, m.params, n)
					if err != nil {
						t.Fatal(err)
					}
					for run := range 3 {
						in := m.inputs(rng, n)
						if err := tape.Run(in, nil); err != nil {
							t.Fatal(err)
						}
						if err := plan.Run(in, nil); err != nil {
							t.Fatal(err)
						}
						want, got := tape.Output(), plan.Output()
						if !want.Shape().Eq(got.Shape()) {
							t.Fatalf("batch %d: plan output %v, tape %v", n, got.Shape(), want.Shape())
						}
						for i, w := range want.Float32s() {
							if g := got.Float32s()[i]; math.Float32bits(g) != math.Float32bits(w) {
								t.Fatalf("batch %d run %d: output %d is %v, the tape's %v", n, run, i, g, w)
							}
						}
					}
				}
			})
		}
	}
}

// TestPlanAllocations checks that a warm plan allocates nothing per run,
// kernels included, at batch 1 and 32, for every built-in kind in float32
// and int8: on one thread, and on GOMAXPROCS threads, where the kernels
// fork over the helpers; and after garbage collections, which would empty
// a cache of scratch kept in a sync.Pool. Without the packed product
// (level generic, or -tags purego) the float32 products are gonum's
// Sgemm, which allocates at every call, and the kernels that serve then
// (the unfused TextCNN layers) were not made allocation-free: the counts
// are only logged.
func TestPlanAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("allocations are counted without the race detector, which slows the models tenfold")
	}
	defer graph.SetMaxThreads(graph.SetMaxThreads(0))
	for _, int8 := range []bool{false, true} {
		for _, m := range planModels(t, int8) {
			t.Run(m.name, func(t *testing.T) {
				report := t.Errorf
				if !kern.Packed() {
					report = t.Logf
				}
				rng := rand.New(rand.NewPCG(3, 4))
				batches := []int{1, 32}
				if slowKernels() {
					batches = batches[:1]
				}
				for _, n := range batches {
					mach, err := graph.Compile(m.build, nil, m.params, nil, n, graph.Infer)
					if err != nil {
						t.Fatal(err)
					}
					in := m.inputs(rng, n)
					var runErr error
					run := func() {
						if err := mach.Run(in, nil); err != nil {
							runErr = err
						}
					}
					for _, threads := range []int{1, 0} { // 0: GOMAXPROCS, whose helpers run parts
						graph.SetMaxThreads(threads)
						run() // warm-up: packing, scratch, fork jobs
						run()
						allocs, where := allocsPerRun(10, false, run)
						if runErr != nil {
							t.Fatal(runErr)
						}
						if allocs != 0 {
							report("batch %d, %d threads (0: all): %v allocations per run, %s", n, threads, allocs, where)
						}
					}
					if n == batches[0] {
						allocs, where := allocsPerRun(2, true, run)
						if allocs != 0 {
							report("batch %d: %v allocations per run after garbage collections, %s", n, allocs, where)
						}
					}
				}
			})
		}
	}
}

// allocsPerRun counts the heap objects allocated by runs calls of f,
// divided by runs (rounded down), like testing.AllocsPerRun but without
// its GOMAXPROCS of 1, under which the kernels would not fork; with gc,
// each call comes after two garbage collections, which empty the
// sync.Pools a kernel might keep scratch in. It also says where most
// were made. It counts from the heap profile, leaving out what
// the runtime allocates for itself: a goroutine that parks on a channel
// after a collection takes a new sudog (the collection emptied the
// runtime's cache of them: any helper that falls asleep does), and the
// runtime's own goroutines grow their timer heaps.
func allocsPerRun(runs int, gc bool, f func()) (uint64, string) {
	defer func(rate int) { runtime.MemProfileRate = rate }(runtime.MemProfileRate)
	// The profile shows allocations as of the last completed collection
	// but one: two collections publish everything before the runs.
	runtime.MemProfileRate = 0
	runtime.GC()
	runtime.GC()
	before := heapAllocs()
	runtime.MemProfileRate = 1 // every allocation of the runs
	for range runs {
		if gc {
			runtime.GC()
			runtime.GC()
		}
		f()
	}
	runtime.MemProfileRate = 0
	runtime.GC()
	runtime.GC()
	var n, most int64
	where := ""
	for stack, objects := range heapAllocs() {
		if d := objects - before[stack]; d > 0 && !runtimeOwn(stack) && !strings.Contains(stack, "heapAllocs") {
			n += d
			if d > most {
				most, where = d, "most at "+stack
			}
		}
	}
	return uint64(n) / uint64(runs), where
}

// heapAllocs returns the heap profile's allocated objects by stack (the
// stack's functions, innermost first, joined with " < ").
func heapAllocs() map[string]int64 {
	var records []runtime.MemProfileRecord
	n, _ := runtime.MemProfile(nil, true)
	for {
		records = make([]runtime.MemProfileRecord, n+50)
		var ok bool
		if n, ok = runtime.MemProfile(records, true); ok {
			records = records[:n]
			break
		}
	}
	out := make(map[string]int64, len(records))
	for _, r := range records {
		var names []string
		frames := runtime.CallersFrames(r.Stack())
		for {
			f, more := frames.Next()
			names = append(names, f.Function)
			if !more {
				break
			}
		}
		out[strings.Join(names, " < ")] += r.AllocObjects
	}
	return out
}

// runtimeOwn reports whether an allocation's stack is the runtime's own:
// a sudog for a parking goroutine, or a goroutine of the runtime's with no
// frame outside it.
func runtimeOwn(stack string) bool {
	if strings.Contains(stack, "runtime.acquireSudog") {
		return true
	}
	for _, f := range strings.Split(stack, " < ") {
		if !strings.HasPrefix(f, "runtime.") {
			return false
		}
	}
	return true
}

// TestPlanHostileInputs checks that a plan refuses what the tape refused:
// inputs of the wrong number, shape or type, and ids outside the
// vocabulary (the kernel's error, named by the kernel), and that it runs
// correctly again afterwards.
func TestPlanHostileInputs(t *testing.T) {
	cfg := lstm.DefaultConfig()
	cfg.MaxLen, cfg.NumWords, cfg.Hidden = 12, 30, 8
	net, err := cfg.Network()
	if err != nil {
		t.Fatal(err)
	}
	ps := graph.NewParams(tensor.Float32, 1)
	if err := graph.Materialize(net.Build, ps); err != nil {
		t.Fatal(err)
	}
	plan, err := graph.Compile(net.Build, nil, ps, nil, 2, graph.Infer)
	if err != nil {
		t.Fatal(err)
	}
	tape, err := graph.CompileTape(net.Build, ps, 2)
	if err != nil {
		t.Fatal(err)
	}
	good := texts(cfg.MaxLen, cfg.NumWords)(rand.New(rand.NewPCG(1, 1)), 2)
	bad := good[0].Clone().(*tensor.Dense)
	bad.Float32s()[5] = 30
	for _, c := range []struct {
		name string
		in   []*tensor.Dense
		want string
	}{
		{"no inputs", nil, "takes 1 inputs, got 0"},
		{"nil input", []*tensor.Dense{nil}, `input "ids" is missing`},
		{"wrong shape", []*tensor.Dense{tensor.New(tensor.WithShape(3, 12), tensor.Of(tensor.Float32))}, "has shape (3, 12), the machine was built for (2, 12)"},
		{"wrong type", []*tensor.Dense{tensor.New(tensor.WithShape(2, 12), tensor.Of(tensor.Float64))}, "the machine takes a dense float32 one"},
		{"id out of range", []*tensor.Dense{bad}, "token id 30 at position 5 is outside [0, 30)"},
	} {
		for _, m := range []*graph.Machine{tape, plan} {
			err := m.Run(c.in, nil)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("%s (planned %t): error %v, want %q", c.name, m.Planned(), err, c.want)
			}
		}
	}
	for _, m := range []*graph.Machine{tape, plan} {
		if err := m.Run(good, nil); err != nil {
			t.Fatal(err)
		}
	}
	for i, w := range tape.Output().Float32s() {
		if g := plan.Output().Float32s()[i]; g != w {
			t.Fatalf("after bad inputs, output %d is %v, the tape's %v", i, g, w)
		}
	}
}

// BenchmarkPlan times the reference models (tapemltest's configurations,
// random weights) on their serving machines at batch 1 and 32, the plan
// and the tape taking turns within each iteration so that both meet the
// same load, and reports each one's median time per batch and their
// ratio.
//
//	go test -run '^$' -bench Plan -benchtime 200x ./graph
func BenchmarkPlan(b *testing.B) {
	tf := transformer.DefaultConfig()
	tf.MaxLen = 128
	for _, c := range []struct {
		name   string
		cfg    kinds.Config
		inputs func(rng *rand.Rand, n int) []*tensor.Dense
	}{
		{"textcnn", ptr(textcnn.DefaultConfig()), texts(textcnn.DefaultConfig().MaxLen, textcnn.DefaultConfig().NumWords)},
		{"lstm", ptr(lstm.DefaultConfig()), texts(lstm.DefaultConfig().MaxLen, lstm.DefaultConfig().NumWords)},
		{"convnet", ptr(convnet.DefaultConfig()), func(rng *rand.Rand, n int) []*tensor.Dense {
			v := make([]float32, n*3*32*32)
			for i := range v {
				v[i] = float32(rng.NormFloat64())
			}
			return []*tensor.Dense{tensor.New(tensor.WithShape(n, 3, 32, 32), tensor.WithBacking(v))}
		}},
		{"transformer", &tf, texts(tf.MaxLen, tf.VocabSize)},
	} {
		net, err := c.cfg.Network()
		if err != nil {
			b.Fatal(err)
		}
		ps := graph.NewParams(tensor.Float32, 1)
		if err := graph.Materialize(net.Build, ps); err != nil {
			b.Fatal(err)
		}
		for _, n := range []int{1, 32} {
			b.Run(fmt.Sprintf("%s/batch%d", c.name, n), func(b *testing.B) {
				plan, err := graph.Compile(net.Build, nil, ps, nil, n, graph.Infer)
				if err != nil {
					b.Fatal(err)
				}
				tape, err := graph.CompileTape(net.Build, ps, n)
				if err != nil {
					b.Fatal(err)
				}
				in := c.inputs(rand.New(rand.NewPCG(1, 2)), n)
				var spent [2][]time.Duration
				for b.Loop() {
					for i, m := range []*graph.Machine{tape, plan} {
						start := time.Now()
						if err := m.Run(in, nil); err != nil {
							b.Fatal(err)
						}
						spent[i] = append(spent[i], time.Since(start))
					}
				}
				med := func(d []time.Duration) float64 {
					slices.Sort(d)
					return float64(d[len(d)/2].Microseconds())
				}
				tp, pl := med(spent[0]), med(spent[1])
				b.ReportMetric(tp, "tape-p50-µs")
				b.ReportMetric(pl, "plan-p50-µs")
				b.ReportMetric(pl/tp, "plan/tape")
			})
		}
	}
}

func ptr[T any](v T) *T { return &v }

// slowKernels reports whether the kernels are the pure-Go ones or run
// under the race detector, ten- to twentyfold slower: the plan tests then
// leave batch 32 out.
func slowKernels() bool { return raceEnabled || !kern.Packed() }
