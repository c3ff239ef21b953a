package tapebeam

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
	"github.com/tapeml/tapeml/atomicfile"
)

func init() {
	register.DoFn3x1[context.Context, []byte, func(*string) bool, error](&writeJSONLFn{})
	register.Iter1[string]()
}

// WriteJSONL writes lines, a PCollection<string>, to the file at path, one
// per line: a local file atomically (a failed job leaves no partial
// file), a file on another Beam filesystem when the job ends. A job
// without lines fails rather than writing an empty file.
func WriteJSONL(s beam.Scope, path string, lines beam.PCollection) {
	s = s.Scope("tapeml.WriteJSONL")
	filesystem.ValidateScheme(path)
	// One writer reads every line as an iterable side input, so it runs
	// once, lines or none.
	beam.ParDo0(s, &writeJSONLFn{Path: path}, beam.Impulse(s), beam.SideInput{Input: lines})
}

type writeJSONLFn struct {
	Path string
}

func (f *writeJSONLFn) ProcessElement(ctx context.Context, _ []byte, lines func(*string) bool) error {
	n := 0
	write := func(w io.Writer) error {
		bw := bufio.NewWriterSize(w, 1<<20)
		var line string
		for lines(&line) {
			bw.WriteString(line)
			if err := bw.WriteByte('\n'); err != nil {
				return err
			}
			n++
		}
		if n == 0 {
			return fmt.Errorf("no inputs: nothing to write")
		}
		return bw.Flush()
	}
	var err error
	if strings.Contains(f.Path, "://") {
		err = writeRemote(ctx, f.Path, write)
	} else {
		err = atomicfile.WriteFile(f.Path, write)
	}
	if err != nil {
		return fmt.Errorf("tapebeam: writing %s: %w", f.Path, err)
	}
	return nil
}

// writeRemote writes a file on a Beam filesystem; object stores publish it
// when it is closed.
func writeRemote(ctx context.Context, path string, write func(io.Writer) error) error {
	fs, err := filesystem.New(ctx, path)
	if err != nil {
		return err
	}
	defer fs.Close()
	w, err := fs.OpenWrite(ctx, path)
	if err != nil {
		return err
	}
	if err := write(w); err != nil {
		w.Close()
		return err
	}
	return w.Close()
}
