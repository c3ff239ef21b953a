package tapebeam

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/passert"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/ptest"
	"github.com/tapeml/tapeml"
	"github.com/tapeml/tapeml/imagedata"
	"github.com/tapeml/tapeml/tapemltest"
)

// The committed fixtures of the core module.
const (
	textModel = "../testdata/legacy/textcnn"
	mfModel   = "../testdata/legacy/mf"
	knnModel  = "../testdata/legacy/knn"
)

func init() {
	register.Function2x0(splitKey)
	register.Function3x0(bytesKey)
	register.Function2x1(predictionLine)
	register.Function2x1(recommendationLine)
	register.Emitter2[string, []byte]()
}

// Tests run on Prism, in process (ptest's default runner).
func TestMain(m *testing.M) {
	code := ptest.MainRetWithDefault(m, "prism")
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// splitKey turns "key\ttext" into KV<key, text>.
func splitKey(s string, emit func(string, string)) {
	k, v, _ := strings.Cut(s, "\t")
	emit(k, v)
}

// bytesKey turns "key\ttext" into KV<key, []byte(text)>.
func bytesKey(_ context.Context, s string, emit func(string, []byte)) {
	k, v, _ := strings.Cut(s, "\t")
	emit(k, []byte(v))
}

func predictionLine(key string, p tapeml.Prediction) string { return key + "\t" + mustJSON(p) }

func recommendationLine(key string, r []tapeml.Recommendation) string {
	return key + "\t" + mustJSON(r)
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// texts are n seeded texts: words of the spam/ham kind, unknown words,
// punctuation, Unicode, empty texts and texts past the model's length.
func texts(n int) []string {
	words := []string{"win", "free", "prize", "click", "now", "meeting", "see", "you", "at", "the",
		"money", "offer", "tomorrow", "lunch", "report", "urgent", "account", "verify", "café", "ünïcode",
		"zzyzx", "!!!", "$$$", "http://x.example/a?b=c", "RE:", "the", "a", "and"}
	r := rand.New(rand.NewPCG(17, 1))
	out := make([]string, n)
	for i := range out {
		k := r.IntN(30)
		if i%97 == 0 {
			k = 0
		}
		ws := make([]string, k)
		for j := range ws {
			ws[j] = words[r.IntN(len(words))]
			if r.IntN(5) == 0 {
				ws[j] = strings.ToUpper(ws[j])
			}
		}
		out[i] = strings.Join(ws, " ")
	}
	return out
}

func keyed[T any](vals []T, val func(T) string) []string {
	out := make([]string, len(vals))
	for i, v := range vals {
		out[i] = fmt.Sprintf("k%05d\t%s", i, val(v))
	}
	return out
}

// TestClassifyTextsMatchesLibrary: the transform's predictions, batch by
// batch across bundles, equal one library call over every text.
func TestClassifyTextsMatchesLibrary(t *testing.T) {
	in := texts(3000)
	m, err := tapeml.Load(textModel)
	if err != nil {
		t.Fatal(err)
	}
	preds, err := m.ClassifyTexts(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	want := make([]string, len(in))
	for i, p := range preds {
		want[i] = predictionLine(fmt.Sprintf("k%05d", i), p)
	}
	p, s := beam.NewPipelineWithRoot()
	kv := beam.ParDo(s, splitKey, beam.CreateList(s, keyed(in, func(s string) string { return s })))
	got := beam.ParDo(s, predictionLine, ClassifyTexts(s, textModel, kv, Config{BatchSize: 100}))
	passert.Equals(s, got, toAny(want)...)
	if err := ptest.Run(p); err != nil {
		t.Fatal(err)
	}
}

func toAny(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}

// TestClassifyImagesMatchesLibrary: likewise for an image model, the
// images arriving encoded.
func TestClassifyImagesMatchesLibrary(t *testing.T) {
	ckpt, err := tapemltest.SmallConvNet(t.TempDir(), 3)
	if err != nil {
		t.Fatal(err)
	}
	encoded := pngs(t, 60)
	m, err := tapeml.Load(ckpt)
	if err != nil {
		t.Fatal(err)
	}
	imgs := make([]image.Image, len(encoded))
	for i, b := range encoded {
		if imgs[i], err = imagedata.DecodeImage(b); err != nil {
			t.Fatal(err)
		}
	}
	preds, err := m.ClassifyImages(context.Background(), imgs)
	if err != nil {
		t.Fatal(err)
	}
	var want []any
	for i, p := range preds {
		want = append(want, predictionLine(fmt.Sprintf("k%05d", i), p))
	}
	p, s := beam.NewPipelineWithRoot()
	kv := beam.ParDo(s, bytesKey, beam.CreateList(s, keyed(encoded, func(b []byte) string { return string(b) })))
	passert.Equals(s, beam.ParDo(s, predictionLine, ClassifyImages(s, ckpt, kv, Config{BatchSize: 16})), want...)
	if err := ptest.Run(p); err != nil {
		t.Fatal(err)
	}
}

// pngs are n seeded PNG images, most of them 8×8, some larger (resized),
// some grayscale.
func pngs(t *testing.T, n int) [][]byte {
	r := rand.New(rand.NewPCG(3, 4))
	out := make([][]byte, n)
	for i := range out {
		size := 8
		if i%7 == 0 {
			size = 13
		}
		var img image.Image
		if i%5 == 0 {
			g := image.NewGray(image.Rect(0, 0, size, size))
			for j := range g.Pix {
				g.Pix[j] = uint8(r.IntN(256))
			}
			img = g
		} else {
			c := image.NewRGBA(image.Rect(0, 0, size, size))
			for y := range size {
				for x := range size {
					c.Set(x, y, color.RGBA{uint8(r.IntN(256)), uint8(r.IntN(256)), uint8(r.IntN(256)), 255})
				}
			}
			img = c
		}
		var buf bytes.Buffer
		if err := png.Encode(&buf, img); err != nil {
			t.Fatal(err)
		}
		out[i] = buf.Bytes()
	}
	return out
}

// TestRecommendMatchesLibrary: every training user and an unknown one get
// the library's recommendations.
func TestRecommendMatchesLibrary(t *testing.T) {
	users := recsysUsers()
	for _, ckpt := range []string{mfModel, knnModel} {
		t.Run(filepath.Base(ckpt), func(t *testing.T) {
			m, err := tapeml.Load(ckpt)
			if err != nil {
				t.Fatal(err)
			}
			var want []any
			for i, u := range users {
				recs, err := m.Recommend(context.Background(), u, 5)
				if err != nil {
					t.Fatal(err)
				}
				want = append(want, recommendationLine(fmt.Sprintf("k%05d", i), recs))
			}
			p, s := beam.NewPipelineWithRoot()
			kv := beam.ParDo(s, splitKey, beam.CreateList(s, keyed(users, func(s string) string { return s })))
			passert.Equals(s, beam.ParDo(s, recommendationLine, Recommend(s, ckpt, kv, 5)), want...)
			if err := ptest.Run(p); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// recsysUsers are the fixtures' 20 training users and one without ratings.
func recsysUsers() []string {
	var users []string
	for u := 1; u <= 20; u++ {
		users = append(users, fmt.Sprint(u))
	}
	return append(users, "no-such-user")
}

// TestScoreFilesTextsMatchPredict: the JSONL written from text and JSONL
// files is, object for object, what `tapeml predict --json` prints for
// each file, plus the file's path.
func TestScoreFilesTextsMatchPredict(t *testing.T) {
	in := texts(3000)
	dir := t.TempDir()
	plain := filepath.Join(dir, "in", "a.txt")
	var jsonl bytes.Buffer
	for _, s := range in[1500:] {
		jsonl.WriteString(mustJSON(map[string]any{"id": 1, "text": s}) + "\n")
	}
	writeFile(t, plain, strings.Join(in[:1500], "\n")+"\n")
	jsonlPath := filepath.Join(dir, "jsonl", "b.jsonl")
	writeFile(t, jsonlPath, jsonl.String())

	for _, c := range []struct{ input, format string }{
		{plain, "text"},
		{filepath.Join(dir, "jsonl", "*.jsonl"), "jsonl"},
	} {
		out := filepath.Join(dir, "out-"+c.format+".jsonl")
		runScoreFiles(t, Files{Model: textModel, Input: c.input, Output: out, Format: c.format, BatchSize: 128})
		file := plain
		if c.format == "jsonl" {
			file = jsonlPath
		}
		want := byLine(t, strings.Join(tapemlLines(t, readFile(t, file), "predict", "--checkpoint", textModel, "--json", "--input-format", c.format), "\n"), "")
		got := byLine(t, readFile(t, out), file)
		if len(got) != 1500 || len(want) != 1500 {
			t.Fatalf("%s: %d objects from Beam, %d from predict; want 1500", c.format, len(got), len(want))
		}
		for line, w := range want {
			if got[line] != w {
				t.Fatalf("%s line %d:\nbeam    %s\npredict %s", c.format, line, got[line], w)
			}
		}
	}
}

// TestScoreFilesImagesMatchPredict: image files give predict's objects.
func TestScoreFilesImagesMatchPredict(t *testing.T) {
	dir := t.TempDir()
	ckpt, err := tapemltest.SmallConvNet(dir, 3)
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	for i, b := range pngs(t, 40) {
		p := filepath.Join(dir, "img", fmt.Sprintf("%03d.png", i))
		writeFile(t, p, string(b))
		paths = append(paths, p)
	}
	out := filepath.Join(dir, "out.jsonl")
	runScoreFiles(t, Files{Model: ckpt, Input: filepath.Join(dir, "img", "*.png"), Output: out, BatchSize: 16})
	want := sortedLines(strings.Join(tapemlLines(t, "", append([]string{"predict", "--checkpoint", ckpt, "--json"}, paths...)...), "\n"))
	got := sortedLines(readFile(t, out))
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("beam:\n%s\npredict:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestScoreFilesRecommendMatchesRecommend: each user's recommendations are
// `tapeml recommend --json`'s objects, in its order.
func TestScoreFilesRecommendMatchesRecommend(t *testing.T) {
	users := recsysUsers()
	for _, ckpt := range []string{mfModel, knnModel} {
		t.Run(filepath.Base(ckpt), func(t *testing.T) {
			dir := t.TempDir()
			in := filepath.Join(dir, "users.txt")
			writeFile(t, in, strings.Join(users, "\n")+"\n")
			out := filepath.Join(dir, "out.jsonl")
			runScoreFiles(t, Files{Model: ckpt, Input: in, Output: out, N: 4})
			got := map[string]string{}
			for _, l := range strings.Split(strings.TrimSpace(readFile(t, out)), "\n") {
				var obj struct {
					File, User string
					Line       int
					Recs       []json.RawMessage `json:"recommendations"`
				}
				if err := json.Unmarshal([]byte(l), &obj); err != nil {
					t.Fatal(err)
				}
				if obj.File != in || users[obj.Line-1] != obj.User {
					t.Fatalf("object %s: not joined to its input", l)
				}
				var lines []string
				for _, r := range obj.Recs {
					lines = append(lines, string(r))
				}
				got[obj.User] = strings.Join(lines, "\n")
			}
			for _, u := range users {
				want := strings.Join(tapemlLines(t, "", "recommend", "--checkpoint", ckpt, "--json", "--user", u, "-n", "4"), "\n")
				if got[u] != want || want == "" {
					t.Fatalf("user %s:\nbeam      %s\nrecommend %s", u, got[u], want)
				}
			}
		})
	}
}

// TestBadInput: each bad input fails with an error naming what is wrong,
// not a panic and not a partial output file.
func TestBadInput(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.txt")
	writeFile(t, good, "hello\n")
	badJSONL := filepath.Join(dir, "bad.jsonl")
	writeFile(t, badJSONL, `{"text":"fine"}`+"\n"+`{"text": oops}`+"\n")
	noField := filepath.Join(dir, "nofield.jsonl")
	writeFile(t, noField, `{"body":"x"}`+"\n")
	badUTF8 := filepath.Join(dir, "latin1.txt")
	writeFile(t, badUTF8, "ok\ncaf\xe9\n")
	blankUser := filepath.Join(dir, "users.txt")
	writeFile(t, blankUser, "1\n\n2\n")
	empty := filepath.Join(dir, "empty.txt")
	writeFile(t, empty, "")
	imgDir := filepath.Join(dir, "img")
	writeFile(t, filepath.Join(imgDir, "broken.png"), "\x89PNG not really")
	ckpt, err := tapemltest.SmallConvNet(dir, 3)
	if err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "no-such-model")
	for _, c := range []struct {
		name     string
		job      Files
		build    bool   // the error comes from ScoreFiles, before the pipeline runs
		wantText string // the error names this
	}{
		{"missing model", Files{Model: missing, Input: good}, true, missing},
		{"no model", Files{Input: good}, true, "no model path"},
		{"bad format", Files{Model: textModel, Input: good, Format: "xml"}, true, `input format "xml"`},
		{"malformed JSONL line", Files{Model: textModel, Input: badJSONL, Format: "jsonl"}, false, badJSONL + " line 2: not a JSON object"},
		{"missing field", Files{Model: textModel, Input: noField, Format: "jsonl"}, false, noField + ` line 1: no "text" field`},
		{"not UTF-8", Files{Model: textModel, Input: badUTF8}, false, badUTF8 + " line 2 is not valid UTF-8"},
		{"no input files", Files{Model: textModel, Input: filepath.Join(dir, "none-*.txt")}, false, "none-*.txt"},
		{"empty input", Files{Model: textModel, Input: empty}, false, "no inputs"},
		{"broken image", Files{Model: ckpt, Input: filepath.Join(imgDir, "*.png")}, false, "broken.png"},
		{"empty user id", Files{Model: mfModel, Input: blankUser}, false, blankUser + " line 2: no user id"},
		{"no output folder", Files{Model: textModel, Input: good, Output: filepath.Join(dir, "nope", "out.jsonl")}, true, filepath.Join(dir, "nope")},
		{"bad n", Files{Model: textModel, Input: good, N: -1}, true, "must be at least 1"},
	} {
		t.Run(c.name, func(t *testing.T) {
			out := filepath.Join(dir, strings.ReplaceAll(c.name, " ", "-")+".jsonl")
			if c.job.Output == "" {
				c.job.Output = out
			}
			p, s := beam.NewPipelineWithRoot()
			err := ScoreFiles(context.Background(), s, c.job)
			if c.build {
				if err == nil || !strings.Contains(err.Error(), c.wantText) {
					t.Fatalf("ScoreFiles: %v; want an error naming %q", err, c.wantText)
				}
				return
			}
			if err != nil {
				t.Fatalf("ScoreFiles: %v", err)
			}
			err = ptest.Run(p)
			if err == nil || !strings.Contains(err.Error(), c.wantText) {
				t.Fatalf("run: %v; want an error naming %q", err, c.wantText)
			}
			if _, serr := os.Stat(out); !os.IsNotExist(serr) {
				t.Fatalf("%s exists after a failed job", out)
			}
		})
	}
}

// TestClassifyTextsMissingModel: the transform's worker fails naming the
// model path.
func TestClassifyTextsMissingModel(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "gone")
	p, s := beam.NewPipelineWithRoot()
	kv := beam.ParDo(s, splitKey, beam.Create(s, "k\thello"))
	ClassifyTexts(s, missing, kv)
	if err := ptest.Run(p); err == nil || !strings.Contains(err.Error(), missing) {
		t.Fatalf("run: %v; want an error naming %s", err, missing)
	}
}

func runScoreFiles(t testing.TB, job Files) {
	t.Helper()
	p, s := beam.NewPipelineWithRoot()
	if err := ScoreFiles(context.Background(), s, job); err != nil {
		t.Fatal(err)
	}
	if err := ptest.Run(p); err != nil {
		t.Fatal(err)
	}
}

// byLine maps each object of jsonl, without "file" (which must be file;
// "" for predict's objects, which have none), to its input line,
// re-encoded the same way for both.
func byLine(t testing.TB, jsonl, file string) map[int]string {
	t.Helper()
	out := map[int]string{}
	for _, l := range strings.Split(strings.TrimSpace(jsonl), "\n") {
		var obj map[string]any
		dec := json.NewDecoder(strings.NewReader(l))
		dec.UseNumber()
		if err := dec.Decode(&obj); err != nil {
			t.Fatal(err)
		}
		if f, _ := obj["file"].(string); f != file {
			t.Fatalf("object %s: file is not %s", l, file)
		}
		delete(obj, "file")
		line, err := obj["line"].(json.Number).Int64()
		if err != nil {
			t.Fatal(err)
		}
		out[int(line)] = mustJSON(obj)
	}
	return out
}

// tapemlLines runs the tapeml command with stdin and returns its output
// lines.
func tapemlLines(t testing.TB, stdin string, args ...string) []string {
	t.Helper()
	cmd := exec.Command(tapemlBinary(t), args...)
	cmd.Stdin = strings.NewReader(stdin)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("tapeml %s: %v\n%s", strings.Join(args, " "), err, stderr.Bytes())
	}
	var lines []string
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<26)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	return lines
}

func sortedLines(s string) []string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	sort.Strings(lines)
	return lines
}

var (
	binOnce  sync.Once
	binDir   string
	binPath  string
	binError error
)

// tapemlBinary builds the core module's cmd/tapeml once per test run.
func tapemlBinary(t testing.TB) string {
	t.Helper()
	binOnce.Do(func() {
		if binDir, binError = os.MkdirTemp("", "tapeml-beam-"); binError != nil {
			return
		}
		binPath = filepath.Join(binDir, "tapeml")
		cmd := exec.Command("go", "build", "-o", binPath, "./cmd/tapeml")
		cmd.Dir = ".." // the core module
		if out, err := cmd.CombinedOutput(); err != nil {
			binError = fmt.Errorf("go build ./cmd/tapeml: %v\n%s", err, out)
		}
	})
	if binError != nil {
		t.Fatal(binError)
	}
	return binPath
}

func writeFile(t testing.TB, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func readFile(t testing.TB, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
