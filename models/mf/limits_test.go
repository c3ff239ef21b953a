package mf

import (
	"strings"
	"testing"

	"github.com/tapeml/tapeml/internal/testutil/modeltest"
)

// TestParamSpecsMatchBuild: the shapes known without allocating are the
// shapes Build creates.
func TestParamSpecsMatchBuild(t *testing.T) {
	for _, cfg := range []Config{{Users: 5, Items: 7, Factors: 3}, DefaultConfig(3, 4)} {
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
		{"factors", func(c *Config) { c.Factors = 1 << 20 }, "factors 1048576 is over the limit of 4096"},
		{"total", func(c *Config) { c.Users, c.Items, c.Factors = 1<<24, 1<<24, 4096 }, "parameters, over the limit of 134217728"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := DefaultConfig(10, 10)
			tc.edit(&cfg)
			err := cfg.Validate()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want %q", err, tc.want)
			}
		})
	}
}
