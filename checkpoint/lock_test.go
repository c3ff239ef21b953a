package checkpoint

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestLockInProcess(t *testing.T) {
	d := Dir{Root: filepath.Join(t.TempDir(), "run")}
	unlock, err := d.Lock()
	if err != nil {
		t.Fatal(err)
	}
	_, err = d.Lock()
	var le *LockedError
	if !errors.As(err, &le) || le.PID != os.Getpid() || !errors.Is(err, ErrLocked) {
		t.Fatalf("second Lock: %v", err)
	}
	wantErr(t, err, d.Root, fmt.Sprintf("locked by process %d", os.Getpid()))
	if err := unlock(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(d.Root, LockFile)); err == nil {
		t.Error("unlock left the lock file")
	}
	unlock, err = d.Lock()
	if err != nil {
		t.Fatalf("Lock after unlock: %v", err)
	}
	unlock()
}

func TestLockStale(t *testing.T) {
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Skip(err)
	}
	d := Dir{Root: t.TempDir()}
	path := filepath.Join(d.Root, LockFile)
	if err := os.WriteFile(path, []byte(fmt.Sprintf("%d\n", dead.Process.Pid)), 0o644); err != nil {
		t.Fatal(err)
	}
	unlock, err := d.Lock()
	if err != nil {
		t.Fatalf("a stale lock (pid %d, dead) was not taken over: %v", dead.Process.Pid, err)
	}
	defer unlock()
	if b, _ := os.ReadFile(path); readPID(b) != os.Getpid() {
		t.Errorf("lock file holds %q, want our pid", b)
	}
}

// TestLockHelperProcess holds a run folder's lock for TestLockOtherProcess.
func TestLockHelperProcess(t *testing.T) {
	root := os.Getenv("TAPEML_LOCK_HELPER")
	if root == "" {
		t.Skip("helper process only")
	}
	if _, err := (Dir{Root: root}).Lock(); err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	fmt.Println("locked")
	select {} // until killed
}

func TestLockOtherProcess(t *testing.T) {
	d := Dir{Root: t.TempDir()}
	cmd := exec.Command(os.Args[0], "-test.run=^TestLockHelperProcess$")
	cmd.Env = append(os.Environ(), "TAPEML_LOCK_HELPER="+d.Root)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	line, _ := bufio.NewReader(out).ReadString('\n')
	if strings.TrimSpace(line) != "locked" {
		t.Fatalf("helper: %q", line)
	}
	_, err = d.Start(false, false)
	wantErr(t, err, fmt.Sprintf("locked by process %d", cmd.Process.Pid))
	cmd.Process.Kill()
	cmd.Wait()
	// The killed holder left its lock file behind: stale.
	unlock, err := d.Lock()
	if err != nil {
		t.Fatalf("after the holder was killed: %v", err)
	}
	unlock()
}

func TestStartFresh(t *testing.T) {
	root := t.TempDir()
	d := Dir{Root: root, Keep: 2}
	for e := 1; e <= 3; e++ {
		if _, err := d.Save(sample(e, false), e, e == 2); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(root, "notes.txt"), []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := d.Start(false, false)
	if !errors.Is(err, ErrRunExists) {
		t.Fatalf("fresh run into a run: %v", err)
	}
	wantErr(t, err, root, "holds best, epoch-0002, epoch-0003, index.json, …", "resume that run, or train into a new folder")
	if _, err := os.Stat(filepath.Join(root, LockFile)); err == nil {
		t.Error("a refused Start kept the lock")
	}
	release, err := d.Start(true, false)
	if err != nil {
		t.Fatalf("resume: %v", err)
	}
	release()
	release, err = d.Start(false, true)
	if err != nil {
		t.Fatalf("forced: %v", err)
	}
	if got := listDir(t, root); !slices.Equal(got, []string{LockFile, "notes.txt"}) {
		t.Errorf("forced fresh run left %v", got)
	}
	if _, err := d.Save(sample(1, false), 1, false); err != nil {
		t.Fatal(err)
	}
	release()
	empty := Dir{Root: filepath.Join(t.TempDir(), "new")}
	release, err = empty.Start(false, false)
	if err != nil {
		t.Fatalf("fresh run into a new folder: %v", err)
	}
	release()
}

// TestResumeFromUnindexedEpoch: resuming from an epoch directory of a run
// folder without index.json (lost, or never written) must not delete it,
// nor any other checkpoint the run cannot account for.
func TestResumeFromUnindexedEpoch(t *testing.T) {
	root := t.TempDir()
	d := Dir{Root: root, Keep: 1}
	for e := 1; e <= 2; e++ {
		if _, err := d.Save(sample(e, false), e, false); err != nil {
			t.Fatal(err)
		}
	}
	// Keep 1 rotated epoch-0001 out; bring an older copy back by hand and
	// lose the index.
	if err := Save(filepath.Join(root, "epoch-0001"), sample(1, false)); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(root, IndexFile)); err != nil {
		t.Fatal(err)
	}
	latest, err := d.Latest()
	if err != nil || filepath.Base(latest) != "epoch-0002" {
		t.Fatalf("Latest without index = %s, %v", latest, err)
	}
	for e := 3; e <= 5; e++ {
		if _, err := d.Save(sample(e, false), e, false); err != nil {
			t.Fatal(err)
		}
	}
	want := []string{"epoch-0001", "epoch-0002", "epoch-0005", IndexFile}
	if got := listDir(t, root); !slices.Equal(got, want) {
		t.Errorf("run folder holds %v, want %v (3 and 4 rotated out, 1 and 2 never indexed)", got, want)
	}
}

// TestForeignEpochNotAdopted: an epoch directory older than index.json
// that the index does not list (copied in, or left from another run) is
// neither taken for the latest nor deleted.
func TestForeignEpochNotAdopted(t *testing.T) {
	root := t.TempDir()
	if err := Save(filepath.Join(root, "epoch-0005"), sample(5, false)); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-time.Hour)
	os.Chtimes(filepath.Join(root, "epoch-0005", MetaFile), old, old)
	d := Dir{Root: root, Keep: 1}
	for e := 1; e <= 3; e++ {
		if _, err := d.Save(sample(e, false), e, false); err != nil {
			t.Fatal(err)
		}
		latest, err := d.Latest()
		if err != nil || filepath.Base(latest) != EpochDirName(e) {
			t.Fatalf("after saving epoch %d, Latest = %s, %v", e, latest, err)
		}
	}
	want := []string{"epoch-0003", "epoch-0005", IndexFile}
	if got := listDir(t, root); !slices.Equal(got, want) {
		t.Errorf("run folder holds %v, want %v", got, want)
	}
}
