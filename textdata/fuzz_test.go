package textdata

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"testing"
)

// FuzzLoadCSV: any .csv file loads as a corpus or fails with an error.
func FuzzLoadCSV(f *testing.F) {
	for _, p := range []string{"testdata/csv/sms.csv", "testdata/csv/reviews.csv"} {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte("text,label\n\"a\nb\",x\nc,y\n"))
	f.Add([]byte("\ufefftext,label\nfoo,1\nbar,0\nbaz,1\nqux,0\n"))
	f.Add([]byte("text,label\n\xff,1\n"))
	f.Add([]byte("label,text\n\"unterminated,1\n"))
	dir := f.TempDir() // one file, rewritten: cheaper than a folder per input
	f.Fuzz(func(t *testing.T, b []byte) {
		path := filepath.Join(dir, "x.csv")
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		c, err := LoadText(path, TextOptions{})
		if err != nil {
			return
		}
		if len(c.Classes) == 0 {
			t.Fatalf("a corpus without classes: %+v", c)
		}
	})
}

// tgzOf packs name → content members into a .tgz.
func tgzOf(members map[string]string) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for name, body := range members {
		tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(body)), Typeflag: tar.TypeReg})
		tw.Write([]byte(body))
	}
	tw.Close()
	zw.Close()
	return buf.Bytes()
}

// FuzzLoadTgz: any .tgz file loads as a SpamAssassin corpus or fails with
// an error, within the decompression limits.
func FuzzLoadTgz(f *testing.F) {
	defer func(a, b int64) { MaxDecompressedBytes, MaxMemberBytes = a, b }(MaxDecompressedBytes, MaxMemberBytes)
	MaxDecompressedBytes, MaxMemberBytes = 4<<20, 1<<20
	f.Add(tgzOf(map[string]string{
		"package/data/spam-1/1.json":     `{"id":"1","group":"spam-1","text":"buy now"}`,
		"package/data/easy-ham-1/2.json": `{"id":"2","group":"easy-ham-1","text":"lunch?"}`,
	}))
	f.Add(tgzOf(map[string]string{"package/data/spam-1/1.json": `{"id":1}`}))
	f.Add(tgzOf(map[string]string{"package/data/spam-1/1.json": `{"text":"x","group":"ham"}`}))
	f.Add([]byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0})
	dir := f.TempDir() // one file, rewritten: cheaper than a folder per input
	f.Fuzz(func(t *testing.T, b []byte) {
		path := filepath.Join(dir, "x.tgz")
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		msgs, err := ReadSpamAssassin(path)
		if err != nil {
			return
		}
		if len(msgs) == 0 {
			t.Fatal("no messages and no error")
		}
		_, _ = SpamAssassinCorpus(msgs, TextOptions{})
	})
}
