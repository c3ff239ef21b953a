package serve_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tapeml/tapeml/serve"
)

// A model trained with seeded DP noise is marked in its v2 and v1
// metadata; one trained with the secure generator, or without DP, is not.
func TestInsecureDPNoiseMarker(t *testing.T) {
	dir := t.TempDir()
	for name, privacy := range map[string]string{
		"seeded": `{"noise_multiplier":1,"max_grad_norm":1,"sample_rate":0.1,"steps":10,"delta":1e-5,"epsilon":3,"accountant":"rdp","noise_rng":"seeded"}`,
		"secure": `{"noise_multiplier":1,"max_grad_norm":1,"sample_rate":0.1,"steps":10,"delta":1e-5,"epsilon":3,"accountant":"rdp","noise_rng":"crypto"}`,
		"plain":  "",
	} {
		to := filepath.Join(dir, name, "1")
		copyDir(t, filepath.Join(legacy, "textcnn"), to)
		if privacy == "" {
			continue
		}
		var meta map[string]any
		b, err := os.ReadFile(filepath.Join(to, "meta.json"))
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, &meta); err != nil {
			t.Fatal(err)
		}
		meta["privacy"] = json.RawMessage(privacy)
		if b, err = json.Marshal(meta); err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(to, "meta.json"), string(b))
	}
	ts := start(t, serve.Config{Models: dir, Poll: -1})
	for name, insecure := range map[string]bool{"seeded": true, "secure": false, "plain": false} {
		for _, path := range []string{"/v2/models/" + name, "/v1/models/" + name + "/metadata", "/v1/models/" + name + "/versions/1/metadata"} {
			code, body := do(t, "GET", ts.url+path, "")
			if code != 200 {
				t.Fatalf("GET %s: %d %s", path, code, body)
			}
			if got := strings.Contains(string(body), `"dp_insecure_seeded_noise":true`); got != insecure {
				t.Errorf("GET %s: marked insecure %v, want %v: %s", path, got, insecure, body)
			}
			if strings.HasPrefix(path, "/v1") && !strings.Contains(string(body), `"model_spec":{"name":"`+name+`","signature_name":"","version":"1"}`) {
				t.Errorf("GET %s: %s", path, body)
			}
		}
	}
	if code, _ := do(t, "POST", ts.url+"/v1/models/seeded/metadata", "{}"); code != 405 {
		t.Errorf("POST metadata: %d, want 405", code)
	}
}
