//go:build unix

package main

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tapeml/tapeml/atomicfile"
	"github.com/tapeml/tapeml/checkpoint"
)

// Writers never replace what is not theirs: export, optimize, import and
// explain --out refuse a FIFO, a symbolic link (to a file or to
// /dev/null: only the link could be replaced, never the device), a path
// inside their input checkpoint, and an existing output unless --force
// (issue 28, point 6: export --out /dev/null replaced the device; optimize
// --out replaced a run's checkpoint).
func TestOutputsNeverReplaceWhatIsNotTheirs(t *testing.T) {
	dir := t.TempDir()
	run := filepath.Join(dir, "run")
	if status, out, stderr := runCLI(t, "", append(tinyText(t), "--epochs", "2", "--keep", "5", "--out", run)...); status != 0 {
		t.Fatalf("train: %s\n%s", stderr, out)
	}
	// The best epoch is the input of --checkpoint run; best/ is a copy.
	best, epoch1, epoch := filepath.Join(run, "best"), filepath.Join(run, "epoch-0001"), filepath.Join(run, "epoch-0002")
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Skip("no FIFOs here:", err)
	}
	target := filepath.Join(dir, "target.txt")
	write(t, target, []byte("keep me"))
	link := filepath.Join(dir, "link")
	devLink := filepath.Join(dir, "null-link")
	for from, to := range map[string]string{link: target, devLink: os.DevNull} {
		if err := os.Symlink(to, from); err != nil {
			t.Fatal(err)
		}
	}
	existing := filepath.Join(dir, "existing.onnx")
	write(t, existing, []byte("an earlier export"))
	exported := filepath.Join(dir, "model.safetensors")
	if status, _, stderr := runCLI(t, "", "export", "--checkpoint", run, "--out", exported); status != 0 {
		t.Fatalf("export: %s", stderr)
	}
	pages := filepath.Join(dir, "pages")
	// The page of "win money": its first words and a digest of the text.
	write(t, filepath.Join(pages, "win-money-c17b8ff8.html"), []byte("an earlier page"))

	// What must survive every refused command, as it was.
	sums := map[string]string{}
	for _, ck := range []string{best, epoch1, epoch} {
		sums[ck] = checkpointSums(t, ck)
	}
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"export onto a FIFO", []string{"export", "--checkpoint", run, "--out", fifo}, "is a FIFO"},
		{"export onto a FIFO, forced", []string{"export", "--checkpoint", run, "--out", fifo, "--force"}, "is a FIFO"},
		{"export onto a link", []string{"export", "--checkpoint", run, "--out", link, "--force"}, "is a symbolic link"},
		{"export onto a link to /dev/null", []string{"export", "--checkpoint", run, "--format", "onnx", "--out", devLink, "--force"}, "is a symbolic link"},
		{"export into its checkpoint", []string{"export", "--checkpoint", run, "--out", filepath.Join(epoch, checkpoint.WeightsFile), "--force"}, "is inside a checkpoint (" + epoch + ")"},
		{"export into the best copy", []string{"export", "--checkpoint", run, "--out", filepath.Join(best, checkpoint.WeightsFile), "--force"}, "is inside a checkpoint (" + best + ")"},
		{"export into a checkpoint, new file", []string{"export", "--checkpoint", best, "--format", "onnx", "--out", filepath.Join(epoch1, "model.onnx")}, "is inside a checkpoint"},
		{"export onto its source file", []string{"export", "--checkpoint", exported, "--out", exported, "--force"}, "is the input"},
		{"export onto an existing file", []string{"export", "--checkpoint", run, "--format", "onnx", "--out", existing}, "exists (a file); refusing to replace it without --force"},
		{"optimize onto its input", []string{"optimize", "--checkpoint", run, "--int8", "--out", epoch, "--force"}, "is the input"},
		{"optimize onto the best checkpoint", []string{"optimize", "--checkpoint", run, "--int8", "--out", best}, "exists (a checkpoint); refusing to replace it without --force"},
		{"optimize onto an epoch checkpoint", []string{"optimize", "--checkpoint", run, "--int8", "--out", epoch1}, "exists (a checkpoint); refusing to replace it without --force"},
		{"optimize into a checkpoint", []string{"optimize", "--checkpoint", run, "--int8", "--out", filepath.Join(epoch1, "int8")}, "is inside a checkpoint"},
		{"optimize onto the run folder", []string{"optimize", "--checkpoint", best, "--int8", "--out", run, "--force"}, "holds the input"},
		{"optimize onto a FIFO", []string{"optimize", "--checkpoint", run, "--int8", "--out", fifo, "--force"}, "is a FIFO"},
		{"optimize onto a link", []string{"optimize", "--checkpoint", run, "--int8", "--out", devLink, "--force"}, "is a symbolic link"},
		{"optimize onto a file", []string{"optimize", "--checkpoint", run, "--int8", "--out", existing, "--force"}, "is a file"},
		{"import onto a checkpoint", []string{"import", "--weights", exported, "--out", epoch1}, "exists (a checkpoint); refusing to replace it without --force"},
		{"import onto its --like", []string{"import", "--weights", exported, "--like", run, "--out", epoch, "--force"}, "is the input"},
		{"import around its weights", []string{"import", "--weights", filepath.Join(best, checkpoint.WeightsFile), "--out", best, "--force"}, "holds the input"},
		{"explain into a checkpoint", []string{"explain", "--checkpoint", run, "--out", best, "win money"}, "is a checkpoint; give a folder of its own"},
		{"explain into its checkpoint", []string{"explain", "--checkpoint", run, "--out", epoch, "win money"}, "is the input"},
		{"explain onto a FIFO", []string{"explain", "--checkpoint", run, "--out", fifo, "win money"}, "is a FIFO"},
		{"explain onto an existing page", []string{"explain", "--checkpoint", run, "--out", pages, "win money"}, "win-money-c17b8ff8.html exists (a file); refusing to replace it without --force"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, stdout, stderr := runCLI(t, "", tc.args...)
			if status == 0 || !strings.Contains(stderr, tc.want) || strings.Count(strings.TrimSpace(stderr), "\n") > 0 {
				t.Fatalf("status %d, stderr %q, stdout %q: want one error line containing %q", status, stderr, stdout, tc.want)
			}
		})
	}
	if info, err := os.Lstat(fifo); err != nil || info.Mode()&os.ModeNamedPipe == 0 {
		t.Errorf("the FIFO was replaced: %v %v", info.Mode(), err)
	}
	for _, l := range []string{link, devLink} {
		if info, err := os.Lstat(l); err != nil || info.Mode()&os.ModeSymlink == 0 {
			t.Errorf("%s was replaced: %v", l, err)
		}
	}
	if b, _ := os.ReadFile(target); string(b) != "keep me" {
		t.Errorf("the link's target holds %q", b)
	}
	if b, _ := os.ReadFile(existing); string(b) != "an earlier export" {
		t.Errorf("the existing file holds %q", b)
	}
	if b, _ := os.ReadFile(filepath.Join(pages, "win-money-c17b8ff8.html")); string(b) != "an earlier page" {
		t.Errorf("the existing page holds %q", b)
	}
	for ck, want := range sums {
		if got := checkpointSums(t, ck); got != want {
			t.Errorf("%s changed:\n%s\nwant\n%s", ck, got, want)
		}
	}
	if status, stdout, stderr := runCLI(t, "", "train", "textcnn", "--resume", run, "--epochs", "3"); status != 0 {
		t.Errorf("the run no longer resumes: %s\n%s", stderr, stdout)
	}
	if left := hidden(t, dir, run, pages); len(left) > 0 {
		t.Errorf("temporary files left: %v", left)
	}

	// --force replaces an output of the writer's own kind, and only that.
	if status, _, stderr := runCLI(t, "", "export", "--checkpoint", run, "--format", "onnx", "--out", existing, "--force"); status != 0 {
		t.Fatalf("export --force: %s", stderr)
	}
	if b, _ := os.ReadFile(existing); bytes.Equal(b, []byte("an earlier export")) {
		t.Error("export --force did not replace the file")
	}
	if status, _, stderr := runCLI(t, "", "import", "--weights", exported, "--out", epoch1, "--force"); status != 0 {
		t.Fatalf("import --force: %s", stderr)
	}
	if c, err := checkpoint.Open(epoch1, checkpoint.PickLatest); err != nil || !c.Meta.WeightsOnly {
		t.Fatalf("import --force did not replace the checkpoint: %v", err)
	}
	if status, stdout, stderr := runCLI(t, "", "explain", "--checkpoint", run, "--out", pages, "--force", "win money"); status != 0 || !strings.Contains(stdout, "win-money-c17b8ff8.html") {
		t.Fatalf("explain --force: %s\n%s", stderr, stdout)
	}
}

