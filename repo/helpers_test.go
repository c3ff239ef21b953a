package repo

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/tapeml/tapeml/kinds"
	"github.com/tapeml/tapeml/models/textcnn"
	_ "github.com/tapeml/tapeml/samples"
	"github.com/tapeml/tapeml/textclass"
	"github.com/tapeml/tapeml/train"
)

// tickets writes a two-class help-desk corpus (text models are binary) in the aclImdb layout
// (train/ and test/, a folder per class, a .txt per message): short
// realistic messages whose words overlap across classes, so two seeds
// give models that disagree on some test messages. The test split is the
// corpus's own, so every seed scores the same messages.
func tickets(t *testing.T, dir string) string {
	t.Helper()
	words := map[string][]string{
		"billing": {"invoice", "refund", "charged", "twice", "card", "payment", "receipt", "price", "plan", "account"},
		"tech":    {"error", "crash", "login", "password", "app", "slow", "update", "screen", "account", "sync"},
	}
	shared := []string{"please", "help", "my", "the", "today", "thanks", "hi", "urgent"}
	for _, split := range []struct {
		name string
		n    int
		off  int
	}{{"train", 40, 0}, {"test", 20, 97}} {
		for class, w := range words {
			d := filepath.Join(dir, split.name, class)
			if err := os.MkdirAll(d, 0o755); err != nil {
				t.Fatal(err)
			}
			for i := range split.n {
				j := i + split.off
				msg := fmt.Sprintf("%s %s %s %s %s", shared[j%len(shared)], w[j%len(w)], shared[(j/3)%len(shared)], w[(j*7+3)%len(w)], w[(j/2)%len(w)])
				if err := os.WriteFile(filepath.Join(d, fmt.Sprintf("%03d.txt", i)), []byte(msg), 0o644); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	return dir
}

// trainRun trains a tiny TextCNN on data with seed into a new run folder
// and returns it.
func trainRun(t *testing.T, data string, seed uint64) string {
	t.Helper()
	return trainRunIn(t, data, seed, filepath.Join(t.TempDir(), fmt.Sprintf("run-seed%d", seed)))
}

func trainRunIn(t *testing.T, data string, seed uint64, out string) string {
	t.Helper()
	k, err := kinds.Lookup(textcnn.Kind)
	if err != nil {
		t.Fatal(err)
	}
	spec, err := train.NewSpec(k)
	if err != nil {
		t.Fatal(err)
	}
	spec.Config = textcnn.Config{NumWords: 60, EmbedDim: 8, Filters: 6, Kernel: 3, Pool: 2, MaxLen: 8}
	spec.Data.(*textclass.Data).Path = data
	spec.Training.Epochs, spec.Training.Batch, spec.Training.Seed, spec.Training.LR = 4, 16, seed, 0.01
	spec.Set["epochs"], spec.Set["batch"], spec.Set["seed"], spec.Set["lr"], spec.Set["data"] = true, true, true, true, true
	spec.Threads = 1
	spec.Out = out
	if _, err := train.Run(context.Background(), *spec); err != nil {
		t.Fatal(err)
	}
	return spec.Out
}

func TestMain(m *testing.M) {
	code := m.Run()
	if sharedBase != "" {
		os.RemoveAll(sharedBase)
	}
	os.Exit(code)
}

var (
	sharedBase string
	sharedOnce sync.Once
	sharedData string
	sharedRuns [2]string
)

// sharedFixture trains the two runs (seeds 1 and 2) most tests publish,
// once per test binary.
func sharedFixture(t *testing.T) (data string, runs [2]string) {
	t.Helper()
	sharedOnce.Do(func() {
		base, err := os.MkdirTemp("", "repo-test-")
		if err != nil {
			t.Fatal(err)
		}
		sharedBase = base
		sharedData = tickets(t, filepath.Join(base, "tickets"))
		for i, seed := range []uint64{1, 2} {
			sharedRuns[i] = trainRunIn(t, sharedData, seed, filepath.Join(base, fmt.Sprintf("run%d", seed)))
		}
	})
	if sharedRuns[1] == "" {
		t.Fatal("the shared runs failed to train")
	}
	return sharedData, sharedRuns
}
