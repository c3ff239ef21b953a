package tapeml_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/color"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/tapeml/tapeml/internal/core"
	"github.com/tapeml/tapeml/metrics"
	_ "github.com/tapeml/tapeml/models/all"
	"github.com/tapeml/tapeml/recommender"
	"github.com/tapeml/tapeml/tapemltest"

	"gorgonia.org/tensor"

	"github.com/tapeml/tapeml"
	"github.com/tapeml/tapeml/api"
	"github.com/tapeml/tapeml/graph"
	"github.com/tapeml/tapeml/kinds"
)

// The legacy fixtures are checkpoints written by tapeml before the
// inference runtime existed (commit c102591), with the predictions that
// version's `tapeml predict --json` and `tapeml recommend --json` printed
// for them: tiny models trained on tiny data, so that the files stay small.
const legacy = "testdata/legacy"

var legacyTexts = []string{"win free cash now", "meeting tomorrow with the team", "", "claim your bonus prize, click"}

type legacyPrediction struct {
	Class  string  `json:"class"`
	Label  int     `json:"label"`
	Prob   float64 `json:"prob"` // P(positive class), as the old predict printed it
	Tokens []int   `json:"tokens"`
}

func readJSONL[T any](t *testing.T, path string) []T {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []T
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var v T
		if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		out = append(out, v)
	}
	return out
}

func TestLegacyTextCheckpoints(t *testing.T) {
	for _, path := range []string{"textcnn", "lstm", "textcnn.safetensors"} {
		t.Run(path, func(t *testing.T) {
			m, err := tapeml.Load(filepath.Join(legacy, path))
			if err != nil {
				t.Fatal(err)
			}
			want := readJSONL[legacyPrediction](t, filepath.Join(legacy, strings.TrimSuffix(path, ".safetensors")+".predict.jsonl"))
			got, err := m.ClassifyTexts(context.Background(), legacyTexts)
			if err != nil {
				t.Fatal(err)
			}
			ids, err := m.EncodeTexts(legacyTexts)
			if err != nil {
				t.Fatal(err)
			}
			width := len(ids) / len(legacyTexts)
			for i, w := range want {
				g := got[i]
				pos := g.Probs[1] // classes are [ham spam]; spam is positive
				if g.Class != w.Class || g.Label != w.Label || math.Abs(float64(pos)-w.Prob) > 1e-6 {
					t.Errorf("text %d: %s %d P(spam)=%v, the old predict said %s %d %v", i, g.Class, g.Label, pos, w.Class, w.Label, w.Prob)
				}
				if g.Prob != g.Probs[g.Label] || math.Abs(float64(g.Probs[0]+g.Probs[1])-1) > 1e-6 {
					t.Errorf("text %d: Prob %v is not Probs[%d] of %v", i, g.Prob, g.Label, g.Probs)
				}
				for j, id := range w.Tokens {
					if int(ids[i*width+j]) != id {
						t.Fatalf("text %d: token ids %v, the old predict fed %v", i, ids[i*width:(i+1)*width], w.Tokens)
					}
				}
			}
		})
	}
}

func TestLegacyRecommenders(t *testing.T) {
	type rec struct {
		ID    string  `json:"id"`
		Score float64 `json:"score"`
	}
	for _, algo := range []string{"mf", "knn"} {
		t.Run(algo, func(t *testing.T) {
			m, err := tapeml.Load(filepath.Join(legacy, algo))
			if err != nil {
				t.Fatal(err)
			}
			if m.Kind() != recommender.Kind || m.Algo() != algo {
				t.Fatalf("kind %s algo %s", m.Kind(), m.Algo())
			}
			want := readJSONL[rec](t, filepath.Join(legacy, algo+".recommend.jsonl"))
			got, err := m.Recommend(context.Background(), "3", len(want))
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(want) {
				t.Fatalf("%d items, want %d", len(got), len(want))
			}
			for i := range want {
				if got[i].Item != want[i].ID || math.Abs(float64(got[i].Score)-want[i].Score) > 1e-6 {
					t.Errorf("item %d: %s %v, the old recommend said %s %v", i, got[i].Item, got[i].Score, want[i].ID, want[i].Score)
				}
			}
			r, err := m.PredictRatings(context.Background(), []tapeml.UserItem{{User: "3", Item: want[0].ID}, {User: "nobody", Item: want[0].ID}, {User: "3", Item: "no such item"}})
			if err != nil {
				t.Fatal(err)
			}
			for _, v := range r {
				if !(v >= 0.5 && v <= 5) {
					t.Errorf("predicted rating %v outside the scale", v)
				}
			}
		})
	}
}

