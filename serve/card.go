package serve

import (
	"os"
	"path/filepath"

	"github.com/tapeml/tapeml/repo"
)

// cardFields are a version's model card's main fields (tapeml publish
// writes the card), which the metadata endpoints return.
type cardFields struct {
	Version      int64         `json:"version"`
	Created      string        `json:"created"`
	CreatedBy    string        `json:"created_by,omitempty"`
	CodeVersion  string        `json:"code_version"`
	Data         []string      `json:"data,omitempty"`
	DataSHA256   string        `json:"data_sha256,omitempty"`
	Test         []repo.Metric `json:"test_metrics,omitempty"`
	TestN        int           `json:"test_n,omitempty"`
	Parent       int64         `json:"parent_version,omitempty"`
	Epsilon      *float64      `json:"dp_epsilon,omitempty"`
	Delta        *float64      `json:"dp_delta,omitempty"`
	Quantization string        `json:"quantization,omitempty"`
	IntendedUse  string        `json:"intended_use,omitempty"`
	Note         string        `json:"note,omitempty"`
}

// readCard reads the card of the version folder path is in (path is the
// folder or its .safetensors file); nil when it has none or it is not
// readable, which a version copied in by hand may well be.
func readCard(path string) *cardFields {
	dir := path
	if info, err := os.Stat(path); err == nil && !info.IsDir() {
		dir = filepath.Dir(path)
	}
	c, err := repo.ReadCard(filepath.Join(dir, repo.CardFile))
	if err != nil {
		return nil
	}
	f := &cardFields{Version: c.Version, Created: c.Created.UTC().Format("2006-01-02T15:04:05Z"), CreatedBy: c.CreatedBy,
		CodeVersion: c.CodeVersion, DataSHA256: c.Data.SHA256, Test: c.Test.Metrics, TestN: c.Test.N, Parent: c.Parent,
		IntendedUse: c.IntendedUse, Note: c.Note}
	for _, s := range c.Data.Sources {
		f.Data = append(f.Data, s.Path)
	}
	if p := c.Privacy; p != nil {
		f.Epsilon, f.Delta = &p.Epsilon, &p.Delta
	}
	if q := c.Quantization; q != nil {
		f.Quantization = q.Format
	}
	return f
}
