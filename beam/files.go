package tapebeam

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/io/fileio"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem"
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem/local" // local paths, on every runner
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
	"github.com/tapeml/tapeml"
	"github.com/tapeml/tapeml/predictio"
)

// MaxImageBytes bounds one image file read by ScoreFiles: 64 MiB.
const MaxImageBytes = 64 << 20

func init() {
	beam.RegisterType(reflect.TypeOf((*FileRecord)(nil)).Elem())
	register.DoFn3x1[context.Context, fileio.ReadableFile, func(FileRecord), error](&readRecordsFn{})
	register.DoFn3x1[context.Context, FileRecord, func(string), error](&textsJSONFn{})
	register.DoFn3x1[context.Context, fileio.ReadableFile, func(string), error](&imagesJSONFn{})
	register.DoFn3x1[context.Context, FileRecord, func(string), error](&recommendJSONFn{})
	register.Emitter1[FileRecord]()
	register.Emitter1[string]()
}

// Files is a batch job from input files to one JSONL file, as the
// tapeml-beam command runs it. The zero value of every field but Model,
// Input and Output means its default.
type Files struct {
	Model  string // the model: a checkpoint folder or .safetensors file, local or on a Beam filesystem
	Input  string // a glob of input files on any Beam filesystem (.gz files are decompressed)
	Output string // the JSONL file written (atomically when local)

	// Format is how texts (text models) and user ids (recommenders) are
	// read: predictio.FormatText, a text per line (the default),
	// FormatJSONL or FormatCSV. Image models read each input file as one
	// PNG or JPEG image.
	Format string
	// Column is the JSONL field or CSV column read. Default "text".
	Column string
	// Top is how many classes each image's object lists. Default 3, as
	// `tapeml predict`.
	Top int
	// N is how many items each user gets. Default 10, as
	// `tapeml recommend`.
	N int
	// BatchSize is how many inputs one model call scores, at most.
	// Default DefaultBatchSize (256).
	BatchSize int
}

func (f Files) withDefaults() Files {
	if f.Format == "" {
		f.Format = predictio.FormatText
	}
	if f.Column == "" {
		f.Column = "text"
	}
	if f.Top == 0 {
		f.Top = 3
	}
	if f.N == 0 {
		f.N = 10
	}
	if f.BatchSize == 0 {
		f.BatchSize = DefaultBatchSize
	}
	return f
}

// FileRecord is one text or user id of an input file and where it came
// from.
type FileRecord struct {
	File string // the input file's path
	Line int    // its line (a CSV record's first line)
	Text string // the text, or the raw user id
}

