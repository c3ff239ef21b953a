// Package tapemltest helps test programs built on tapeml, as
// net/http/httptest does for HTTP: it saves the reference models with
// seeded random weights as checkpoints (every built-in kind's default
// architecture, and a small ConvNet), with input batches for them — what
// the inference benchmarks measure and what the server's, Beam's and the
// deployment tests load. Importing it links every built-in kind.
package tapemltest

import (
	"encoding/json"
	"fmt"
	"image"
	"math/rand/v2"
	"path/filepath"
	"strings"

	"gorgonia.org/tensor"

	"github.com/tapeml/tapeml/checkpoint"
	"github.com/tapeml/tapeml/graph"
	"github.com/tapeml/tapeml/imageclass"
	"github.com/tapeml/tapeml/imagedata"
	_ "github.com/tapeml/tapeml/models/all"
	"github.com/tapeml/tapeml/models/convnet"
	"github.com/tapeml/tapeml/models/lstm"
	"github.com/tapeml/tapeml/models/textcnn"
	"github.com/tapeml/tapeml/models/transformer"
	"github.com/tapeml/tapeml/safetensors"
	"github.com/tapeml/tapeml/samples"
	"github.com/tapeml/tapeml/text"
	"github.com/tapeml/tapeml/textclass"
	"github.com/tapeml/tapeml/train"
)

// Batch is one input of a batch, as tapeml.Model.Forward and ONNX
// Runtime take it (Data holds integral ids for int64 inputs).
type Batch struct {
	Name  string    `json:"-"`
	Dtype string    `json:"dtype"`
	Shape []int     `json:"shape"`
	Data  []float32 `json:"data"`
}

