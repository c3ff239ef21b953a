//go:build hostile

// The reproductions of issue 28 at its sizes, against a `tapeml serve`
// process: peak RSS (the kernel's VmHWM), time and status of each. They
// take a few minutes and gigabytes of the machine's memory when they
// fail, so they are behind the hostile build tag:
//
//	go test -tags hostile -run Hostile -v -timeout 30m ./serve
//
// TAPEML_BIN runs another binary (an older tapeml, to see the failures);
// TAPEML_AS caps its address space (prlimit --as, bytes) so that a
// failing run dies of it instead of taking the machine's memory. Flags an
// older binary lacks are dropped.
package serve_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tapeml/tapeml/tapemltest"
)

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

// tapemlBinary builds cmd/tapeml once, or returns TAPEML_BIN.
func tapemlBinary(t *testing.T) string {
	if b := os.Getenv("TAPEML_BIN"); b != "" {
		return b
	}
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "tapeml-hostile")
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(dir, "tapeml")
		out, err := exec.Command("go", "build", "-o", binPath, "../cmd/tapeml").CombinedOutput()
		if err != nil {
			binErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

// proc is a running `tapeml serve`.
type proc struct {
	cmd    *exec.Cmd
	url    string // host:port
	stderr *lockedBuffer
	exited chan error
}

// serveProc starts `tapeml serve --models repo --addr 127.0.0.1:0 flags…`
// and waits for its start line. Flags the binary does not know are
// dropped (with their value) when TAPEML_BIN is set.
func serveProc(t *testing.T, repo string, wrap []string, flags ...string) *proc {
	t.Helper()
	bin := tapemlBinary(t)
	args := []string{"serve", "--models", repo, "--addr", "127.0.0.1:0", "--poll", "0", "--log-level", "warn"}
	if os.Getenv("TAPEML_BIN") != "" {
		help, _ := exec.Command(bin, "serve", "--help").CombinedOutput()
		for i := 0; i < len(flags); i++ {
			arg := flags[i : i+1]
			name, _, hasValue := strings.Cut(flags[i], "=")
			if !hasValue && i+1 < len(flags) {
				arg = flags[i : i+2] // the flag and its value
				i++
			}
			if !bytes.Contains(help, []byte(name+" ")) {
				t.Logf("%s does not know %s: dropped", bin, name)
				continue
			}
			args = append(args, arg...)
		}
	} else {
		args = append(args, flags...)
	}
	if as := os.Getenv("TAPEML_AS"); as != "" {
		wrap = append([]string{"prlimit", "--as=" + as}, wrap...)
	}
	argv := append(append(wrap, bin), args...)
	cmd := exec.Command(argv[0], argv[1:]...)
	p := &proc{cmd: cmd, stderr: &lockedBuffer{}, exited: make(chan error, 1)}
	pr, pw := io.Pipe()
	cmd.Stderr = io.MultiWriter(p.stderr, pw)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.exited <- cmd.Wait(); pw.Close() }()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			<-p.exited
		}
	})
	started := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			if rest, ok := strings.CutPrefix(sc.Text(), "tapeml serve: http"); ok {
				rest = "http" + rest
				u := strings.Fields(rest)[0]
				u = strings.TrimPrefix(strings.TrimPrefix(u, "http://"), "https://")
				started <- u
				break
			}
		}
		io.Copy(io.Discard, pr)
	}()
	select {
	case url := <-started:
		p.url = url
	case err := <-p.exited:
		t.Fatalf("tapeml serve exited before listening: %v\n%s", err, p.stderr)
	case <-time.After(60 * time.Second):
		t.Fatalf("tapeml serve did not listen within 60 s\n%s", p.stderr)
	}
	return p
}

// pid is the tapeml process (prlimit execs it, keeping the pid).
func (p *proc) pid() int { return p.cmd.Process.Pid }

// peakRSS is the process's peak resident set (VmHWM), in MB.
func (p *proc) peakRSS(t *testing.T) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.pid()))
	if err != nil {
		return -1 // exited
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 64)
			return kb / 1024
		}
	}
	return -1
}

