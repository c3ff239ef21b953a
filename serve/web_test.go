package serve_test

import (
	"context"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/tapeml/tapeml"
	"github.com/tapeml/tapeml/serve"
)

const chromium = "/usr/bin/chromium"

// TestWebPage drives the page at / in headless Chromium: it types a text
// for the text model and uploads a PNG for the image model, and checks the
// class shown is the library's. It skips when Chromium is not installed
// (Debian: apt-get install -y chromium). With TAPEML_SCREENSHOT=FILE.png it
// saves a screenshot of the text result.
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
}
