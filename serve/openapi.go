package serve

import (
	_ "embed"
	"net/http"
)

// openAPIDoc describes the REST API (OpenAPI 3.0); openapi_test.go checks
// it against the routes and validates it.
//
//go:embed openapi.json
var openAPIDoc []byte

func (s *Server) openAPI(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Write(openAPIDoc)
}