// Save writes the reference model of a kind (textcnn, lstm, convnet, or
// transformer: the default architecture at maxlen 128) with seeded random
// weights — batch-norm statistics perturbed too — as a checkpoint under
// dir, and returns its folder and input batches of 32 and 1: token ids
// with random 'pre' padding (the transformer's: [CLS] … [SEP] then
// padding), or normalized images.
func Save(name, dir string) (string, map[int]Batch, error) {
	rng := rand.New(rand.NewPCG(1, 2))
	var (
		net    train.Model
		runCfg any
		pre    any
		input  func(n int) Batch
	)
	textPre := func(vocab, maxLen int) *text.Preprocess {
		return &text.Preprocess{Tokenizer: text.NewTokenizer(text.TokenizerConfig{NumWords: vocab}), Pad: text.PadConfig{MaxLen: maxLen}, Classes: []string{"neg", "pos"}, Positive: 1}
	}
	// Token ids with a random amount of 'pre' padding, as real texts have.
	ids := func(n, maxLen, vocab int) Batch {
		v := make([]float32, n*maxLen)
		for i := range n {
			pad := rng.IntN(maxLen / 2)
			for j := pad; j < maxLen; j++ {
				v[i*maxLen+j] = float32(1 + rng.IntN(vocab-1))
			}
		}
		return Batch{Name: "ids", Dtype: "int64", Shape: []int{n, maxLen}, Data: v}
	}
	switch name {
	case textcnn.Kind:
		cfg := textcnn.DefaultConfig()
		net, _ = textcnn.New(cfg)
		arch, _ := json.Marshal(cfg)
		runCfg, pre = textclass.Run{Model: arch, Data: textclass.Source{Path: samples.SpamAssassinName}}, textPre(cfg.NumWords, cfg.MaxLen)
		input = func(n int) Batch { return ids(n, cfg.MaxLen, cfg.NumWords) }
	case lstm.Kind:
		cfg := lstm.DefaultConfig()
		net, _ = lstm.New(cfg)
		arch, _ := json.Marshal(cfg)
		runCfg, pre = textclass.Run{Model: arch, Data: textclass.Source{Path: samples.SpamAssassinName}}, textPre(cfg.NumWords, cfg.MaxLen)
		input = func(n int) Batch { return ids(n, cfg.MaxLen, cfg.NumWords) }
	case convnet.Kind:
		cfg := convnet.DefaultConfig()
		net, _ = convnet.New(cfg)
		pipe, err := imagedata.NewPipeline(3, 32, 32, nil, []float64{0.49, 0.48, 0.45}, []float64{0.25, 0.24, 0.26})
		if err != nil {
			return "", nil, err
		}
		classes := make([]string, cfg.Classes)
		for i := range classes {
			classes[i] = fmt.Sprint("class", i)
		}
		arch, _ := json.Marshal(cfg)
		runCfg, pre = imageclass.Run{Model: arch, Data: imageclass.Source{Path: samples.FashionMNISTName}}, imageclass.Preprocessing{Pipeline: pipe, Classes: classes}
		input = func(n int) Batch {
			v := make([]float32, n*3*32*32)
			for i := range v {
				v[i] = float32(rng.NormFloat64())
			}
			return Batch{Name: "images", Dtype: "float32", Shape: []int{n, 3, 32, 32}, Data: v}
		}
	case transformer.Kind:
		// The default architecture at maxlen 128, issue 26's speed
		// configuration, over a vocabulary of synthetic pieces.
		cfg := transformer.DefaultConfig()
		cfg.MaxLen = 128
		net, _ = transformer.New(cfg)
		tokens := []string{"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"}
		for i := len(tokens); i < cfg.VocabSize; i++ {
			tokens = append(tokens, fmt.Sprint("w", i))
		}
		wp, err := text.NewWordPiece(tokens, cfg.WordPiece())
		if err != nil {
			return "", nil, err
		}
		arch, _ := json.Marshal(cfg)
		runCfg = textclass.Run{Model: arch, Data: textclass.Source{Path: samples.SpamAssassinName}}
		pre = text.NewWordPiecePreprocess(wp, text.CleanOptions{}, cfg.MaxLen, []string{"neg", "pos"}, 1, nil)
		// [CLS] pieces… [SEP] of 2 to 128 ids, then [PAD] = 0, as the
		// WordPiece preprocessing writes them.
		input = func(n int) Batch {
			v := make([]float32, n*cfg.MaxLen)
			for i := range n {
				row := v[i*cfg.MaxLen : (i+1)*cfg.MaxLen]
				k := 2 + rng.IntN(cfg.MaxLen-1)
				row[0], row[k-1] = float32(wp.CLSID()), float32(wp.SEPID())
				for j := 1; j < k-1; j++ {
					row[j] = float32(5 + rng.IntN(cfg.VocabSize-5))
				}
			}
			return Batch{Name: "ids", Dtype: "int64", Shape: []int{n, cfg.MaxLen}, Data: v}
		}
	default:
		return "", nil, fmt.Errorf("unknown model (want textcnn, lstm, convnet or transformer)")
	}
	params := graph.NewParams(tensor.Float32, 1)
	if err := graph.Materialize(net.Build, params); err != nil {
		return "", nil, err
	}
	for _, p := range params.List() {
		if strings.HasSuffix(p.Name, ".running_var") || strings.HasSuffix(p.Name, ".running_mean") {
			for i := range p.Value.Float32s() {
				p.Value.Float32s()[i] += 0.5 * rng.Float32()
			}
		}
	}
	c := &checkpoint.Checkpoint{Weights: checkpoint.Weights(params), Extra: map[string][]byte{}}
	c.Meta.ModelKind, c.Meta.WeightsOnly = name, true
	var err error
	if c.Meta.ModelConfig, err = json.Marshal(runCfg); err != nil {
		return "", nil, err
	}
	if c.Meta.Preprocessing, err = json.Marshal(pre); err != nil {
		return "", nil, err
	}
	path := filepath.Join(dir, name)
	if err := checkpoint.Save(path, c); err != nil {
		return "", nil, err
	}
	return path, map[int]Batch{32: input(32), 1: input(1)}, nil
}

