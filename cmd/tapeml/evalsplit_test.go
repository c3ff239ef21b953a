package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// evalScored runs eval --json and returns what it says it scored.
func evalScored(t *testing.T, args ...string) (split string, n, rows int) {
	t.Helper()
	status, out, stderr := runCLI(t, "", append([]string{"eval", "--json"}, args...)...)
	if status != 0 {
		t.Fatalf("eval %v: status %d: %s", args, status, stderr)
	}
	var v struct {
		Split string `json:"split"`
		N     int    `json:"n"`
		Rows  int    `json:"rows"`
	}
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	return v.Split, v.N, v.Rows
}

// eval --data on a plain CSV that is not the run's scores all of it, and
// says so; the run's own file (found by name when the run's relative path
// does not resolve from here) is scored on its test split, and the line
// says which split of how many rows (issue 28, point 9: it scored 4 of 40
// rows, the carved test split, and printed "test split (n=4)").
func TestEvalDataScoresAllOfAFile(t *testing.T) {
	var b strings.Builder
	b.WriteString("text,label\n")
	for i := range 40 {
		if i%2 == 0 {
			fmt.Fprintf(&b, "meeting %d tomorrow at the office,ham\n", i)
		} else {
			fmt.Fprintf(&b, "claim your free cash now %d,spam\n", i)
		}
	}
	dir := t.TempDir()
	other := filepath.Join(dir, "mail.csv")
	write(t, other, []byte(b.String()))
	if split, n, rows := evalScored(t, "--checkpoint", legacyTextCNN, "--data", other); split != "all" || n != 40 || rows != 40 {
		t.Errorf("other data: split %q, n %d of %d rows; want all 40 of 40", split, n, rows)
	}
	status, out, stderr := runCLI(t, "", "eval", "--checkpoint", legacyTextCNN, "--data", other)
	if want := "on all of " + other + " (n=40 of 40 rows)"; status != 0 || !strings.Contains(out, want) {
		t.Errorf("status %d, stdout %q, stderr %q; want %q", status, out, stderr, want)
	}

	// The run was trained on tiny.csv, a path relative to another folder:
	// a file of that name is taken as the run's and scored on its test
	// split, never on the examples the model was trained on.
	own := filepath.Join(dir, "elsewhere", "tiny.csv")
	write(t, own, []byte(b.String()))
	if split, n, rows := evalScored(t, "--checkpoint", legacyTextCNN, "--data", own); split != "test" || n != 4 || rows != 40 {
		t.Errorf("the run's data: split %q, n %d of %d rows; want test 4 of 40", split, n, rows)
	}
	status, out, stderr = runCLI(t, "", "eval", "--checkpoint", legacyTextCNN, "--data", own)
	if want := "on " + own + " test split (n=4 of 40 rows)"; status != 0 || !strings.Contains(out, want) {
		t.Errorf("status %d, stdout %q, stderr %q; want %q", status, out, stderr, want)
	}
}

// An image folder with a test folder is scored on that; one without split
// folders, all of it.
func TestEvalDataImageSplits(t *testing.T) {
	ckpt := grayConvnet(t)
	dir := t.TempDir()
	flat, split := filepath.Join(dir, "flat"), filepath.Join(dir, "split")
	for i := range 10 {
		for _, root := range []string{flat, filepath.Join(split, "train")} {
			write(t, filepath.Join(root, "left", fmt.Sprintf("%02d.png", i)), pngBytes(t, false, i, false))
			write(t, filepath.Join(root, "right", fmt.Sprintf("%02d.png", i)), pngBytes(t, true, i, false))
		}
	}
	for i := range 3 {
		write(t, filepath.Join(split, "test", "left", fmt.Sprintf("%02d.png", i)), pngBytes(t, false, 50+i, false))
		write(t, filepath.Join(split, "test", "right", fmt.Sprintf("%02d.png", i)), pngBytes(t, true, 50+i, false))
	}
	if s, n, rows := evalScored(t, "--checkpoint", ckpt, "--data", flat); s != "all" || n != 20 || rows != 20 {
		t.Errorf("flat folder: split %q, n %d of %d rows; want all 20 of 20", s, n, rows)
	}
	if s, n, rows := evalScored(t, "--checkpoint", ckpt, "--data", split); s != "test" || n != 6 || rows != 26 {
		t.Errorf("folder with a test folder: split %q, n %d of %d rows; want test 6 of 26", s, n, rows)
	}
	if _, err := os.Stat(flat); err != nil {
		t.Fatal(err)
	}
}