// ScoreFiles adds to s the pipeline that scores every input of job.Input
// with job.Model and writes one JSON object per input to job.Output, in no
// particular order:
//   - text models: `tapeml predict --json`'s object plus "file" (line,
//     prob, probs, label, class, tokens);
//   - image models: `tapeml predict --json`'s object (file, probs, label,
//     class, top);
//   - recommenders: {"file", "line", "user", "recommendations"}, the
//     recommendations being `tapeml recommend --json`'s objects.
//
// It loads the model here, to know its family, so that a bad model path or
// a wrong kind fails before the pipeline runs.
func ScoreFiles(ctx context.Context, s beam.Scope, job Files) error {
	job = job.withDefaults()
	switch {
	case job.Model == "":
		return fmt.Errorf("tapebeam: no model path")
	case job.Input == "":
		return fmt.Errorf("tapebeam: no input files")
	case job.Output == "":
		return fmt.Errorf("tapebeam: no output file")
	case !predictio.ValidFormat(job.Format):
		return fmt.Errorf("tapebeam: input format %q: want text, jsonl or csv", job.Format)
	case job.Top < 1 || job.N < 1 || job.BatchSize < 1:
		return fmt.Errorf("tapebeam: top (%d), n (%d) and batch size (%d) must be at least 1", job.Top, job.N, job.BatchSize)
	}
	for _, p := range []string{job.Input, job.Output} {
		if err := checkScheme(ctx, p); err != nil {
			return err
		}
	}
	if !strings.Contains(job.Output, "://") {
		// Fail now rather than after scoring everything.
		if fi, err := os.Stat(filepath.Dir(job.Output)); err != nil || !fi.IsDir() {
			return fmt.Errorf("tapebeam: output %s: the folder %s does not exist", job.Output, filepath.Dir(job.Output))
		}
	}
	m, err := loadModel(ctx, job.Model)
	if err != nil {
		return err
	}
	s = s.Scope("tapeml.ScoreFiles")
	files := fileio.ReadMatches(s, fileio.MatchFiles(s, job.Input, fileio.MatchEmptyDisallow()))
	var lines beam.PCollection
	// What the model reads decides what the files hold: texts, images, or
	// user ids to recommend to.
	sig := m.Signature()
	switch {
	case sig.Takes("text"):
		records := beam.Reshuffle(s, beam.ParDo(s, &readRecordsFn{Format: job.Format, Column: job.Column}, files))
		lines = beam.ParDo(s, &textsJSONFn{withModel: withModel{ModelPath: job.Model}, BatchSize: job.BatchSize}, records)
	case sig.Takes("image"):
		lines = beam.ParDo(s, &imagesJSONFn{withModel: withModel{ModelPath: job.Model}, BatchSize: job.BatchSize, Top: job.Top}, beam.Reshuffle(s, files))
	case sig.Takes("user") && sig.Takes("n"):
		records := beam.Reshuffle(s, beam.ParDo(s, &readRecordsFn{Format: job.Format, Column: job.Column}, files))
		lines = beam.ParDo(s, &recommendJSONFn{withModel: withModel{ModelPath: job.Model}, N: job.N}, records)
	default:
		return fmt.Errorf("tapebeam: %s: a %s model: not one ScoreFiles scores", job.Model, m.Kind())
	}
	WriteJSONL(s, job.Output, lines)
	return nil
}

// checkScheme fails when no Beam filesystem is registered for path's
// scheme, where Beam's I/O transforms would panic.
func checkScheme(ctx context.Context, path string) error {
	fs, err := filesystem.New(ctx, path)
	if err != nil {
		return fmt.Errorf("tapebeam: %s: %w", path, err)
	}
	return fs.Close()
}

// readRecordsFn reads an input file's texts with predict's readers; bad
// input fails naming the file and line.
type readRecordsFn struct {
	Format, Column string
}

func (f *readRecordsFn) ProcessElement(ctx context.Context, file fileio.ReadableFile, emit func(FileRecord)) error {
	r, err := file.Open(ctx)
	if err != nil {
		return fmt.Errorf("tapebeam: %s: %w", file.Metadata.Path, err)
	}
	defer r.Close()
	path := file.Metadata.Path
	return predictio.ReadRecords(r, path, f.Format, f.Column, func(rec predictio.Record) error {
		emit(FileRecord{File: path, Line: rec.Line, Text: rec.Text})
		return nil
	})
}

// textsJSONFn classifies texts a batch at a time, as classifyTextsFn, and
// emits predict's JSON objects.
type textsJSONFn struct {
	withModel
	BatchSize int

	records []FileRecord
}

func (f *textsJSONFn) ProcessElement(ctx context.Context, rec FileRecord, emit func(string)) error {
	f.records = append(f.records, rec)
	if len(f.records) < f.BatchSize {
		return nil
	}
	return f.flush(ctx, emit)
}

func (f *textsJSONFn) FinishBundle(ctx context.Context, emit func(string)) error {
	return f.flush(ctx, emit)
}

