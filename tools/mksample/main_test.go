package main

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/tapeml/tapeml/textdata"
)

func TestSampleMessages(t *testing.T) {
	msgs, err := textdata.ReadSpamAssassin(filepath.Join("..", "..", "textdata", "testdata", "spamassassin", "package"))
	if err != nil {
		t.Fatal(err)
	}
	sample, err := sampleMessages(msgs, 7, 1)
	if err != nil {
		t.Fatal(err)
	}
	groups := map[string]int{}
	for _, m := range sample {
		groups[m.Group]++
		if want := m.Group + "/" + m.ID + "."; len(m.Source) < len(want) || m.Source[:len(want)] != want {
			t.Errorf("Source %q, want it relative: %s...", m.Source, want)
		}
	}
	// 14 messages: 4, 2, 2, 3, 3 → half of each, remainders to the first groups.
	want := map[string]int{"easy-ham-1": 2, "easy-ham-2": 1, "hard-ham-1": 1, "spam-1": 2, "spam-2": 1}
	if !reflect.DeepEqual(groups, want) {
		t.Errorf("groups = %v, want %v", groups, want)
	}
	if !slices.IsSortedFunc(sample, func(a, b textdata.SpamAssassinMessage) int { return strings.Compare(a.Source, b.Source) }) {
		t.Error("sample not sorted by Source")
	}
	again, _ := sampleMessages(msgs, 7, 1)
	other, _ := sampleMessages(msgs, 7, 2)
	if !reflect.DeepEqual(sample, again) {
		t.Error("same seed, different sample")
	}
	if reflect.DeepEqual(sample, other) {
		t.Error("seeds 1 and 2 gave the same sample")
	}
	for _, n := range []int{0, 15} {
		if _, err := sampleMessages(msgs, n, 1); err == nil {
			t.Errorf("sampleMessages(n=%d) succeeded", n)
		}
	}
}

func TestRunWritesJSONLines(t *testing.T) {
	out := filepath.Join(t.TempDir(), "s.jsonl.gz")
	src := filepath.Join("..", "..", "textdata", "testdata", "spamassassin", "package")
	if err := run(src, 5, 1, out); err != nil {
		t.Fatal(err)
	}
	first, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if err := run(src, 5, 1, out); err != nil {
		t.Fatal(err)
	}
	second, _ := os.ReadFile(out)
	if !bytes.Equal(first, second) {
		t.Error("two runs wrote different bytes")
	}
	gz, err := gzip.NewReader(bytes.NewReader(first))
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(gz)
	if err != nil {
		t.Fatal(err)
	}
	lines := bytes.Split(bytes.TrimSuffix(b, []byte("\n")), []byte("\n"))
	if len(lines) != 5 {
		t.Fatalf("%d lines, want 5", len(lines))
	}
	for _, l := range lines {
		var m map[string]string
		if err := json.Unmarshal(l, &m); err != nil {
			t.Fatal(err)
		}
		for _, k := range []string{"id", "group", "text", "source"} {
			if m[k] == "" {
				t.Errorf("line %s lacks %q", l, k)
			}
		}
	}
}