// checkpointSums is a checkpoint's files and their contents' sizes and
// first bytes, after checking that it loads (which verifies its sums).
func checkpointSums(t *testing.T, dir string) string {
	t.Helper()
	if _, err := checkpoint.Load(dir); err != nil {
		t.Fatalf("%s no longer loads: %v", dir, err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, e := range entries {
		info, _ := e.Info()
		raw, _ := os.ReadFile(filepath.Join(dir, e.Name()))
		b.WriteString(e.Name() + " " + info.ModTime().String() + " " + string(raw[:min(64, len(raw))]) + "\n")
	}
	return b.String()
}

// hidden lists the temporary files (".NAME.tmp-*") in dirs.
func hidden(t *testing.T, dirs ...string) []string {
	t.Helper()
	var left []string
	for _, d := range dirs {
		entries, _ := os.ReadDir(d)
		for _, e := range entries {
			if strings.HasPrefix(e.Name(), ".") && strings.Contains(e.Name(), ".tmp-") {
				left = append(left, filepath.Join(d, e.Name()))
			}
		}
	}
	return left
}

// Ctrl-C during a write removes its temporary file, leaves the target as
// it was and exits 130 (issue 28, point 10: hidden temporary files were
// left behind).
func TestInterruptRemovesTemporaryFiles(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "model.onnx")
	write(t, path, []byte("the previous export"))
	writing, release := make(chan struct{}), make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- atomicfile.WriteFile(path, func(w io.Writer) error {
			if _, err := w.Write(bytes.Repeat([]byte("x"), 2<<20)); err != nil { // past the buffer: on disk
				return err
			}
			close(writing)
			<-release
			return nil
		})
	}()
	<-writing
	if left := hidden(t, dir); len(left) != 1 {
		t.Fatalf("temporary files while writing: %v", left)
	}
	var stderr bytes.Buffer
	quitted := make(chan int, 1)
	quit = func(code int) { quitted <- code }
	defer func() { quit = os.Exit }()
	signals := make(chan os.Signal, 1)
	stop := watchInterrupt(env{stderr: &stderr}, "export", signals)
	defer close(stop)
	signals <- syscall.SIGINT
	select {
	case code := <-quitted:
		if code != exitInterrupted {
			t.Fatalf("exit status %d, want %d", code, exitInterrupted)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no exit after the signal")
	}
	if left := hidden(t, dir); len(left) != 0 {
		t.Fatalf("temporary files after the signal: %v", left)
	}
	if !strings.Contains(stderr.String(), "tapeml export: interrupt: stopped; removed 1 unfinished temporary file") {
		t.Errorf("stderr %q", stderr.String())
	}
	close(release)
	if err := <-done; err == nil {
		t.Error("the abandoned write succeeded")
	}
	if b, _ := os.ReadFile(path); string(b) != "the previous export" {
		t.Errorf("the target holds %q", b[:min(len(b), 40)])
	}
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		t.Error("the target is gone")
	}
}
