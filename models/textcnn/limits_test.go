package textcnn

import (
	"strings"
	"testing"

	"github.com/tapeml/tapeml/internal/testutil/modeltest"
)

// TestParamSpecsMatchBuild: the shapes known without allocating are the
// shapes Build creates.
func TestParamSpecsMatchBuild(t *testing.T) {
	three := DefaultConfig()
	three.Classes = 3
	for _, cfg := range []Config{{NumWords: 11, EmbedDim: 3, Filters: 4, Kernel: 2, Pool: 3, MaxLen: 10}, {NumWords: 2, EmbedDim: 1, Filters: 1, Kernel: 1, Pool: 1, MaxLen: 1}, SeedConfig(), DefaultConfig(), three} {
		m, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		modeltest.CheckSpecs(t, cfg, m.Config.ParamSpecs(), m.Build)
	}
}

func TestValidateLimits(t *testing.T) {
	tests := []struct {
		name string
		edit func(*Config)
		want string
	}{
		{"num_words", func(c *Config) { c.NumWords = 2_000_000_000 }, "num_words 2000000000 is over the limit of 4194304"},
		{"maxlen", func(c *Config) { c.MaxLen = 1 << 30 }, "maxlen 1073741824 is over the limit"},
		{"embed_dim", func(c *Config) { c.EmbedDim = 1 << 20 }, "embed_dim 1048576 is over the limit"},
		{"total", func(c *Config) { c.NumWords, c.EmbedDim = MaxNumWords, MaxEmbedDim }, "parameters, over the limit of 134217728"},
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
