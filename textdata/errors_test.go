package textdata

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeTree creates files (path → content) under a new temporary folder;
// a path ending in "/" is an empty folder.
func writeTree(t *testing.T, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for name, content := range files {
		p := filepath.Join(root, filepath.FromSlash(name))
		if strings.HasSuffix(name, "/") {
			if err := os.MkdirAll(p, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func TestLoadTextErrors(t *testing.T) {
	const latin1 = "caf\xe9"
	msg := func(group, text string) string {
		return `{"id": "00001", "group": "` + group + `", "checksum": {"type": "MD5", "value": "x"}, "text": "` + text + `"}`
	}
	tests := []struct {
		name    string
		files   map[string]string
		path    string // inside the tree; "" = the tree itself
		opt     TextOptions
		wantErr []string
	}{
		{"missing path", nil, "nope", TextOptions{}, []string{"nope", "no such file or folder", "want one of", ".csv"}},
		{"empty folder", map[string]string{}, "", TextOptions{}, []string{"the folder is empty", "want one of"}},
		{"no label folders", map[string]string{"a.txt": "x", "b.txt": "y"}, "", TextOptions{}, []string{"no label folders"}},
		{"unknown file type", map[string]string{"data.json": "{}"}, "data.json", TextOptions{}, []string{`unknown file type ".json"`, "want one of"}},
		{"one class", map[string]string{"only/1.txt": "x"}, "", TextOptions{}, []string{`found 1 class ["only"]`}},
		{"class without .txt files", map[string]string{"a/1.txt": "x", "b/1.md": "y"}, "", TextOptions{}, []string{`class "b" has no examples`}},
		{"non-UTF-8 text file", map[string]string{"a/1.txt": "x", "b/bad.txt": latin1}, "", TextOptions{},
			[]string{"bad.txt", "not valid UTF-8", "0xe9 at offset 3"}},
		{"test label not in train", map[string]string{"train/neg/1.txt": "x", "train/pos/1.txt": "y", "test/meh/1.txt": "z"}, "", TextOptions{},
			[]string{"test", `label folder "meh" is not in train/`}},
		{"train without examples", map[string]string{"train/neg/": "", "train/pos/": "", "test/neg/1.txt": "x", "test/pos/1.txt": "y"}, "", TextOptions{},
			[]string{"train split is empty"}},
		{"train without label folders", map[string]string{"train/README": "x", "test/neg/1.txt": "x"}, "", TextOptions{},
			[]string{"train: no label folders"}},

		{"CSV without text column", map[string]string{"d.csv": "body,label\nhi,a\n"}, "d.csv", TextOptions{},
			[]string{"d.csv:line 1", `no column "text"`, `["body" "label"]`, "TextColumn"}},
		{"CSV without custom label column", map[string]string{"d.csv": "text,label\nhi,a\n"}, "d.csv", TextOptions{LabelColumn: "category"},
			[]string{"d.csv:line 1", `no column "category"`, "LabelColumn"}},
		{"CSV wrong field count", map[string]string{"d.csv": "text,label\nhi,a\nho\n"}, "d.csv", TextOptions{},
			[]string{"d.csv:line 3", "wrong number of fields"}},
		{"CSV bad quote", map[string]string{"d.csv": "text,label\nsay \"hi\",a\n"}, "d.csv", TextOptions{},
			[]string{"d.csv:line 2", `bare "`}},
		{"CSV empty file", map[string]string{"d.csv": ""}, "d.csv", TextOptions{}, []string{"d.csv: empty file", `"text"`}},
		{"CSV header only", map[string]string{"d.csv": "text,label\n"}, "d.csv", TextOptions{}, []string{"empty corpus"}},
		{"CSV empty label", map[string]string{"d.csv": "text,label\nhi,a\nho, \n"}, "d.csv", TextOptions{}, []string{"d.csv:line 3: empty label"}},
		{"CSV not UTF-8", map[string]string{"d.csv": "text,label\n" + latin1 + ",a\n"}, "d.csv", TextOptions{},
			[]string{"d.csv", "not valid UTF-8", "offset 14"}},
		{"CSV one class", map[string]string{"d.csv": "text,label\nhi,a\nho,a\n"}, "d.csv", TextOptions{}, []string{`found 1 class ["a"]`}},

		{"SpamAssassin invalid JSON", map[string]string{"spam-1/1.json": `{"id": `, "easy-ham-1/1.json": msg("easy-ham-1", "x")}, "", TextOptions{},
			[]string{"spam-1/1.json", "invalid JSON at byte"}},
		{"SpamAssassin wrong group", map[string]string{"spam-1/1.json": msg("easy-ham-1", "x")}, "", TextOptions{},
			[]string{"spam-1/1.json", `"group" is "easy-ham-1" but the file is in folder "spam-1"`}},
		{"SpamAssassin without text", map[string]string{"spam-1/1.json": `{"id": "1", "group": "spam-1"}`}, "", TextOptions{},
			[]string{"spam-1/1.json", `no "text" field`}},
		{"SpamAssassin only ham", map[string]string{"data/easy-ham-1/1.json": msg("easy-ham-1", "x")}, "", TextOptions{},
			[]string{`class "spam" has no examples`}},
		{"SpamAssassin groups without JSON", map[string]string{"spam-1/1.txt": "x"}, "", TextOptions{},
			[]string{"no SpamAssassin messages"}},
		{"tgz that is not gzip", map[string]string{"x.tgz": "plain"}, "x.tgz", TextOptions{}, []string{"x.tgz: not a gzip file"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := writeTree(t, tt.files)
			path := filepath.Join(root, tt.path)
			_, err := LoadText(path, tt.opt)
			if err == nil {
				t.Fatalf("LoadText(%s) succeeded", path)
			}
			msg := filepath.ToSlash(err.Error())
			t.Log(msg)
			if !strings.HasPrefix(msg, "data: load "+filepath.ToSlash(path)+": ") {
				t.Errorf("error %q does not start with the path", msg)
			}
			for _, want := range tt.wantErr {
				if !strings.Contains(msg, want) {
					t.Errorf("error %q does not mention %q", msg, want)
				}
			}
		})
	}
}
