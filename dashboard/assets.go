// Package dashboard is the staff web UI: server-rendered HTML pages with
// their assets embedded in the binary. Staff sign in, see what needs
// attention, review what members said and look after members' needs; in
// dev it also holds the "Try it" page, a phone in the browser that texts
// and calls surveys through the real webhooks.
//
// One file per page: app.go lists every route, auth.go says who may do
// what, render.go turns a page (or an error) into HTML.
package dashboard

import (
	"embed"
	"html/template"
	"io/fs"
	"net/http"
)

//go:embed templates/*.html
var templateFiles embed.FS

//go:embed static
var staticFiles embed.FS

// pages holds the pages that are not part of the signed-in dashboard (the
// Try-it phone), each parsed with the layout. Parsing at start-up makes a
// broken template fail the first test, not a staff member's visit.
var pages = map[string]*template.Template{
	"try": template.Must(template.New("try").Funcs(layoutFuncs).ParseFS(templateFiles, "templates/layout.html", "templates/try.html")),
}

// Static serves the dashboard's CSS and JavaScript. Mount it at /static/
// (it strips that prefix).
func Static() http.Handler {
	sub, err := fs.Sub(staticFiles, "static")
	if err != nil {
		panic(err) // the embed pattern above guarantees the folder
	}
	files := http.StripPrefix("/static/", http.FileServerFS(sub))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Small files, and a new binary may change them: always revalidate.
		w.Header().Set("Cache-Control", "no-cache")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		files.ServeHTTP(w, r)
	})
}
