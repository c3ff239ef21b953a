package repo

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strings"
	"text/template"
	"time"

	"github.com/tapeml/tapeml/checkpoint"
	"github.com/tapeml/tapeml/internal/safeio"
)

// Names of a version's card files.
const (
	CardFile     = "card.json"
	CardMarkdown = "MODEL_CARD.md"
)

// CardFormat is the card.json layout Publish writes.
const CardFormat = 1

// maxCardBytes bounds a card.json read: a card is a few kilobytes, its
// configuration included.
const maxCardBytes = 1 << 20

// Card is a version's model card, card.json: where the version came from,
// what it is and how well it did, as Hugging Face's model cards and
// MLflow's registered versions say it.
type Card struct {
	Format  int    `json:"card_format"`
	Name    string `json:"name"`
	Version int64  `json:"version"`
	// Kind and Algo name the architecture; Config is the checkpoint's
	// model_config verbatim (the architecture and the data options).
	Kind   string          `json:"kind"`
	Algo   string          `json:"algo,omitempty"`
	Config json.RawMessage `json:"config"`
	// Classes are a classifier's class names, in label order.
	Classes []string `json:"classes,omitempty"`
	// Data is the training data: its sources and their content hash.
	Data DataCard `json:"data"`
	// CodeVersion is the module version and VCS revision of the program
	// that published the version, as `tapeml --version` prints it.
	CodeVersion string    `json:"code_version"`
	Created     time.Time `json:"created"`
	CreatedBy   string    `json:"created_by,omitempty"`
	// Source is the checkpoint published (a run's best epoch, an int8 or
	// an imported checkpoint), Epoch its training epoch.
	Source string `json:"source"`
	Epoch  int    `json:"epoch"`
	// Parent is the version this one was fine-tuned from (train --init
	// from a version of this model, or PublishOptions.Parent), 0 for none;
	// Init is the checkpoint the training started from, whatever it was.
	Parent int64  `json:"parent_version,omitempty"`
	Init   string `json:"init,omitempty"`
	// Test is the version's score on its run's test split.
	Test TestCard `json:"test"`
	// Privacy is what DP-SGD spent, nil for runs without it.
	Privacy *PrivacyCard `json:"privacy,omitempty"`
	// Quantization describes an int8 version, nil for float32 ones.
	Quantization *checkpoint.Quantization `json:"quantization,omitempty"`
	// IntendedUse and Limitations are free text; Publish fills a template
	// when the publisher gives none.
	IntendedUse string `json:"intended_use"`
	Limitations string `json:"limitations"`
	Note        string `json:"note,omitempty"`
	// Size is the bytes of the version's weights and metadata.
	Size int64 `json:"size"`
}

// DataCard is the training data of a version.
type DataCard struct {
	Sources []DataSource `json:"sources"`
	// SHA256 hashes the sources' hashes in order: one value that changes
	// when any training file does. Empty when a source could not be read.
	SHA256 string `json:"sha256,omitempty"`
}

// DataSource is one training source: a file, a folder or a built-in set.
type DataSource struct {
	Path    string `json:"path"`
	Builtin bool   `json:"builtin,omitempty"`
	SHA256  string `json:"sha256,omitempty"`
	Files   int    `json:"files,omitempty"`
	Bytes   int64  `json:"bytes,omitempty"`
	// Error says why the source could not be hashed (moved, unreadable).
	Error string `json:"error,omitempty"`
}

// TestCard is a version's test score.
type TestCard struct {
	Data    string   `json:"data,omitempty"`
	N       int      `json:"n,omitempty"`
	Metrics []Metric `json:"metrics,omitempty"`
	// Error says why the version was not tested (its data is gone).
	Error string `json:"error,omitempty"`
}

// Metric is a named score; Value is nil when it is not a number.
type Metric struct {
	Name  string   `json:"name"`
	Value *float64 `json:"value"`
}