// SmallConvNet saves a small ConvNet (channels×8×8 images, classes a, b
// and c) with seeded random weights and non-trivial batch-norm statistics
// as a checkpoint in dir/convnet, for tests, and returns its folder.
func SmallConvNet(dir string, channels int) (string, error) {
	cfg := convnet.Config{Channels: channels, Height: 8, Width: 8, Classes: 3, Dropout: 0.5}
	net, err := convnet.New(cfg)
	if err != nil {
		return "", err
	}
	params := graph.NewParams(tensor.Float32, 7)
	if err := graph.Materialize(net.Build, params); err != nil {
		return "", err
	}
	for _, p := range params.List() {
		if strings.HasSuffix(p.Name, "running_var") || strings.HasSuffix(p.Name, "running_mean") {
			for i, v := range p.Value.Float32s() {
				p.Value.Float32s()[i] = v + 0.3 + 0.1*float32(i%5)
			}
		}
	}
	pipe, err := imagedata.NewPipeline(channels, 8, 8, nil, []float64{0.3, 0.4, 0.5}[:channels], []float64{0.2, 0.25, 0.3}[:channels])
	if err != nil {
		return "", err
	}
	arch, err := json.Marshal(cfg)
	if err != nil {
		return "", err
	}
	run, err := json.Marshal(imageclass.Run{Model: arch, Data: imageclass.Source{Path: "images/"}})
	if err != nil {
		return "", err
	}
	pre, err := json.Marshal(imageclass.Preprocessing{Pipeline: pipe, Classes: []string{"a", "b", "c"}})
	if err != nil {
		return "", err
	}
	c := &checkpoint.Checkpoint{Weights: checkpoint.Weights(params), Extra: map[string][]byte{}}
	c.Meta.ModelKind, c.Meta.ModelConfig, c.Meta.Preprocessing, c.Meta.WeightsOnly = convnet.Kind, run, pre, true
	path := filepath.Join(dir, "convnet")
	return path, checkpoint.Save(path, c)
}

// GrayPixels returns n deterministic gray 8×8 images (for SmallConvNet
// with one channel) as raw values and as image.Image.
func GrayPixels(n, seed int) ([]float32, []image.Image) {
	raw := make([]float32, n*64)
	imgs := make([]image.Image, n)
	for k := range n {
		g := image.NewGray(image.Rect(0, 0, 8, 8))
		for i := range 64 {
			v := uint8((i*37 + k*91 + seed*13) % 256)
			g.Pix[i] = v
			raw[k*64+i] = float32(v)
		}
		imgs[k] = g
	}
	return raw, imgs
}

// Overflowing copies the text model checkpoint at src (textcnn, lstm) to
// dst with finite weights that overflow: the embedding rows of the given
// token ids are 3e38 and every other weight is 16 times larger, so that a
// text holding one of those words gets a NaN or infinite output while
// others stay finite. Id 0 is padding, which every input and the warm-up
// hold.
func Overflowing(src, dst string, ids ...int) error {
	c, err := checkpoint.Open(src, checkpoint.PickBest)
	if err != nil {
		return err
	}
	found := false
	for i, w := range c.Weights {
		if w.Dtype != "F32" {
			continue
		}
		v, err := w.Float32s()
		if err != nil {
			return err
		}
		if w.Name == "embedding.weight" && len(w.Shape) == 2 {
			found = true
			dim := w.Shape[1]
			for _, id := range ids {
				for j := range dim {
					v[id*dim+j] = 3e38
				}
			}
		} else {
			for j := range v {
				v[j] *= 16
			}
		}
		c.Weights[i] = safetensors.F32(w.Name, w.Shape, v)
	}
	if !found {
		return fmt.Errorf("%s: no embedding.weight", src)
	}
	return checkpoint.Save(dst, c)
}
