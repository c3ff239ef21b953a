package serve_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/tapeml/tapeml"
	"github.com/tapeml/tapeml/explain"
	"github.com/tapeml/tapeml/serve"
)

const chromium = "/usr/bin/chromium"

// TestWebPage drives the page at / in headless Chromium: it types a text
// for the text model and uploads a PNG for the image model, and checks the
// class shown is the library's; then it asks for each explanation and
// checks the highlighted tokens against the explain endpoint's and the
// heat map against the library's HeatMap. It skips when Chromium is not
// installed (Debian: apt-get install -y chromium). With
// TAPEML_SCREENSHOT=FILE.png it saves a screenshot of the text result, one
// of its explanation as FILE-explain.png and one of the image's as
// FILE-heatmap.png.
func TestWebPage(t *testing.T) {
	if _, err := os.Stat(chromium); err != nil {
		t.Skipf("no %s: %v", chromium, err)
	}
	dir := repository(t)
	ts := start(t, serve.Config{Models: dir, Poll: -1})

	text := "claim your bonus prize, click"
	m, err := tapeml.Load(filepath.Join(dir, "spam", "2", "textcnn.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	want, err := m.ClassifyTexts(context.Background(), []string{text})
	if err != nil {
		t.Fatal(err)
	}
	conv, err := tapeml.Load(filepath.Join(dir, "digits", "1"))
	if err != nil {
		t.Fatal(err)
	}
	_, imgs := pixels(1)
	wantImg, err := conv.ClassifyImages(context.Background(), imgs)
	if err != nil {
		t.Fatal(err)
	}
	pngPath := filepath.Join(t.TempDir(), "digit.png")
	f, err := os.Create(pngPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := png.Encode(f, imgs[0]); err != nil {
		t.Fatal(err)
	}
	f.Close()

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium), chromedp.NoSandbox, chromedp.Flag("headless", true), chromedp.WindowSize(900, 700))
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancel()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancel = context.WithTimeout(ctx, 60*time.Second)
	defer cancel()

	var class, prob, probs, kind string
	var shot []byte
	err = chromedp.Run(ctx,
		chromedp.Navigate(ts.url+"/"),
		chromedp.WaitEnabled(`#go`, chromedp.ByID), // the first model, digits, is shown
		chromedp.SetValue(`#model`, "spam", chromedp.ByID),
		chromedp.Evaluate(`document.getElementById("model").dispatchEvent(new Event("change"))`, nil),
		chromedp.WaitVisible(`#text`, chromedp.ByID),
		chromedp.SetValue(`#version`, "2", chromedp.ByID),
		chromedp.Evaluate(`document.getElementById("version").dispatchEvent(new Event("change"))`, nil),
		chromedp.Poll(`document.getElementById("kind").textContent === "tapeml_textcnn" && !document.getElementById("go").disabled`, nil),
		chromedp.SendKeys(`#text`, text, chromedp.ByID),
		chromedp.Click(`#go`, chromedp.ByID),
		chromedp.WaitVisible(`#result`, chromedp.ByID),
		chromedp.Text(`#class`, &class, chromedp.ByID),
		chromedp.Text(`#prob`, &prob, chromedp.ByID),
		chromedp.Text(`#probs`, &probs, chromedp.ByID),
		chromedp.Text(`#kind`, &kind, chromedp.ByID),
		chromedp.FullScreenshot(&shot, 100), // 100: PNG,
	)
	if err != nil {
		t.Fatal(err)
	}
	if class != want[0].Class || !strings.Contains(probs, "ham") || !strings.Contains(probs, "spam") || kind != "tapeml_textcnn" {
		t.Errorf("page shows class %q %s, probabilities %q (%s); the library says %s %v", class, prob, probs, kind, want[0].Class, want[0].Probs)
	}
	if path := os.Getenv("TAPEML_SCREENSHOT"); path != "" {
		if err := os.WriteFile(path, shot, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("screenshot: %s", path)
	}

	// Why: the highlighted tokens are the endpoint's, coloured by its scores.
	if err := chromedp.Run(ctx, chromedp.Evaluate(watchErrors, nil)); err != nil {
		t.Fatal(err)
	}
	textPath := ts.url + "/v2/models/spam/versions/2/explain"
	wantEx := explainText(t, textPath, text)
	if len(wantEx.Explanation.Tokens) == 0 {
		t.Fatalf("the fixture's model sees no token of %q; the test needs some", text)
	}
	got, meta := explainOnPage(t, ctx)
	checkTokens(t, got, wantEx)
	if rd := wantEx.RelativeDelta; rd != nil && !strings.Contains(meta, fmt.Sprintf("completeness delta %s (%.2f%%", strconv.FormatFloat(wantEx.Explanation.Delta, 'g', 3, 64), 100**rd)) {
		t.Errorf("explanation notes %q; want the completeness delta %g (%.2f%%)", meta, wantEx.Explanation.Delta, 100**rd)
	}
	if c := wantEx.Converged; c == nil || *c != !strings.Contains(meta, "Not converged") {
		t.Errorf("explanation notes %q; the endpoint says converged %v", meta, c)
	}
	if err := chromedp.Run(ctx, chromedp.FullScreenshot(&shot, 100)); err != nil {
		t.Fatal(err)
	}
	if path := os.Getenv("TAPEML_SCREENSHOT"); path != "" {
		path = strings.TrimSuffix(path, ".png") + "-explain.png"
		if err := os.WriteFile(path, shot, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("screenshot of the explanation: %s", path)
	}

	// A text longer than the model's 12 positions: classifying it again
	// clears the old explanation, and the new one says it was truncated.
	long := strings.Repeat(wantEx.Explanation.Tokens[0].Token+" ", 20)
	wantLong := explainText(t, textPath, long)
	if wantLong.Explanation.Truncated == 0 {
		t.Fatalf("%q was not truncated: %+v", long, wantLong.Explanation)
	}
	var stale int
	err = chromedp.Run(ctx,
		chromedp.SetValue(`#text`, long, chromedp.ByID),
		chromedp.Click(`#go`, chromedp.ByID),
		chromedp.Poll(`!document.getElementById("explain").disabled`, nil),
		chromedp.Evaluate(`document.querySelectorAll("#tokens .t").length`, &stale),
	)
	if err != nil {
		t.Fatal(err)
	}
	if stale != 0 {
		t.Errorf("%d tokens of the previous explanation still shown after a new classification", stale)
	}
	got, meta = explainOnPage(t, ctx)
	checkTokens(t, got, wantLong)
	if want := fmt.Sprintf("truncated to the model's length: %d words at its %s", wantLong.Explanation.Truncated, wantLong.Explanation.TruncatedFrom); !strings.Contains(meta, want) {
		t.Errorf("explanation notes %q; want %q", meta, want)
	}

	// The endpoint's errors are one line on the page, and its text is
	// never markup: a stand-in for fetch answers the explain requests.
	const fakeFetch = `window.realFetch = window.realFetch || window.fetch;
window.fetch = (url, opts) => {
  if (!String(url).endsWith("/explain")) return window.realFetch(url, opts);
  const [code, body] = window.fakeAnswer;
  return Promise.resolve(new Response(JSON.stringify(body), {status: code, headers: {"Content-Type": "application/json"}}));
}; true`
	bad := `<img src=x onerror="window.pwned=1">`
	answers := []string{
		`[400, {error: "line one\nline two <b>bold</b>"}]`,
		`[502, "not the server's error shape"]`,
		fmt.Sprintf(`[200, {explanations: [{converged: true, explanation: {method: "saliency", baseline: "pad", target: %[1]q, prediction: {Class: %[1]q}, tokens: [{token: %[2]q, score: 1}], unknown: [%[2]q]}}]}]`, bad, bad),
	}
	for i, a := range answers {
		var errText, tokens string
		var markup int
		err = chromedp.Run(ctx,
			chromedp.Evaluate(fakeFetch, nil),
			chromedp.Evaluate(`window.fakeAnswer = `+a, nil),
			chromedp.Click(`#go`, chromedp.ByID),
			chromedp.Poll(`!document.getElementById("explain").disabled`, nil),
			chromedp.Click(`#explain`, chromedp.ByID),
			chromedp.Poll(`document.getElementById("explain-error").textContent !== "" || !document.getElementById("explanation").classList.contains("hidden")`, nil),
			chromedp.Evaluate(`document.getElementById("explain-error").textContent`, &errText),
			chromedp.Evaluate(`[...document.querySelectorAll("#tokens .t")].map((s) => s.textContent).join("|")`, &tokens),
			chromedp.Evaluate(`document.querySelectorAll("#explain-error *, #explanation img:not(#heat), #explanation b").length + (window.pwned ? 1 : 0)`, &markup),
		)
		if err != nil {
			t.Fatal(err)
		}
		switch i {
		case 0:
			if errText != "explanation failed: line one line two <b>bold</b>" {
				t.Errorf("error shown as %q", errText)
			}
		case 1:
			if !strings.HasPrefix(errText, "explanation failed: 502") || strings.Contains(errText, "\n") {
				t.Errorf("error shown as %q", errText)
			}
		case 2:
			if errText != "" || tokens != bad {
				t.Errorf("for the token %q the page shows tokens %q, error %q", bad, tokens, errText)
			}
		}
		if markup != 0 {
			t.Errorf("answer %d: server text became markup", i)
		}
	}
	if err := chromedp.Run(ctx, chromedp.Evaluate(`window.fetch = window.realFetch; true`, nil)); err != nil {
		t.Fatal(err)
	}

	// The image model: choose it, upload a PNG, classify.
	var imgClass string
	err = chromedp.Run(ctx,
		chromedp.SetValue(`#model`, "digits", chromedp.ByID),
		chromedp.Evaluate(`document.getElementById("model").dispatchEvent(new Event("change"))`, nil),
		chromedp.Poll(`document.getElementById("kind").textContent === "tapeml_convnet"`, nil),
		chromedp.WaitVisible(`#drop`, chromedp.ByID),
		chromedp.SetUploadFiles(`#file`, []string{pngPath}, chromedp.ByID),
		chromedp.WaitVisible(`#drop img`, chromedp.ByQuery),
		chromedp.Click(`#go`, chromedp.ByID),
		chromedp.WaitVisible(`#result`, chromedp.ByID),
		chromedp.Text(`#class`, &imgClass, chromedp.ByID),
	)
	if err != nil {
		t.Fatal(err)
	}
	if imgClass != wantImg[0].Class {
		t.Errorf("page shows class %q for the image; the library says %s", imgClass, wantImg[0].Class)
	}

	// Why, for the image: the page shows the library's HeatMap of what
	// the model saw, as the server rendered it, scaled up.
	exImg, err := explain.Images(context.Background(), conv, imgs, explain.Options{})
	if err != nil {
		t.Fatal(err)
	}
	heatImg, err := exImg[0].HeatMap(1)
	if err != nil {
		t.Fatal(err)
	}
	heat := heatImg.(*image.RGBA)
	var shown struct {
		Src                   string
		NaturalW, NaturalH, W int
	}
	err = chromedp.Run(ctx,
		chromedp.Click(`#explain`, chromedp.ByID),
		chromedp.Poll(`document.getElementById("explain-error").textContent !== "" || !document.getElementById("explanation").classList.contains("hidden")`, nil),
		chromedp.Evaluate(`(() => {
  const i = document.getElementById("heat");
  return {src: i.getAttribute("src") || "", naturalW: i.naturalWidth, naturalH: i.naturalHeight, w: Math.round(i.getBoundingClientRect().width)};
})()`, &shown),
	)
	if err != nil {
		t.Fatal(err)
	}
	var msg string
	if err := chromedp.Run(ctx, chromedp.Evaluate(`document.getElementById("explain-error").textContent`, &msg), chromedp.FullScreenshot(&shot, 100)); err != nil || msg != "" {
		t.Fatalf("explaining the image: %q %v", msg, err)
	}
	if path := os.Getenv("TAPEML_SCREENSHOT"); path != "" {
		path = strings.TrimSuffix(path, ".png") + "-heatmap.png"
		if err := os.WriteFile(path, shot, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("screenshot of the image explanation: %s", path)
	}
	hw, hh := heat.Bounds().Dx(), heat.Bounds().Dy()
	if shown.NaturalW != hw || shown.NaturalH != hh || shown.W < 4*hw {
		t.Fatalf("heat map image %d×%d shown %d px wide; want %d×%d, scaled up", shown.NaturalW, shown.NaturalH, shown.W, hw, hh)
	}
	b64, ok := strings.CutPrefix(shown.Src, "data:image/png;base64,")
	raw, err := base64.StdEncoding.DecodeString(b64)
	if !ok || err != nil {
		t.Fatalf("heat map src %.60q: not a base64 PNG (%v)", shown.Src, err)
	}
	pix, err := png.Decode(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	coloured, off := 0, 0
	for y := range hh {
		for x := range hw {
			r, g, b, _ := pix.At(x, y).RGBA()
			c := heat.RGBAAt(x, y)
			if uint8(r>>8) != c.R || uint8(g>>8) != c.G || uint8(b>>8) != c.B {
				if off++; off <= 5 {
					t.Errorf("heat map pixel (%d, %d) is %d,%d,%d; the library's HeatMap has %v", x, y, r>>8, g>>8, b>>8, c)
				}
			}
			if x >= hw/2 && (c.R != c.G || c.G != c.B) {
				coloured++
			}
		}
	}
	if off > 0 {
		t.Errorf("%d of %d pixels differ from the library's HeatMap", off, hw*hh)
	}
	if coloured == 0 {
		t.Errorf("the heat map has no coloured pixel")
	}
	var errs []string
	if err := chromedp.Run(ctx, chromedp.Evaluate(`window.pageErrors`, &errs)); err != nil {
		t.Fatal(err)
	}
	if len(errs) > 0 {
		t.Errorf("uncaught errors on the page: %q", errs)
	}
}

// watchErrors collects the page's uncaught exceptions and rejections.
const watchErrors = `window.pageErrors = [];
window.addEventListener("error", (e) => window.pageErrors.push(String(e.message)));
window.addEventListener("unhandledrejection", (e) => window.pageErrors.push(String(e.reason)));
true`

type textExplained struct {
	Explanation struct {
		Target     string `json:"target"`
		Prediction struct {
			Class string
		} `json:"prediction"`
		Tokens []struct {
			Token string  `json:"token"`
			Score float64 `json:"score"`
		} `json:"tokens"`
		Delta         float64 `json:"delta"`
		Truncated     int     `json:"truncated"`
		TruncatedFrom string  `json:"truncated_from"`
	} `json:"explanation"`
	RelativeDelta *float64 `json:"relative_delta"`
	Converged     *bool    `json:"converged"`
}

// explainText asks the endpoint, as the page does (default parameters).
func explainText(t *testing.T, url, text string) textExplained {
	t.Helper()
	code, body := do(t, http.MethodPost, url, explainBody([]string{text}, `{}`))
	if code != http.StatusOK {
		t.Fatalf("explain: status %d: %s", code, body)
	}
	var a struct{ Explanations []textExplained }
	if err := json.Unmarshal(body, &a); err != nil || len(a.Explanations) != 1 {
		t.Fatalf("explain answered %s (%v)", body, err)
	}
	return a.Explanations[0]
}

type pageToken struct {
	Text       string `json:"text"`
	Title      string `json:"title"`
	Background string `json:"background"`
}

// explainOnPage clicks the page's explain button and returns the
// highlighted tokens and the notes under them.
func explainOnPage(t *testing.T, ctx context.Context) ([]pageToken, string) {
	t.Helper()
	var toks []pageToken
	var msg, meta string
	err := chromedp.Run(ctx,
		chromedp.Click(`#explain`, chromedp.ByID),
		chromedp.Poll(`document.getElementById("explain-error").textContent !== "" || !document.getElementById("explanation").classList.contains("hidden")`, nil),
		chromedp.Evaluate(`document.getElementById("explain-error").textContent`, &msg),
		chromedp.Evaluate(`[...document.querySelectorAll("#tokens .t")].map((s) => ({text: s.textContent, title: s.title, background: getComputedStyle(s).backgroundColor}))`, &toks),
		chromedp.Evaluate(`document.getElementById("explain-meta").textContent`, &meta),
	)
	if err != nil {
		t.Fatal(err)
	}
	if msg != "" {
		t.Fatalf("the page says %q", msg)
	}
	return toks, meta
}

var cssColour = regexp.MustCompile(`^rgba?\((\d+), (\d+), (\d+)(?:, ([\d.e-]+))?\)$`)

// checkTokens compares the page's highlighted tokens with the endpoint's:
// same tokens in order, the score as title, and explain_render.go's
// colour rule (green for, red against the predicted class, alpha
// 0.85·|score|/max|score|).
func checkTokens(t *testing.T, got []pageToken, want textExplained) {
	t.Helper()
	ex := want.Explanation
	if len(got) != len(ex.Tokens) {
		t.Fatalf("the page highlights %d tokens %+v; the endpoint returns %d", len(got), got, len(ex.Tokens))
	}
	largest := 0.0
	for _, w := range ex.Tokens {
		largest = max(largest, math.Abs(w.Score))
	}
	coloured := 0
	for i, w := range ex.Tokens {
		g := got[i]
		if g.Text != w.Token {
			t.Errorf("token %d is %q; the endpoint says %q", i, g.Text, w.Token)
		}
		if v, err := strconv.ParseFloat(g.Title, 64); err != nil || math.Abs(v-w.Score) > 1e-3*math.Abs(w.Score)+1e-12 {
			t.Errorf("token %q has title %q; its score is %g", w.Token, g.Title, w.Score)
		}
		m := cssColour.FindStringSubmatch(g.Background)
		if m == nil {
			t.Errorf("token %q has background %q", w.Token, g.Background)
			continue
		}
		alpha := 1.0
		if m[4] != "" {
			alpha, _ = strconv.ParseFloat(m[4], 64)
		}
		wantAlpha := 0.0
		if largest > 0 {
			wantAlpha = 0.85 * math.Abs(w.Score) / largest
		}
		if math.Abs(alpha-wantAlpha) > 0.01 {
			t.Errorf("token %q (score %g of at most %g) has alpha %g, want %.3f", w.Token, w.Score, largest, alpha, wantAlpha)
		}
		favours := w.Score < 0
		if ex.Target == ex.Prediction.Class {
			favours = w.Score > 0
		}
		wantRGB := "220 30 30"
		if favours {
			wantRGB = "0 160 60"
		}
		if rgb := strings.Join(m[1:4], " "); wantAlpha > 0.01 && rgb != wantRGB {
			t.Errorf("token %q (score %+g; target %s, predicted %s) is coloured %s, want %s", w.Token, w.Score, ex.Target, ex.Prediction.Class, rgb, wantRGB)
		}
		if alpha > 0 {
			coloured++
		}
	}
	if coloured == 0 {
		t.Errorf("no token has a visible background: %+v", got)
	}
}
