package lstm

import (
	"strings"
	"testing"

	"github.com/tapeml/tapeml/internal/testutil/modeltest"
)

// TestParamSpecsMatchBuild: the shapes known without allocating are the
// shapes Build creates.
func TestParamSpecsMatchBuild(t *testing.T) {
	for _, cfg := range []Config{{NumWords: 11, EmbedDim: 3, Hidden: 5, Layers: 2, Bidirectional: true, MaxLen: 7}, {NumWords: 11, EmbedDim: 3, Hidden: 5, Layers: 3, MaxLen: 7}, DefaultConfig()} {
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
		{"hidden", func(c *Config) { c.Hidden = 1 << 20 }, "hidden 1048576 is over the limit"},
		{"layers", func(c *Config) { c.Layers = 1000 }, "layers 1000 is over the limit"},
		{"total", func(c *Config) { c.Hidden, c.Layers = MaxHidden, MaxLayers }, "parameters, over the limit of 134217728"},
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
