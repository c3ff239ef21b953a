package deploy_test

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tapeml/tapeml/tapemltest"
)

var (
	binDir   string // holds the tapeml binary built for these tests
	binOnce  sync.Once
	binPath  string
	binError error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// tapemlBinary builds cmd/tapeml of the root module once per test run:
// the manifests' arguments are checked against the real command line.
func tapemlBinary(t testing.TB) string {
	t.Helper()
	binOnce.Do(func() {
		if binDir, binError = os.MkdirTemp("", "tapeml-deploy-"); binError != nil {
			return
		}
		binPath = filepath.Join(binDir, "tapeml")
		cmd := exec.Command("go", "build", "-o", binPath, "./cmd/tapeml")
		cmd.Dir = ".." // the root module
		if out, err := cmd.CombinedOutput(); err != nil {
			binError = fmt.Errorf("go build ./cmd/tapeml: %v\n%s", err, out)
		}
	})
	if binError != nil {
		t.Fatal(binError)
	}
	return binPath
}

// tinyRepository is a model repository holding one small ConvNet as
// small/1, quick to load.
func tinyRepository(t testing.TB) string {
	t.Helper()
	tmp := t.TempDir()
	ckpt, err := tapemltest.SmallConvNet(tmp, 1)
	if err != nil {
		t.Fatal(err)
	}
	repo := filepath.Join(tmp, "repo")
	if err := os.MkdirAll(filepath.Join(repo, "small"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(ckpt, filepath.Join(repo, "small", "1")); err != nil {
		t.Fatal(err)
	}
	return repo
}

// server is a running `tapeml serve` process.
type server struct {
	cmd    *exec.Cmd
	addr   string        // host:port it listens on
	exited chan struct{} // closed once the process has exited
	err    error         // its exit status, once exited

	mu    sync.Mutex
	lines []string // its stderr
}

// startServer runs `tapeml args...` and waits until it listens (it prints
// its address once every model is loaded).
func startServer(bin string, args []string) (*server, error) {
	s := &server{cmd: exec.Command(bin, args...), exited: make(chan struct{})}
	stderr, err := s.cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := s.cmd.Start(); err != nil {
		return nil, err
	}
	listening := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			s.mu.Lock()
			s.lines = append(s.lines, line)
			s.mu.Unlock()
			if rest, ok := strings.CutPrefix(line, "tapeml serve: http://"); ok {
				addr, _, _ := strings.Cut(rest, " ")
				select {
				case listening <- addr:
				default:
				}
			}
		}
		io.Copy(io.Discard, stderr)
		s.err = s.cmd.Wait()
		close(s.exited)
	}()
	select {
	case s.addr = <-listening:
		return s, nil
	case <-s.exited:
		return nil, fmt.Errorf("tapeml %s: exited before listening (%v): %s", strings.Join(args, " "), s.err, s.stderr())
	case <-time.After(3 * time.Minute):
		s.kill()
		return nil, fmt.Errorf("tapeml %s: not listening after 3 minutes: %s", strings.Join(args, " "), s.stderr())
	}
}

func (s *server) url() string { return "http://" + s.addr }

func (s *server) stderr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.Join(s.lines, "\n")
}

// loadTime is how long the server took to load and warm up a model
// version, from its "model version loaded" log line.
func (s *server) loadTime(model string, version int) (time.Duration, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, line := range s.lines {
		var rec struct {
			Msg      string `json:"msg"`
			Model    string `json:"model"`
			Version  int    `json:"version"`
			Duration string `json:"duration"`
		}
		if json.Unmarshal([]byte(line), &rec) != nil || rec.Msg != "model version loaded" || rec.Model != model || rec.Version != version {
			continue
		}
		d, err := time.ParseDuration(rec.Duration)
		return d, err == nil
	}
	return 0, false
}

// stop ends the server gracefully (SIGTERM) and returns its exit error.
func (s *server) stop() error {
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return err
	}
	select {
	case <-s.exited:
		return s.err
	case <-time.After(45 * time.Second):
		s.kill()
		return fmt.Errorf("still running 45 s after SIGTERM")
	}
}

// kill ends the server at once (SIGKILL), as a crash or an OOM kill.
func (s *server) kill() {
	s.cmd.Process.Kill()
	<-s.exited
}

// get answers the status and body of GET url.
func get(client *http.Client, url string) (int, []byte, error) {
	resp, err := client.Get(url)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, b, err
}