// cpuSeconds is the process's user and system CPU time so far.
func (p *proc) cpuSeconds(t *testing.T) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p.pid()))
	if err != nil {
		return -1
	}
	// The fields after the command's closing parenthesis: utime and
	// stime are the 12th and 13th, in clock ticks of 1/100 s.
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	u, _ := strconv.ParseFloat(f[11], 64)
	s, _ := strconv.ParseFloat(f[12], 64)
	return (u + s) / 100
}

// alive reports whether the process still runs a second from now.
func (p *proc) alive() bool {
	select {
	case err := <-p.exited:
		p.exited <- err
		return false
	case <-time.After(time.Second):
		return true
	}
}

// fatal is the process's "fatal error" line, if it wrote one.
func (p *proc) fatal() string {
	for _, line := range strings.Split(p.stderr.String(), "\n") {
		if strings.HasPrefix(line, "fatal error") {
			return line
		}
	}
	return ""
}

func httpDo(ctx context.Context, method, url, body string) (int, string, error) {
	req, err := http.NewRequestWithContext(ctx, method, url, strings.NewReader(body))
	if err != nil {
		return 0, "", err
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

// report logs one line of the acceptance table.
func report(t *testing.T, what string, kv ...any) {
	var b strings.Builder
	for i := 0; i+1 < len(kv); i += 2 {
		fmt.Fprintf(&b, "  %v=%v", kv[i], kv[i+1])
	}
	t.Logf("ACCEPTANCE %s:%s", what, b.String())
}

// hostileRepo lays out the reference ConvNet (3×32×32 images) as
// "images" and the small TextCNN as "spam".
func hostileRepo(t *testing.T) string {
	repo := t.TempDir()
	conv, _, err := tapemltest.Save("convnet", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	copyDir(t, conv, filepath.Join(repo, "images", "1"))
	copyDir(t, filepath.Join(legacy, "textcnn"), filepath.Join(repo, "spam", "1"))
	return repo
}

// TestHostileV1Body: 8 MB of one real image and four million 0
// instances asked for about 49 GB.
func TestHostileV1Body(t *testing.T) {
	p := serveProc(t, hostileRepo(t), nil)
	// The first instance is an image as a [3][32][32] pixel array.
	img := make([][][]int, 3)
	for c := range img {
		img[c] = make([][]int, 32)
		for y := range img[c] {
			img[c][y] = make([]int, 32)
			for x := range img[c][y] {
				img[c][y][x] = (c*1024 + y*32 + x) * 7 % 256
			}
		}
	}
	first, _ := json.Marshal(img)
	body := filled(`{"instances":[`+string(first)+`,`, "0", "]}", 8<<20-64)
	before := p.peakRSS(t)
	t0 := time.Now()
	code, ans, err := httpDo(t.Context(), "POST", "http://"+p.url+"/v1/models/images:predict", body)
	took := time.Since(t0)
	rss := p.peakRSS(t)
	report(t, "8 MB v1 request", "bytes", len(body), "status", code, "err", err, "time", took.Round(time.Millisecond), "peakRSS_before_MB", fmt.Sprintf("%.0f", before), "peakRSS_MB", fmt.Sprintf("%.0f", rss), "alive", p.alive(), "fatal", p.fatal(), "answer", trunc(ans, 160))
	if err != nil || code < 400 || code >= 500 {
		t.Fatalf("status %d, err %v: want a 4xx", code, err)
	}
	if rss > 300 {
		t.Errorf("peak RSS %.0f MB, want under 300", rss)
	}
	code, ans, err = httpDo(t.Context(), "POST", "http://"+p.url+"/v2/models/spam/infer", textInfer("win free cash now"))
	report(t, "8 MB v1 request: another model afterwards", "status", code, "err", err)
	if code != 200 {
		t.Errorf("another model afterwards: %d %v %s", code, err, ans)
	}
}

func trunc(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// TestHostileTallPNG: a 1×16,777,216 PNG (about 32 KB) is within the
// pixel cap; its resize scratch was h·dw floats, 2.3 GB.
func TestHostileTallPNG(t *testing.T) {
	p := serveProc(t, hostileRepo(t), nil)
	img := image.NewGray(image.Rect(0, 0, 1, 1<<24))
	for i := range img.Pix {
		img.Pix[i] = uint8(i >> 16)
	}
	var pb bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestCompression}
	if err := enc.Encode(&pb, img); err != nil {
		t.Fatal(err)
	}
	data, _ := json.Marshal([]string{base64.StdEncoding.EncodeToString(pb.Bytes())})
	body := fmt.Sprintf(`{"inputs":[{"name":"image","datatype":"BYTES","shape":[1],"data":%s}]}`, data)
	before := p.peakRSS(t)
	t0 := time.Now()
	code, ans, err := httpDo(t.Context(), "POST", "http://"+p.url+"/v2/models/images/infer", body)
	took := time.Since(t0)
	rss := p.peakRSS(t)
	report(t, "tall PNG 1×16,777,216", "png_bytes", pb.Len(), "status", code, "err", err, "time", took.Round(time.Millisecond), "peakRSS_before_MB", fmt.Sprintf("%.0f", before), "peakRSS_MB", fmt.Sprintf("%.0f", rss), "answer", trunc(ans, 120))
	if code != 200 || !strings.Contains(ans, `"probs"`) {
		t.Errorf("status %d %v: %s", code, err, trunc(ans, 300))
	}
	if rss > 300 {
		t.Errorf("peak RSS %.0f MB, want under 300", rss)
	}
}

// TestHostile2MTexts: two million empty texts (8 MB) took 49 s and
// +1.6 GB.
func TestHostile2MTexts(t *testing.T) {
	p := serveProc(t, hostileRepo(t), nil)
	// Exactly 2,000,000 texts, as the shape says: 8 MB with ", " between.
	body := `{"inputs":[{"name":"text","datatype":"BYTES","shape":[2000000],"data":[` + strings.TrimSuffix(strings.Repeat(`"", `, 2000000), ", ") + "]}]}"
	before := p.peakRSS(t)
	t0 := time.Now()
	code, ans, err := httpDo(t.Context(), "POST", "http://"+p.url+"/v2/models/spam/infer", body)
	took := time.Since(t0)
	rss := p.peakRSS(t)
	report(t, "2M empty texts", "bytes", len(body), "status", code, "err", err, "time", took.Round(time.Millisecond), "peakRSS_before_MB", fmt.Sprintf("%.0f", before), "peakRSS_MB", fmt.Sprintf("%.0f", rss), "answer", trunc(ans, 160))
	if code != 413 || !strings.Contains(ans, "(max-") {
		t.Errorf("status %d: %s, want 413 naming a limit", code, trunc(ans, 300))
	}
}

// bilstmRepo lays out the reference BiLSTM (2 bidirectional layers of
// 256, 200 tokens) as "lstm".
func bilstmRepo(t *testing.T) string {
	repo := t.TempDir()
	m, _, err := tapemltest.Save("lstm", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(repo, "lstm", "1")
	copyDir(t, m, dst)
	// Its tokenizer knows no words: give it the legacy LSTM's vocabulary
	// (44 words, ids far inside the BiLSTM's), so that texts have tokens
	// to explain.
	var meta, old map[string]any
	readJSON(t, filepath.Join(dst, "meta.json"), &meta)
	readJSON(t, filepath.Join(legacy, "lstm", "meta.json"), &old)
	tok := meta["preprocessing"].(map[string]any)["tokenizer"].(map[string]any)
	known := old["preprocessing"].(map[string]any)["tokenizer"].(map[string]any)
	for _, k := range []string{"word_counts", "word_index", "document_count"} {
		tok[k] = known[k]
	}
	b, err := json.Marshal(meta)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dst, "meta.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	return repo
}

func readJSON(t *testing.T, path string, v any) {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// sentence is a realistic message of about 40 words, most of them in
// the vocabulary bilstmRepo gives the model.
const sentence = "hello team, the quarterly review meeting moved to tomorrow at three in the large room; please bring the report, the draft agenda and your notes on the project schedule, and call me if you cannot come for lunch"

// TestHostileAbandonedRequest: an 8,000-text BiLSTM request ran to the
// end after its client left, holding a worker; a later 1-text request
// waited 8.6 s.
func TestHostileAbandonedRequest(t *testing.T) {
	p := serveProc(t, bilstmRepo(t), nil, "--max-instances", "10000")
	base := "http://" + p.url
	texts := make([]string, 8000)
	for i := range texts {
		texts[i] = fmt.Sprintf("%s %d", sentence, i)
	}
	ctx, cancel := context.WithCancel(context.Background())
	go httpDo(ctx, "POST", base+"/v2/models/lstm/infer", textInfer(texts...))
	series := `tapeml_inference_exec_count{model="lstm",version="1"}`
	// Wait for its third batch — or 3 s, for a server that runs it as
	// one batch.
	for deadline := time.Now().Add(3 * time.Second); metricValueOr(base, series) < 3 && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
	}
	time.Sleep(2 * time.Second)
	// A 1-text request while the long one runs.
	t0 := time.Now()
	code, _, err := httpDo(t.Context(), "POST", base+"/v2/models/lstm/infer", textInfer(sentence))
	during := time.Since(t0)
	left := time.Now()
	cancel()
	// When did the server stop running its batches? (The last change of
	// its batch counter, sampled every 25 ms.)
	last, lastChange := metricValueOr(base, series), time.Now()
	for time.Since(lastChange) < 3*time.Second && time.Since(left) < 120*time.Second {
		time.Sleep(25 * time.Millisecond)
		if v := metricValueOr(base, series); v != last {
			last, lastChange = v, time.Now()
		}
	}
	stopped := lastChange.Sub(left)
	// And is it still computing? Its CPU time from 1 s to 3 s after the
	// client left (a server that runs the request as one batch shows no
	// batch counter change until it ends).
	for time.Since(left) < time.Second {
		time.Sleep(10 * time.Millisecond)
	}
	c0 := p.cpuSeconds(t)
	time.Sleep(2 * time.Second)
	busy := p.cpuSeconds(t) - c0
	report(t, "abandoned 8,000-text BiLSTM request", "batches_run", last, "of", 8000/32, "stopped_after_client_left", stopped.Round(time.Millisecond),
		"cpu_seconds_1s_to_3s_after", fmt.Sprintf("%.2f", busy),
		"one_text_request_during_it", during.Round(time.Millisecond), "its_status", code, "err", err, "peakRSS_MB", fmt.Sprintf("%.0f", p.peakRSS(t)))
	if stopped > time.Second || busy > 0.2 {
		t.Errorf("batches ran for %v after the client left, and %.2f s of CPU from 1 s to 3 s after: want it stopped within 1 s", stopped, busy)
	}
	if last >= 8000/32 {
		t.Errorf("all %v batches ran", last)
	}
}

// TestHostileSIGTERMDuringExplain: SIGTERM took 110 s (233 s during a
// long explain) with a documented shutdown timeout of 30 s.
func TestHostileSIGTERMDuringExplain(t *testing.T) {
	const timeout = 3 * time.Second
	p := serveProc(t, bilstmRepo(t), nil, "--shutdown-timeout", timeout.String(), "--max-explain-passes", "100000")
	base := "http://" + p.url
	texts := make([]string, 16)
	for i := range texts {
		texts[i] = sentence
	}
	answered := make(chan string, 1)
	go func() {
		code, body, err := httpDo(context.Background(), "POST", base+"/v2/models/lstm/explain", explainBody(texts, `{"steps":1000}`))
		answered <- fmt.Sprintf("%d %v %s", code, err, trunc(body, 120))
	}()
	time.Sleep(3 * time.Second) // the explanation is under way
	select {
	case a := <-answered:
		t.Fatalf("the explanation ended before SIGTERM: %s", a)
	default:
	}
	t0 := time.Now()
	p.cmd.Process.Signal(syscall.SIGTERM)
	var err error
	select {
	case err = <-p.exited:
	case <-time.After(300 * time.Second):
		t.Fatal("no exit within 300 s of SIGTERM")
	}
	took := time.Since(t0)
	code := p.cmd.ProcessState.ExitCode()
	var a string
	select {
	case a = <-answered:
	case <-time.After(5 * time.Second):
		a = "(no answer)"
	}
	report(t, "SIGTERM during a long explain", "shutdown_timeout", timeout, "exit_code", code, "exit_after", took.Round(time.Millisecond), "err", err, "explain_answer", a)
	if code != 0 || took > timeout+time.Second {
		t.Errorf("exit %d after %v, want 0 within %v\n%s", code, took, timeout+time.Second, p.stderr)
	}
}

// TestHostileFIFOConfig: a FIFO named config.json kept the server from
// ever listening.
func TestHostileFIFOConfig(t *testing.T) {
	repo := hostileRepo(t)
	if err := syscall.Mkfifo(filepath.Join(repo, "images", "config.json"), 0o644); err != nil {
		t.Fatal(err)
	}
	t0 := time.Now()
	p := serveProc(t, repo, nil)
	listening := time.Since(t0)
	base := "http://" + p.url
	code, _, err := httpDo(t.Context(), "POST", base+"/v2/models/spam/infer", textInfer("win"))
	logged := strings.Contains(p.stderr.String(), "FIFO")
	t1 := time.Now()
	p.cmd.Process.Signal(syscall.SIGTERM)
	<-p.exited
	report(t, "FIFO config.json", "listening_after", listening.Round(time.Millisecond), "other_model_status", code, "err", err, "logged", logged,
		"exit_code", p.cmd.ProcessState.ExitCode(), "exit_after_SIGTERM", time.Since(t1).Round(time.Millisecond))
	if code != 200 || !logged || p.cmd.ProcessState.ExitCode() != 0 {
		t.Errorf("another model %d, FIFO logged %v, exit %d\n%s", code, logged, p.cmd.ProcessState.ExitCode(), p.stderr)
	}
}

// TestHostileNaNModel: a model whose finite weights overflow answered
// 200 with an empty body.
func TestHostileNaNModel(t *testing.T) {
	repo := t.TempDir()
	if err := tapemltest.Overflowing(filepath.Join(legacy, "textcnn"), filepath.Join(repo, "win", "1"), 31); err != nil {
		t.Fatal(err)
	}
	if err := tapemltest.Overflowing(filepath.Join(legacy, "textcnn"), filepath.Join(repo, "pad", "1"), 0); err != nil {
		t.Fatal(err)
	}
	p := serveProc(t, repo, nil)
	base := "http://" + p.url
	code, body, _ := httpDo(t.Context(), "POST", base+"/v2/models/win/infer", textInfer("win free cash"))
	pcode, pbody, _ := httpDo(t.Context(), "POST", base+"/v2/models/pad/infer", textInfer("meeting"))
	report(t, "NaN model", "overflowing_text_status", code, "answer", trunc(body, 140), "model_overflowing_at_warmup_status", pcode, "answer2", trunc(pbody, 140))
	if code != 500 || !strings.Contains(body, "not finite") {
		t.Errorf("a NaN answer: %d %s", code, body)
	}
	if pcode != 503 {
		t.Errorf("a model NaN at warm-up: %d %s", pcode, pbody)
	}
}

// TestHostileIdleConnections: 20,000 idle keep-alive connections used up
// the file descriptors (20,000 here); the server became unreachable and
// its repository scans failed. The clients are 4 subprocesses holding
// 5,000 connections each (a process here may open 20,000 files at most).
func TestHostileIdleConnections(t *testing.T) {
	repo := hostileRepo(t)
	p := serveProc(t, repo, []string{"prlimit", "--nofile=20000:20000"}, "--poll", "500ms")
	addr := p.url
	const holders, each = 4, 5000
	t0 := time.Now()
	type held struct{ answered, failed, refused int }
	results := make(chan held, holders)
	var stdins []io.Closer
	for range holders {
		cmd := exec.Command(os.Args[0], "-test.run", "^TestHostileIdleHolder$")
		cmd.Env = append(os.Environ(), "TAPEML_HOLD_ADDR="+addr, "TAPEML_HOLD_N="+strconv.Itoa(each))
		stdin, _ := cmd.StdinPipe()
		stdout, _ := cmd.StdoutPipe()
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		stdins = append(stdins, stdin)
		t.Cleanup(func() { stdin.Close(); cmd.Wait() })
		go func() {
			sc := bufio.NewScanner(stdout)
			for sc.Scan() {
				var h held
				if _, err := fmt.Sscanf(sc.Text(), "HELD %d %d %d", &h.answered, &h.failed, &h.refused); err == nil {
					results <- h
					break
				}
			}
			io.Copy(io.Discard, stdout)
		}()
	}
	var total held
	for range holders {
		select {
		case h := <-results:
			total.answered += h.answered
			total.failed += h.failed
			total.refused += h.refused
		case <-time.After(10 * time.Minute):
			t.Fatal("the holders did not report")
		}
	}
	opened := time.Since(t0)
	fds, _ := os.ReadDir(fmt.Sprintf("/proc/%d/fd", p.pid()))
	// A normal client, and a repository scan, still work while the
	// holders keep their 20,000 connections.
	t1 := time.Now()
	code, _, err := httpDo(t.Context(), "POST", "http://"+addr+"/v2/models/spam/infer", textInfer("win"))
	normal := time.Since(t1)
	copyDir(t, filepath.Join(legacy, "textcnn"), filepath.Join(repo, "spam", "2"))
	var scanned bool
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline) && !scanned; time.Sleep(250 * time.Millisecond) {
		_, b, _ := httpDo(t.Context(), "GET", "http://"+addr+"/v2/models/spam", "")
		scanned = strings.Contains(b, `"versions":["2"]`)
	}
	_, metrics, _ := httpDo(t.Context(), "GET", "http://"+addr+"/metrics", "")
	report(t, "20,000 idle connections", "dialled", holders*each, "answered", total.answered, "dial_failures", total.failed, "closed_without_answer", total.refused,
		"in", opened.Round(time.Millisecond), "server_fds", len(fds), "evicted", metricLine(metrics, `tapeml_connections_evicted_total{protocol="http"}`),
		"normal_request_status", code, "err", err, "its_time", normal.Round(time.Millisecond), "new_version_loaded", scanned, "alive", p.alive(), "peakRSS_MB", fmt.Sprintf("%.0f", p.peakRSS(t)))
	for _, c := range stdins {
		c.Close()
	}
	if code != 200 || !scanned {
		t.Errorf("a normal request %d %v; new version loaded %v\n%s", code, err, scanned, trunc(p.stderr.String(), 2000))
	}
	if len(fds) > 1100 {
		t.Errorf("the server holds %d file descriptors", len(fds))
	}
}

// metricLine is a series' value in a /metrics text, or "".
func metricLine(body, series string) string {
	for _, line := range strings.Split(body, "\n") {
		if rest, ok := strings.CutPrefix(line, series+" "); ok {
			return rest
		}
	}
	return ""
}

// TestHostileIdleHolder is TestHostileIdleConnections' client: run in a
// subprocess, it opens TAPEML_HOLD_N connections to TAPEML_HOLD_ADDR,
// sends one request on each and reads its answer, prints
// "HELD answered failed refused" and keeps them until its stdin closes.
func TestHostileIdleHolder(t *testing.T) {
	addr := os.Getenv("TAPEML_HOLD_ADDR")
	if addr == "" {
		t.Skip("run by TestHostileIdleConnections")
	}
	n, _ := strconv.Atoi(os.Getenv("TAPEML_HOLD_N"))
	req := "GET /v2/health/live HTTP/1.1\r\nHost: " + addr + "\r\n\r\n"
	conns := make([]net.Conn, 0, n)
	answered, failed, refused := 0, 0, 0
	buf := make([]byte, 256)
	for range n {
		c, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			failed++
			continue
		}
		conns = append(conns, c)
		io.WriteString(c, req)
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := c.Read(buf); err != nil {
			refused++ // closed at once, or never answered
		} else {
			answered++
		}
	}
	fmt.Printf("HELD %d %d %d\n", answered, failed, refused)
	io.Copy(io.Discard, os.Stdin)
	for _, c := range conns {
		c.Close()
	}
}
