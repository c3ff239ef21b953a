package serve

import (
	"embed"
	"io/fs"
	"net/http"
)

// static holds the page at / : plain HTML and JavaScript on the v2
// protocol, so the page exercises what clients use.
//
//go:embed static
var static embed.FS

func (s *Server) webPage(w http.ResponseWriter, r *http.Request) {
	page, err := static.ReadFile("static/index.html")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'")
	w.Write(page)
}

func (s *Server) webStatic(w http.ResponseWriter, r *http.Request) {
	sub, _ := fs.Sub(static, "static")
	http.StripPrefix("/static/", http.FileServerFS(sub)).ServeHTTP(w, r)
}
