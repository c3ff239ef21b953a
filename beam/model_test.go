package tapebeam

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem/memfs"
	"github.com/tapeml/tapeml"
)

// putModel copies the checkpoint folder dir into memfs under prefix.
func putModel(t *testing.T, dir, prefix string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		memfs.Write(prefix+"/"+e.Name(), b)
	}
}

// TestModelFromFilesystem: a checkpoint folder and a .safetensors file on
// a Beam filesystem load as the local ones and predict the same.
func TestModelFromFilesystem(t *testing.T) {
	putModel(t, textModel, "memfs://models/textcnn")
	b, err := os.ReadFile("../testdata/legacy/textcnn.safetensors")
	if err != nil {
		t.Fatal(err)
	}
	memfs.Write("memfs://models/textcnn.safetensors", b)
	in := texts(50)
	for _, c := range []struct{ local, remote string }{
		{textModel, "memfs://models/textcnn"},
		{textModel, "memfs://models/textcnn/"},
		{"../testdata/legacy/textcnn.safetensors", "memfs://models/textcnn.safetensors"},
	} {
		local, err := tapeml.Load(c.local)
		if err != nil {
			t.Fatal(err)
		}
		remote, err := openModel(context.Background(), c.remote)
		if err != nil {
			t.Fatalf("%s: %v", c.remote, err)
		}
		want, err := local.ClassifyTexts(context.Background(), in)
		if err != nil {
			t.Fatal(err)
		}
		got, err := remote.ClassifyTexts(context.Background(), in)
		if err != nil {
			t.Fatal(err)
		}
		for i := range want {
			if mustJSON(got[i]) != mustJSON(want[i]) {
				t.Fatalf("%s text %d: %s, locally %s", c.remote, i, mustJSON(got[i]), mustJSON(want[i]))
			}
		}
	}
}

// TestCopyModelBounded: a model past the limit, or absent, fails naming
// it instead of filling the disk.
func TestCopyModelBounded(t *testing.T) {
	putModel(t, textModel, "memfs://bounded/textcnn")
	for _, c := range []struct {
		path  string
		limit int64
		want  string
	}{
		{"memfs://bounded/textcnn", 1000, "larger than"},
		{"memfs://bounded/none", 1 << 30, "no such file or checkpoint folder"},
	} {
		_, err := copyModel(context.Background(), c.path, t.TempDir(), c.limit)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), c.path) {
			t.Errorf("%s, limit %d: %v; want an error naming it and %q", c.path, c.limit, err, c.want)
		}
	}
}