// convnetCheckpoint saves a small ConvNet (see tapemltest.SmallConvNet).
func convnetCheckpoint(t testing.TB, channels int) string {
	t.Helper()
	path, err := tapemltest.SmallConvNet(t.TempDir(), channels)
	if err != nil {
		t.Fatal(err)
	}
	return path
}

// pixels returns n deterministic gray 8×8 images as raw values and as
// image.Image.
func pixels(n, seed int) ([]float32, []image.Image) { return tapemltest.GrayPixels(n, seed) }

func TestClassifyImages(t *testing.T) {
	m, err := tapeml.Load(convnetCheckpoint(t, 1))
	if err != nil {
		t.Fatal(err)
	}
	raw, imgs := pixels(5, 1)
	a, err := m.ClassifyImages(context.Background(), imgs)
	if err != nil {
		t.Fatal(err)
	}
	b, err := m.ClassifyPixels(context.Background(), raw, 5)
	if err != nil {
		t.Fatal(err)
	}
	for i := range a {
		if a[i].Label != b[i].Label || math.Abs(float64(a[i].Prob-b[i].Prob)) > 1e-6 {
			t.Errorf("image %d: ClassifyImages %+v, ClassifyPixels %+v", i, a[i], b[i])
		}
		var s float32
		for _, p := range a[i].Probs {
			s += p
		}
		if len(a[i].Probs) != 3 || math.Abs(float64(s)-1) > 1e-5 || a[i].Class != m.Classes()[a[i].Label] {
			t.Errorf("image %d: %+v", i, a[i])
		}
	}
	// The serving graph (batch norm folded) agrees with the evaluation
	// graph that training validates with.
	l := core.Unwrap(m).Loaded
	prog := graph.NewProgram(l.Network.Build, l.Network.Loss, l.Params, nil)
	ev, err := prog.Machine(5, graph.Eval)
	if err != nil {
		t.Fatal(err)
	}
	x, err := l.Codec.(kinds.ImageEncoder).NormalizePixels(raw, 5)
	if err != nil {
		t.Fatal(err)
	}
	if err := ev.Run([]*tensor.Dense{tensor.New(tensor.WithShape(5, 1, 8, 8), tensor.WithBacking(x))}, tensor.New(tensor.WithShape(5), tensor.Of(tensor.Float32))); err != nil {
		t.Fatal(err)
	}
	want := metrics.Probabilities(l.Network.Task(), ev.Output().Float32s(), 3)
	for i := range a {
		for j, p := range a[i].Probs {
			if math.Abs(float64(p-want[i*3+j])) > 1e-5 {
				t.Fatalf("image %d class %d: serving %v, evaluation graph %v", i, j, p, want[i*3+j])
			}
		}
	}
}

