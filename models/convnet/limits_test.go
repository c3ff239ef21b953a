package convnet

import (
	"strings"
	"testing"

	"github.com/tapeml/tapeml/internal/testutil/modeltest"
)

// TestParamSpecsMatchBuild: the shapes known without allocating are the
// shapes Build creates.
func TestParamSpecsMatchBuild(t *testing.T) {
	for _, cfg := range []Config{{Channels: 1, Height: 9, Width: 13, Classes: 3}, {Channels: 3, Height: 4, Width: 4, Classes: 2}, DefaultConfig()} {
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
		{"height", func(c *Config) { c.Height = 20000 }, "height 20000 is over the limit of 4096"},
		{"classes", func(c *Config) { c.Classes = 1 << 30 }, "classes 1073741824 is over the limit"},
		{"total", func(c *Config) { c.Height, c.Width = 4096, 4096 }, "parameters, over the limit of 134217728"},
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
