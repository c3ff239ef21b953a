package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/ptest"
	tapebeam "github.com/tapeml/tapeml/beam"
)

const textModel = "../../../testdata/legacy/textcnn"

func TestMain(m *testing.M) { ptest.MainWithDefault(m, "prism") }

func prism(_ context.Context, p *beam.Pipeline) error { return ptest.Run(p) }

// parse parses args as the command line does.
func parse(t *testing.T, args ...string) (*tapebeam.Files, []string) {
	t.Helper()
	fs := flag.NewFlagSet("tapeml-beam", flag.ContinueOnError)
	job := registerFlags(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	return job, fs.Args()
}

// TestRunCSV: a CSV file's texts are scored on Prism, one object per row,
// joined to its line.
func TestRunCSV(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "mail.csv")
	if err := os.WriteFile(in, []byte("id,text\n1,WIN a FREE prize\n2,\"see you at\nthe meeting\"\n3,\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out.jsonl")
	job, args := parse(t, "--model", textModel, "--input", in, "--input-format", "csv", "--output", out)
	if err := run(context.Background(), job, args, prism); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	lines := map[int]bool{}
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var obj struct {
			File  string
			Line  int
			Class string
		}
		if err := json.Unmarshal([]byte(l), &obj); err != nil {
			t.Fatal(err)
		}
		if obj.File != in || obj.Class == "" {
			t.Fatalf("object %s", l)
		}
		lines[obj.Line] = true
	}
	if len(lines) != 3 || !lines[2] || !lines[3] || !lines[5] {
		t.Fatalf("lines %v; want the records' lines 2, 3 and 5", lines)
	}
}

// TestUsage: a mistake on the command line is a usage error (exit 2)
// naming the flag, before any pipeline runs.
func TestUsage(t *testing.T) {
	never := func(context.Context, *beam.Pipeline) error { t.Fatal("the pipeline ran"); return nil }
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--input", "x", "--output", "y"}, "--model is required"},
		{[]string{"--model", textModel, "--output", "y"}, "--input is required"},
		{[]string{"--model", textModel, "--input", "x"}, "--output is required"},
		{[]string{"--model", textModel, "--input", "x", "--output", "y", "--input-format", "xml"}, `--input-format "xml"`},
		{[]string{"--model", textModel, "--input", "x", "--output", "y", "--batch", "0"}, "--batch must be at least 1"},
		{[]string{"--model", textModel, "--input", "x", "--output", "y", "-n", "0"}, "-n must be at least 1"},
		{[]string{"--model", textModel, "--input", "x", "--output", "y", "stray"}, "unexpected arguments"},
	} {
		job, args := parse(t, c.args...)
		err := run(context.Background(), job, args, never)
		if err == nil || !strings.Contains(err.Error(), c.want) || !errors.As(err, new(usageError)) {
			t.Errorf("%q: %v; want a usage error naming %q", c.args, err, c.want)
		}
	}
}

// TestMissingModel: a missing model fails before the pipeline runs, naming
// the path, and is not a usage error.
func TestMissingModel(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "gone")
	job, args := parse(t, "--model", missing, "--input", filepath.Join(dir, "*.txt"), "--output", filepath.Join(dir, "o.jsonl"))
	err := run(context.Background(), job, args, func(context.Context, *beam.Pipeline) error { t.Fatal("the pipeline ran"); return nil })
	if err == nil || !strings.Contains(err.Error(), missing) || errors.As(err, new(usageError)) {
		t.Fatalf("%v; want an error naming %s", err, missing)
	}
}
