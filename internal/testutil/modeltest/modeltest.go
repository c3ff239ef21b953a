// Package modeltest holds checks the model packages' tests share.
package modeltest

import (
	"reflect"
	"testing"

	"github.com/tapeml/tapeml/graph"
)

// CheckSpecs fails t unless specs — a configuration's ParamSpecs, known
// without building — are the names and shapes build creates
// (graph.ParamShapes; layer roles are the layers' business, not the
// configuration's). cfg names the configuration in the failure.
func CheckSpecs(t *testing.T, cfg any, specs []graph.ParamSpec, build graph.BuildFunc) {
	t.Helper()
	want, err := graph.ParamShapes(build)
	if err != nil {
		t.Fatalf("%+v: %v", cfg, err)
	}
	for i := range want {
		want[i].Role = graph.RoleNone
	}
	if !reflect.DeepEqual(specs, want) {
		t.Errorf("%+v:\n got %v\nwant %v", cfg, specs, want)
	}
}