// Metric returns the named metric's value.
func (t TestCard) Metric(name string) (float64, bool) {
	for _, m := range t.Metrics {
		if m.Name == name && m.Value != nil {
			return *m.Value, true
		}
	}
	return 0, false
}

// PrivacyCard is what a DP-SGD run spent, read from meta.json's privacy.
type PrivacyCard struct {
	Noise       float64 `json:"noise_multiplier"`
	MaxGradNorm float64 `json:"max_grad_norm"`
	Epsilon     float64 `json:"epsilon"`
	Delta       float64 `json:"delta"`
	SampleRate  float64 `json:"sample_rate,omitempty"`
	Steps       int64   `json:"steps,omitempty"`
	Accountant  string  `json:"accountant,omitempty"`
	// Secure says the noise came from a cryptographically secure source;
	// nil when the checkpoint does not say.
	Secure *bool `json:"secure,omitempty"`
	// Recorded is meta.json's privacy verbatim.
	Recorded json.RawMessage `json:"recorded"`
}

// privacyCard reads meta.json's privacy; nil for none.
func privacyCard(raw json.RawMessage) (*PrivacyCard, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	p := &PrivacyCard{Recorded: raw}
	if err := json.Unmarshal(raw, p); err != nil {
		return nil, fmt.Errorf("meta.json privacy: %w", err)
	}
	p.Recorded = raw
	return p, nil
}

// finite returns a pointer to v, or nil when JSON cannot hold it.
func finite(v float64) *float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return &v
}

// ReadCard reads and checks a version folder's card.json.
func ReadCard(path string) (*Card, error) {
	b, err := safeio.ReadFile(path, maxCardBytes)
	if err != nil {
		return nil, err
	}
	var c Card
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if c.Format < 1 || c.Format > CardFormat {
		return nil, fmt.Errorf("%s: card_format %d: this program reads 1 to %d", path, c.Format, CardFormat)
	}
	if c.Version < 1 || c.Kind == "" {
		return nil, fmt.Errorf("%s: version %d, kind %q: not a model card", path, c.Version, c.Kind)
	}
	return &c, nil
}

//go:embed card.md.tmpl
var cardTemplate string

var cardMarkdown = template.Must(template.New(CardMarkdown).Funcs(template.FuncMap{
	"join": strings.Join,
	"value": func(v *float64) string {
		if v == nil {
			return "not a number"
		}
		return fmt.Sprintf("%.4f", *v)
	},
	"time":  func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
	"deref": func(b *bool) bool { return *b },
	"indent": func(raw json.RawMessage) string {
		var b bytes.Buffer
		if json.Indent(&b, raw, "", "  ") != nil {
			return string(raw)
		}
		return b.String()
	},
}).Parse(cardTemplate))

// WriteMarkdown renders the card as MODEL_CARD.md.
func (c *Card) WriteMarkdown(w io.Writer) error { return cardMarkdown.Execute(w, c) }

// defaultIntendedUse and defaultLimitations are the templates a card
// holds when the publisher wrote none: true as far as they go, and saying
// they are defaults.
func defaultIntendedUse(c *Card) string {
	what := "inputs"
	if len(c.Classes) > 0 {
		what = "inputs into " + strings.Join(c.Classes, ", ")
	}
	return fmt.Sprintf("A %s model classifying %s, for data like its training data (%s). "+
		"(Template text: publish with --intended-use to say who should use it, for what.)", c.Kind, what, sourceList(c.Data))
}

func defaultLimitations(c *Card) string {
	tested := "It was not tested at publication"
	if c.Test.Error == "" && c.Test.N > 0 {
		tested = fmt.Sprintf("It was measured only on the test split of %s (n=%d)", c.Test.Data, c.Test.N)
	}
	return tested + "; how it does on other inputs, languages or populations is unknown. " +
		"(Template text: publish with --limitations to state known failure cases and biases.)"
}

func sourceList(d DataCard) string {
	var s []string
	for _, src := range d.Sources {
		s = append(s, src.Path)
	}
	if len(s) == 0 {
		return "unrecorded"
	}
	return strings.Join(s, ", ")
}
