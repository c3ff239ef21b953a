package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem/s3" // s3:// (gs:// and local come with beamx)
	"github.com/apache/beam/sdks/v2/go/pkg/beam/x/beamx"
	tapebeam "github.com/tapeml/tapeml/beam"
	"github.com/tapeml/tapeml/predictio"
)

// usageError is a mistake on the command line: exit status 2, as tapeml's.
type usageError struct{ error }

func main() {
	job := registerFlags(flag.CommandLine)
	flag.Usage = func() {
		fmt.Fprintln(flag.CommandLine.Output(), "usage: tapeml-beam --model PATH --input GLOB --output FILE [--input-format text|jsonl|csv] [--text-column NAME] [--top K] [-n N] [--batch B] [Beam flags: --runner prism|dataflow|flink|spark|universal ...]")
		flag.PrintDefaults()
	}
	flag.Parse()
	// A worker started by a runner (Dataflow, Flink) runs the harness here
	// and never returns.
	beam.Init()
	if err := run(context.Background(), job, flag.Args(), beamx.Run); err != nil {
		fmt.Fprintf(os.Stderr, "tapeml-beam: %v\n", err)
		if errors.As(err, new(usageError)) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

// registerFlags defines the job's flags on fs; Beam's own are on the
// default flag set already.
func registerFlags(fs *flag.FlagSet) *tapebeam.Files {
	job := &tapebeam.Files{}
	fs.StringVar(&job.Model, "model", "", "the model: checkpoint folder, run folder or .safetensors file, local or on a Beam filesystem (gs://, s3://)")
	fs.StringVar(&job.Input, "input", "", "a glob of input files (.gz decompressed): texts or user ids, or one PNG/JPEG image per file for image models")
	fs.StringVar(&job.Output, "output", "", "the JSONL file to write, one object per input (written atomically when local)")
	fs.StringVar(&job.Format, "input-format", predictio.FormatText, "texts and user ids: text (one per line), jsonl (an object per line) or csv (with a header row)")
	fs.StringVar(&job.Column, "text-column", "text", "the JSONL field or CSV column holding the text or user id")
	fs.IntVar(&job.Top, "top", 3, "image models: how many classes each object lists")
	fs.IntVar(&job.N, "n", 10, "recommenders: how many items per user")
	fs.IntVar(&job.BatchSize, "batch", tapebeam.DefaultBatchSize, "inputs scored together, at most")
	return job
}

// run builds the pipeline for job and runs it with runPipeline.
func run(ctx context.Context, job *tapebeam.Files, args []string, runPipeline func(context.Context, *beam.Pipeline) error) error {
	switch {
	case len(args) > 0:
		return usageError{fmt.Errorf("unexpected arguments %q: inputs come from --input", args)}
	case job.Model == "":
		return usageError{fmt.Errorf("--model is required")}
	case job.Input == "":
		return usageError{fmt.Errorf("--input is required")}
	case job.Output == "":
		return usageError{fmt.Errorf("--output is required")}
	case !predictio.ValidFormat(job.Format):
		return usageError{fmt.Errorf("--input-format %q: want text, jsonl or csv", job.Format)}
	case job.Top < 1:
		return usageError{fmt.Errorf("--top must be at least 1, got %d", job.Top)}
	case job.N < 1:
		return usageError{fmt.Errorf("-n must be at least 1, got %d", job.N)}
	case job.BatchSize < 1:
		return usageError{fmt.Errorf("--batch must be at least 1, got %d", job.BatchSize)}
	}
	p, s := beam.NewPipelineWithRoot()
	if err := tapebeam.ScoreFiles(ctx, s, *job); err != nil {
		return err
	}
	return runPipeline(ctx, p)
}
