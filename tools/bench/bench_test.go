package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"
)

func TestSelectWorkloads(t *testing.T) {
	all := Training("", "")
	for _, c := range []struct {
		names   []string
		want    string
		wantErr string
	}{
		{nil, "textcnn,convnet,lstm,transformer,mf", ""},
		{[]string{"mf", "textcnn"}, "mf,textcnn", ""},
		{[]string{"resnet"}, "", `unknown model "resnet"`},
	} {
		got, err := selectWorkloads(all, c.names)
		if c.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Errorf("%v: error %v, want %q", c.names, err, c.wantErr)
			}
			continue
		}
		var names []string
		for _, w := range got {
			names = append(names, w.Name)
		}
		if err != nil || strings.Join(names, ",") != c.want {
			t.Errorf("%v: %v, %v; want %s", c.names, names, err, c.want)
		}
	}
}

func TestRunReference(t *testing.T) {
	if _, err := os.Stat("/bin/sh"); err != nil {
		t.Skip("no /bin/sh")
	}
	for _, c := range []struct {
		script  string
		want    float64
		wantErr string
	}{
		{"echo 'pytorch 1.13 threads 2: 8.0 ms/step, 4000 samples/s'", 4000, ""},
		{"echo '12.5 samples/s, peak RSS 3 MiB'", 12.5, ""},
		{"echo nothing", 0, `printed no "samples/s"`},
		{"echo 'Traceback' >&2; echo 'ModuleNotFoundError: torch' >&2; exit 1", 0, "ModuleNotFoundError: torch"},
	} {
		got, _, err := runReference(context.Background(), []string{"/bin/sh", "-c", c.script}, nil)
		if c.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Errorf("%q: error %v, want %q", c.script, err, c.wantErr)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("%q: %v, %v; want %v", c.script, got, err, c.want)
		}
	}
}

// One real, short run of the cheapest workload, without PyTorch, and a
// reference that is a shell script.
func TestRunMF(t *testing.T) {
	ref := &Reference{Engine: "fake", Steps: 1, Command: func(threads, steps int) []string {
		return []string{"/bin/sh", "-c", "echo 100 samples/s"}
	}}
	w := Training("", "")[3]
	w.Reference = ref
	rep, err := Run(context.Background(), Config{Models: []string{"mf"}, Steps: 2, Inference: []Workload{w}})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Training) != 1 || rep.Training[0].Tapeml.SamplesPerSec <= 0 || rep.Training[0].Reference != nil || rep.Training[0].Note == "" {
		t.Fatalf("training rows %+v: want mf measured, PyTorch skipped with a note", rep.Training)
	}
	if len(rep.Inference) != 1 || rep.Inference[0].Reference == nil || rep.Inference[0].Ratio != rep.Inference[0].Tapeml.SamplesPerSec/100 {
		t.Fatalf("extension rows %+v: want the fake reference's ratio", rep.Inference)
	}
	var buf bytes.Buffer
	if err := rep.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	var back Report
	if err := json.Unmarshal(buf.Bytes(), &back); err != nil || back.Machine.Threads != rep.Machine.Threads {
		t.Fatalf("JSON round trip: %v, %+v", err, back.Machine)
	}
	if _, err := Run(context.Background(), Config{Steps: -1}); err == nil {
		t.Error("negative steps accepted")
	}
}

// BenchmarkTrainStep times one training step of each workload, for
// profiling with -cpuprofile (tapeml bench adds PyTorch's side):
//
//	go test -run '^$' -bench TrainStep/mf -cpuprofile mf.prof ./bench
func BenchmarkTrainStep(b *testing.B) {
	for _, w := range Training("", "") {
		b.Run(w.Name, func(b *testing.B) {
			step, _, err := w.Setup(0)
			if err != nil {
				b.Fatal(err)
			}
			if err := step(0); err != nil { // compiles the machine
				b.Fatal(err)
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if err := step(1 + i); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*w.Batch)/b.Elapsed().Seconds(), "samples/s")
		})
	}
}
