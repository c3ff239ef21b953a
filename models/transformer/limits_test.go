package transformer

import (
	"strings"
	"testing"

	"github.com/tapeml/tapeml/internal/testutil/modeltest"
)

// TestParamSpecsMatchBuild: the shapes known without allocating are the
// shapes Build creates, for both norms and both poolings.
func TestParamSpecsMatchBuild(t *testing.T) {
	small := Config{VocabSize: 20, MaxLen: 6, MaxPosition: 8, TypeVocab: 2, DModel: 8, Layers: 2, Heads: 2, FFN: 12, Eps: 1e-12, Norm: PostLN, Pooling: CLS}
	pre := small
	pre.Norm, pre.Pooling = PreLN, Mean
	multi := small
	multi.Classes = 3
	distil := small
	distil.TypeVocab, distil.PoolerAct = 0, "relu"
	for _, cfg := range []Config{small, pre, multi, distil, DefaultConfig()} {
		m, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		modeltest.CheckSpecs(t, cfg, m.Config.ParamSpecs(), m.Build)
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		edit func(*Config)
		want string
	}{
		{"heads", func(c *Config) { c.Heads = 3 }, "num_attention_heads 3 does not divide hidden_size 128"},
		{"positions", func(c *Config) { c.MaxLen = 300 }, "maxlen 300 is over max_position_embeddings 256"},
		{"norm", func(c *Config) { c.Norm = "middle" }, `norm "middle"`},
		{"pooling", func(c *Config) { c.Pooling = "max" }, `pooling "max"`},
		{"dropout", func(c *Config) { c.Dropout = 1 }, "hidden_dropout_prob must be in [0, 1)"},
		{"vocab", func(c *Config) { c.VocabSize = 2_000_000_000 }, "vocab_size 2000000000 is over the limit"},
		{"total", func(c *Config) { c.DModel, c.Layers, c.FFN = MaxDModel, MaxLayers, MaxFFN }, "parameters, over the limit"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := DefaultConfig()
			tc.edit(&cfg)
			err := cfg.Validate()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want %q", err, tc.want)
			}
		})
	}
}