func (f *textsJSONFn) flush(ctx context.Context, emit func(string)) error {
	if len(f.records) == 0 {
		return nil
	}
	defer func() { f.records = f.records[:0] }()
	lines := make([]int, len(f.records))
	texts := make([]string, len(f.records))
	for i, r := range f.records {
		lines[i], texts[i] = r.Line, r.Text
	}
	preds, err := f.model.ClassifyTexts(ctx, texts)
	if err != nil {
		return fmt.Errorf("tapebeam: %s line %d: %w", f.records[0].File, f.records[0].Line, err)
	}
	objs, err := predictio.TextObjects(f.model, lines, texts, preds)
	if err != nil {
		return fmt.Errorf("tapebeam: %s line %d: %w", f.records[0].File, f.records[0].Line, err)
	}
	for i, obj := range objs {
		obj["file"] = f.records[i].File
		if err := emitJSON(obj, emit); err != nil {
			return err
		}
	}
	return nil
}

// imagesJSONFn reads each image file as it arrives and classifies them a
// batch at a time, as classifyImagesFn (a bad image fails naming its file),
// emitting predict's JSON objects.
type imagesJSONFn struct {
	withModel
	BatchSize int
	Top       int

	batch classifyImagesFn // batches and decodes
}

func (f *imagesJSONFn) Setup(ctx context.Context) error {
	if err := f.withModel.Setup(ctx); err != nil {
		return err
	}
	f.batch = classifyImagesFn{withModel: f.withModel, BatchSize: f.BatchSize}
	return nil
}

func (f *imagesJSONFn) ProcessElement(ctx context.Context, file fileio.ReadableFile, emit func(string)) error {
	encoded, err := readBounded(ctx, file, MaxImageBytes)
	if err != nil {
		return err
	}
	return f.withJSON(emit, func(emit func(string, tapeml.Prediction)) error {
		return f.batch.ProcessElement(ctx, file.Metadata.Path, encoded, emit)
	})
}

func (f *imagesJSONFn) FinishBundle(ctx context.Context, emit func(string)) error {
	return f.withJSON(emit, func(emit func(string, tapeml.Prediction)) error {
		return f.batch.FinishBundle(ctx, emit)
	})
}

// withJSON runs score with an emitter that emits predict's JSON object for
// each image.
func (f *imagesJSONFn) withJSON(emit func(string), score func(func(string, tapeml.Prediction)) error) error {
	classes := f.model.Classes()
	var err error
	serr := score(func(file string, p tapeml.Prediction) {
		if err == nil {
			err = emitJSON(predictio.ImageObject(file, p, classes, f.Top), emit)
		}
	})
	if serr != nil {
		return serr
	}
	return err
}

// readBounded reads a whole file, failing past limit bytes.
func readBounded(ctx context.Context, file fileio.ReadableFile, limit int64) ([]byte, error) {
	r, err := file.Open(ctx)
	if err != nil {
		return nil, fmt.Errorf("tapebeam: %s: %w", file.Metadata.Path, err)
	}
	defer r.Close()
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, fmt.Errorf("tapebeam: %s: %w", file.Metadata.Path, err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("tapebeam: %s: larger than %d MiB", file.Metadata.Path, limit>>20)
	}
	return b, nil
}

// recommendJSONFn gives each user `tapeml recommend`'s items.
type recommendJSONFn struct {
	withModel
	N int
}

func (f *recommendJSONFn) ProcessElement(ctx context.Context, rec FileRecord, emit func(string)) error {
	if rec.Text == "" {
		return fmt.Errorf("tapebeam: %s line %d: no user id", rec.File, rec.Line)
	}
	_, recs, err := predictio.Recommend(ctx, f.model, tapeml.RecommendRequest{User: rec.Text, N: f.N})
	if err != nil {
		return fmt.Errorf("tapebeam: %s line %d: user %q: %w", rec.File, rec.Line, rec.Text, err)
	}
	if recs == nil {
		recs = []predictio.Recommendation{}
	}
	return emitJSON(map[string]any{"file": rec.File, "line": rec.Line, "user": rec.Text, "recommendations": recs}, emit)
}

func emitJSON(v any, emit func(string)) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("tapebeam: %w", err)
	}
	emit(string(b))
	return nil
}
