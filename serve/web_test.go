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

// pageRows reads a table's body as text cells.
func pageRows(t *testing.T, ctx context.Context, table string) [][]string {
	t.Helper()
	var rows [][]string
	err := chromedp.Run(ctx, chromedp.Evaluate(fmt.Sprintf(`[...document.querySelectorAll("#%s tbody tr")].map((tr) => [...tr.cells].map((td) => td.textContent))`, table), &rows))
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// TestWebPageRecommender drives the page for a recommender in headless
// Chromium: it recommends for a user (items, titles and scores as the
// library ranks them, the score column named by what ranks them, the
// predicted rating beside it), lists the items similar to one from its
// row, labels the popularity fallback for an unknown user, shows errors
// in one line, and never turns a title into markup. With
// TAPEML_SCREENSHOT=FILE.png it saves FILE-recommend.png.
func TestWebPageRecommender(t *testing.T) {
	if _, err := os.Stat(chromium); err != nil {
		t.Skipf("no %s: %v", chromium, err)
	}
	dir := t.TempDir()
	ckpt := recommenderCheckpoint(t)
	copyDir(t, ckpt, filepath.Join(dir, "films", "1"))
	copyDir(t, filepath.Join(legacy, "textcnn.safetensors"), filepath.Join(dir, "spam", "1"))
	ts := start(t, serve.Config{Models: dir, Poll: -1})
	m, err := tapeml.Load(ckpt)
	if err != nil {
		t.Fatal(err)
	}
	bg := context.Background()
	// A user whose list holds film 7, whose title is markup.
	user, n := "", 12
	var want tapeml.Recommendations
	for u := 1; u <= 40 && user == ""; u++ {
		r, err := m.Recommendations(bg, tapeml.RecommendRequest{User: strconv.Itoa(u), N: n})
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range r.Items {
			if it.Item == "7" {
				user, want = strconv.Itoa(u), r
			}
		}
	}
	if user == "" {
		t.Fatal("no user's top 12 holds film 7; the fixture needs one")
	}

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium), chromedp.NoSandbox, chromedp.Flag("headless", true), chromedp.WindowSize(900, 900))
	actx, cancel := chromedp.NewExecAllocator(bg, opts...)
	defer cancel()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancel = context.WithTimeout(ctx, 60*time.Second)
	defer cancel()

	var scoreHead, ratingHead, note string
	err = chromedp.Run(ctx,
		chromedp.Navigate(ts.url+"/"),
		chromedp.Poll(`document.getElementById("model").options.length === 2`, nil),
		chromedp.Evaluate(watchErrors, nil),
		chromedp.SetValue(`#model`, "films", chromedp.ByID),
		chromedp.Evaluate(`document.getElementById("model").dispatchEvent(new Event("change"))`, nil),
		chromedp.Poll(`document.getElementById("kind").textContent === "tapeml_recsys" && !document.getElementById("go").disabled`, nil),
		chromedp.WaitVisible(`#user`, chromedp.ByID),
		chromedp.WaitVisible(`#item`, chromedp.ByID),
		chromedp.SendKeys(`#user`, user, chromedp.ByID),
		chromedp.SetValue(`#n`, strconv.Itoa(n), chromedp.ByID),
		chromedp.Click(`#go`, chromedp.ByID),
		chromedp.WaitVisible(`#rec-result`, chromedp.ByID),
		chromedp.Text(`#rec-score`, &scoreHead, chromedp.ByID),
		chromedp.Text(`#rec-rating`, &ratingHead, chromedp.ByID),
		chromedp.Text(`#rec-note`, &note, chromedp.ByID),
	)
	if err != nil {
		t.Fatal(err)
	}
	var goText string
	if err := chromedp.Run(ctx, chromedp.Text(`#go`, &goText, chromedp.ByID)); err != nil || goText != "Recommend" {
		t.Errorf("the button says %q (%v), want Recommend", goText, err)
	}
	if scoreHead != want.RankedBy || ratingHead != "predicted rating" || !strings.Contains(note, want.Meaning) || !strings.Contains(note, "user "+strconv.Quote(user)) {
		t.Errorf("header %q | %q, note %q; the library ranks by %q: %s", scoreHead, ratingHead, note, want.RankedBy, want.Meaning)
	}
	rows := pageRows(t, ctx, "recs")
	if len(rows) != len(want.Items) {
		t.Fatalf("the page lists %d items %q; the library %d", len(rows), rows, len(want.Items))
	}
	for i, w := range want.Items {
		r := rows[i] // #, item, title, score, rating, popularity, button
		if len(r) != 7 || r[0] != strconv.Itoa(i+1) || r[1] != w.Item || r[2] != w.Title || r[5] != strconv.Itoa(w.Popularity) {
			t.Errorf("row %d is %q; the library says %+v", i+1, r, w)
			continue
		}
		if s, err := strconv.ParseFloat(r[3], 64); err != nil || math.Abs(s-float64(w.Score)) > 5.1e-5 {
			t.Errorf("row %d: score %q; the library's is %g", i+1, r[3], w.Score)
		}
		if s, err := strconv.ParseFloat(r[4], 64); err != nil || math.Abs(s-float64(w.Rating)) > 0.006 {
			t.Errorf("row %d: predicted rating %q; the library's is %g", i+1, r[4], w.Rating)
		}
	}
	var markup int
	if err := chromedp.Run(ctx, chromedp.Evaluate(`document.querySelectorAll("#recs img").length`, &markup)); err != nil || markup != 0 {
		t.Errorf("a title became markup: %d images in the list (%v)", markup, err)
	}

	// Similar items, from the first row's button.
	first := want.Items[0].Item
	wantSim, err := m.SimilarItems(bg, first, n)
	if err != nil {
		t.Fatal(err)
	}
	var simHead, simNote string
	var shot []byte
	err = chromedp.Run(ctx,
		chromedp.Click(`#recs tbody tr:first-child button`, chromedp.ByQuery),
		chromedp.WaitVisible(`#similar-result`, chromedp.ByID),
		chromedp.Text(`#similar-score`, &simHead, chromedp.ByID),
		chromedp.Text(`#similar-note`, &simNote, chromedp.ByID),
		chromedp.FullScreenshot(&shot, 100),
	)
	if err != nil {
		t.Fatal(err)
	}
	if path := os.Getenv("TAPEML_SCREENSHOT"); path != "" {
		path = strings.TrimSuffix(path, ".png") + "-recommend.png"
		if err := os.WriteFile(path, shot, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("screenshot of the recommendations: %s", path)
	}
	sim := pageRows(t, ctx, "similars")
	if simHead != "similarity" || !strings.Contains(simNote, strconv.Quote(first)) || len(sim) != len(wantSim) {
		t.Fatalf("similar items: header %q, note %q, %d rows; the library lists %d", simHead, simNote, len(sim), len(wantSim))
	}
	for i, w := range wantSim {
		r := sim[i]
		s, err := strconv.ParseFloat(r[3], 64)
		if r[1] != w.ID || r[2] != w.Title || err != nil || math.Abs(s-w.Score) > 5.1e-5 {
			t.Errorf("similar row %d is %q; the library says %+v", i+1, r, w)
		}
	}

	// An unknown user: the most popular items, labelled so, no score.
	fallback, err := m.Recommendations(bg, tapeml.RecommendRequest{User: "nobody", N: 3})
	if err != nil {
		t.Fatal(err)
	}
	var warn string
	var scoreShown bool
	err = chromedp.Run(ctx,
		chromedp.SetValue(`#user`, "nobody", chromedp.ByID),
		chromedp.SetValue(`#n`, "3", chromedp.ByID),
		chromedp.Click(`#go`, chromedp.ByID),
		chromedp.WaitVisible(`#rec-result`, chromedp.ByID),
		chromedp.Evaluate(`document.querySelector("#rec-note .warn")?.textContent ?? ""`, &warn),
		chromedp.Evaluate(`!document.getElementById("rec-score").classList.contains("hidden")`, &scoreShown),
	)
	if err != nil {
		t.Fatal(err)
	}
	rows = pageRows(t, ctx, "recs")
	if !strings.Contains(warn, "most popular") || scoreShown || len(rows) != len(fallback.Items) {
		t.Errorf("unknown user: note %q, score column shown %v, rows %q", warn, scoreShown, rows)
	}
	for i, w := range fallback.Items {
		if i < len(rows) && (rows[i][1] != w.Item || rows[i][3] != strconv.Itoa(w.Popularity)) {
			t.Errorf("fallback row %d is %q; the library says %+v", i+1, rows[i], w)
		}
	}

	// Errors: a bad n on the page, an unknown item from the server.
	var errText, simErr string
	err = chromedp.Run(ctx,
		chromedp.SetValue(`#n`, "0", chromedp.ByID),
		chromedp.Click(`#go`, chromedp.ByID),
		chromedp.Poll(`document.getElementById("error").textContent !== ""`, nil),
		chromedp.Text(`#error`, &errText, chromedp.ByID),
		chromedp.SetValue(`#n`, "5", chromedp.ByID),
		chromedp.SetValue(`#item`, "no such film", chromedp.ByID),
		chromedp.Click(`#similar`, chromedp.ByID),
		chromedp.Poll(`document.getElementById("similar-error").textContent !== ""`, nil),
		chromedp.Text(`#similar-error`, &simErr, chromedp.ByID),
	)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(errText, "not a whole number from 1") || !strings.Contains(simErr, "unknown item") {
		t.Errorf("errors shown: %q and %q", errText, simErr)
	}

	// Switching to a text model hides the recommender's fields and lists.
	var errs []string
	var hidden bool
	err = chromedp.Run(ctx,
		chromedp.SetValue(`#model`, "spam", chromedp.ByID),
		chromedp.Evaluate(`document.getElementById("model").dispatchEvent(new Event("change"))`, nil),
		chromedp.Poll(`document.getElementById("kind").textContent === "tapeml_textcnn"`, nil),
		chromedp.Evaluate(`["rec-input", "similar-input", "rec-result", "similar-result"].every((id) => document.getElementById(id).classList.contains("hidden")) && document.getElementById("go").textContent === "Classify"`, &hidden),
		chromedp.Evaluate(`window.pwned ? 1 : 0`, &markup),
		chromedp.Evaluate(`window.pageErrors`, &errs),
	)
	if err != nil {
		t.Fatal(err)
	}
	if !hidden {
		t.Error("the recommender's fields stay shown for a text model")
	}
	if markup != 0 {
		t.Error("a title became markup")
	}
	if len(errs) > 0 {
		t.Errorf("uncaught errors on the page: %q", errs)
	}
}