// Any number of goroutines may share one model: 16 goroutines, each making
// many calls of mixed sizes, get exactly the serial results. Run with -race.
func TestConcurrentUse(t *testing.T) {
	text, err := tapeml.Load(filepath.Join(legacy, "lstm"))
	if err != nil {
		t.Fatal(err)
	}
	img, err := tapeml.Load(convnetCheckpoint(t, 1))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	texts := make([]string, 70)
	for i := range texts {
		texts[i] = strings.Repeat(legacyTexts[i%len(legacyTexts)]+" ", 1+i%3) + fmt.Sprint(i)
	}
	raw, _ := pixels(70, 2)
	serialText, err := text.ClassifyTexts(ctx, texts)
	if err != nil {
		t.Fatal(err)
	}
	serialImg, err := img.ClassifyPixels(ctx, raw, 70)
	if err != nil {
		t.Fatal(err)
	}
	calls := 12
	if testing.Short() {
		calls = 4
	}
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for g := range 16 {
		wg.Go(func() {
			for c := range calls {
				from := (g*7 + c*5) % 60
				to := from + 1 + (g+c)%(70-from)
				if (g+c)%2 == 0 {
					got, err := text.ClassifyTexts(ctx, texts[from:to])
					if err != nil {
						errs <- err
						return
					}
					for i, p := range got {
						if p.Probs[0] != serialText[from+i].Probs[0] {
							errs <- fmt.Errorf("goroutine %d: text %d: %v, serially %v", g, from+i, p.Probs, serialText[from+i].Probs)
							return
						}
					}
					continue
				}
				got, err := img.ClassifyPixels(ctx, raw[from*64:to*64], to-from)
				if err != nil {
					errs <- err
					return
				}
				for i, p := range got {
					for j := range p.Probs {
						if p.Probs[j] != serialImg[from+i].Probs[j] {
							errs <- fmt.Errorf("goroutine %d: image %d: %v, serially %v", g, from+i, p.Probs, serialImg[from+i].Probs)
							return
						}
					}
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// Requests of every size from 1 to 300 compile at most one machine per
// batch bucket and concurrent caller, not one per size.
func TestCompiledMachinesBounded(t *testing.T) {
	m, err := tapeml.LoadWithOptions(filepath.Join(legacy, "textcnn"), tapeml.Options{MaxBatch: 32, MachinesPerBucket: 2})
	if err != nil {
		t.Fatal(err)
	}
	texts := make([]string, 300)
	for i := range texts {
		texts[i] = legacyTexts[i%len(legacyTexts)]
	}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for n := 1 + g; n <= 300; n += 4 {
				if _, err := m.ClassifyTexts(context.Background(), texts[:n]); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	const buckets = 6 // 1, 2, 4, 8, 16, 32
	if got := m.CompiledMachines(); got > buckets*2 || got < buckets {
		t.Fatalf("%d compiled machines, want between %d and %d", got, buckets, buckets*2)
	}
}

// threeKinds loads a model of each family: the legacy TextCNN, a
// grayscale convnet and the legacy kNN recommender.
func threeKinds(t *testing.T) (text, gray, rec *tapeml.Model) {
	t.Helper()
	var err error
	for _, m := range []struct {
		into **tapeml.Model
		path string
	}{{&text, filepath.Join(legacy, "textcnn")}, {&gray, convnetCheckpoint(t, 1)}, {&rec, filepath.Join(legacy, "knn")}} {
		if *m.into, err = tapeml.Load(m.path); err != nil {
			t.Fatal(err)
		}
	}
	return text, gray, rec
}

func TestBadInput(t *testing.T) {
	ctx := context.Background()
	text, gray, rec := threeKinds(t)
	colour := image.NewRGBA(image.Rect(0, 0, 8, 8))
	for i := range 64 {
		colour.Set(i%8, i/8, color.RGBA{R: uint8(i * 4), G: 10, B: 200, A: 255})
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	_, imgs := pixels(1, 0)
	cases := []struct {
		name string
		call func() error
		want string
	}{
		{"texts to an image model", func() error { _, err := gray.ClassifyTexts(ctx, []string{"hi"}); return err }, "ClassifyTexts needs a text model"},
		{"images to a text model", func() error { _, err := text.ClassifyImages(ctx, imgs); return err }, "is a textcnn model"},
		{"recommend on a classifier", func() error { _, err := text.Recommend(ctx, "1", 3); return err }, "Recommend needs a recommender"},
		{"ratings on a classifier", func() error {
			_, err := gray.PredictRatings(ctx, []tapeml.UserItem{{User: "1", Item: "2"}})
			return err
		}, "is a convnet model"},
		{"texts to a recommender", func() error { _, err := rec.ClassifyTexts(ctx, []string{"x"}); return err }, "is a recsys (knn) model"},
		{"forward on kNN", func() error { _, err := rec.Forward(ctx, nil, 1); return err }, "Forward needs a network"},
		{"empty text list", func() error { _, err := text.ClassifyTexts(ctx, nil); return err }, "no texts"},
		{"empty image list", func() error { _, err := gray.ClassifyImages(ctx, nil); return err }, "no images"},
		{"colour image to a grayscale model", func() error { _, err := gray.ClassifyImages(ctx, []image.Image{imgs[0], colour}); return err }, "image 1"},
		{"nil image", func() error { _, err := gray.ClassifyImages(ctx, []image.Image{nil}); return err }, "image 0: image of 0 pixels"},
		{"pixels of the wrong size", func() error { _, err := gray.ClassifyPixels(ctx, make([]float32, 63), 1); return err }, "63 values for 1 images of 1×8×8"},
		{"pixel out of range", func() error {
			x := make([]float32, 64)
			x[5] = 300
			_, err := gray.ClassifyPixels(ctx, x, 1)
			return err
		}, "pixel value 300 at position 5 is outside [0, 255]"},
		{"NaN pixel", func() error {
			x := make([]float32, 64)
			x[3] = float32(math.NaN())
			_, err := gray.ClassifyPixels(ctx, x, 1)
			return err
		}, "position 3"},
		{"n 0 recommendations", func() error { _, err := rec.Recommend(ctx, "1", 0); return err }, "n must be at least 1"},
		{"no pairs", func() error { _, err := rec.PredictRatings(ctx, nil); return err }, "no pairs"},
		{"cancelled context, texts", func() error { _, err := text.ClassifyTexts(cancelled, []string{"a"}); return err }, context.Canceled.Error()},
		{"cancelled context, images", func() error { _, err := gray.ClassifyImages(cancelled, imgs); return err }, context.Canceled.Error()},
		{"cancelled context, recommend", func() error { _, err := rec.Recommend(cancelled, "1", 2); return err }, context.Canceled.Error()},
		{"missing path", func() error { _, err := tapeml.Load(filepath.Join(t.TempDir(), "nothing")); return err }, "no such file"},
		{"not a model file", func() error { _, err := tapeml.Load(filepath.Join(legacy, "textcnn.predict.jsonl")); return err }, "not a checkpoint folder"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.call()
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want one containing %q", err, c.want)
			}
			if strings.Contains(c.name, "cancelled") && !errors.Is(err, context.Canceled) {
				t.Fatalf("error %v is not context.Canceled", err)
			}
		})
	}
}

// TestNonFiniteOutputs: finite weights that overflow give an error, never
// a NaN answer — for the texts that hold the word, through every way in;
// a model that overflows on the warm-up's zero inputs fails to warm up.
func TestNonFiniteOutputs(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	win := filepath.Join(dir, "win")
	if err := tapemltest.Overflowing(filepath.Join(legacy, "textcnn"), win, 31); err != nil { // 31: "win"
		t.Fatal(err)
	}
	m, err := tapeml.Load(win)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.WarmupConcurrent(ctx, 2); err != nil {
		t.Fatalf("warm-up (padding is finite): %v", err)
	}
	if _, err := m.ClassifyTexts(ctx, []string{"meeting tomorrow"}); err != nil {
		t.Fatalf("a text without the word: %v", err)
	}
	var nf *api.NonFiniteError
	_, err = m.ClassifyTexts(ctx, []string{"meeting tomorrow", "win free cash now"})
	if !errors.As(err, &nf) || nf.Example != 1 {
		t.Fatalf("ClassifyTexts: %v, want a NonFiniteError for example 1", err)
	}
	if _, err := m.Infer(ctx, []api.Tensor{api.Strings("text", []string{"win"})}); !errors.As(err, &nf) {
		t.Fatalf("Infer: %v, want a NonFiniteError", err)
	}
	pad := filepath.Join(dir, "pad")
	if err := tapemltest.Overflowing(filepath.Join(legacy, "textcnn"), pad, 0); err != nil {
		t.Fatal(err)
	}
	m, err = tapeml.Load(pad)
	if err == nil {
		err = m.Warmup(ctx)
	}
	if !errors.As(err, &nf) || !strings.Contains(err.Error(), "zero inputs") {
		t.Fatalf("a model overflowing on padding: %v, want a warm-up error", err)
	}
}
