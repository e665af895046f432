package console

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"
	"sync"
)

// assets are the page, its modules and the vendored graph library
// (assets/vendor/, written by `make console-assets`).
//
//go:embed assets
var assets embed.FS

// asset is one embedded file, ready to serve: its bytes, gzipped once, and
// an ETag.
type asset struct {
	typ        string
	plain, gz  []byte
	etag       string
	compressed bool
}

var loadAssets = sync.OnceValues(func() (map[string]*asset, error) {
	out := map[string]*asset{}
	err := fs.WalkDir(assets, "assets", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := assets.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		a := &asset{typ: contentType(p), plain: b, etag: `"` + hex.EncodeToString(sum[:8]) + `"`}
		if compressible(a.typ) && len(b) > 1024 {
			var buf bytes.Buffer
			zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
			_, _ = zw.Write(b)
			_ = zw.Close()
			a.gz, a.compressed = buf.Bytes(), true
		}
		out[strings.TrimPrefix(p, "assets/")] = a
		return nil
	})
	return out, err
})

func contentType(p string) string {
	switch path.Ext(p) {
	case ".js", ".mjs":
		return "text/javascript; charset=utf-8"
	case ".html":
		return "text/html; charset=utf-8"
	case ".css":
		return "text/css; charset=utf-8"
	case ".svg":
		return "image/svg+xml"
	}
	if t := mime.TypeByExtension(path.Ext(p)); t != "" {
		return t
	}
	return "application/octet-stream"
}

func compressible(typ string) bool {
	return strings.HasPrefix(typ, "text/") || strings.Contains(typ, "json") || strings.Contains(typ, "svg")
}

// assetHandler serves the embedded files under Path ("index.html" for the
// directory), gzipped for clients that take it, revalidated by ETag.
func assetHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		all, err := loadAssets()
		if err != nil {
			problem(w, http.StatusInternalServerError, "internal", "The console's files are unreadable", err.Error())
			return
		}
		name := strings.TrimPrefix(r.URL.Path, Path)
		if name == "" || strings.HasSuffix(name, "/") {
			name += "index.html"
		}
		a := all[name]
		if a == nil {
			problem(w, http.StatusNotFound, "not-found", "No such file in the console", r.URL.Path)
			return
		}
		h := w.Header()
		h.Set("Content-Type", a.typ)
		h.Set("ETag", a.etag)
		h.Set("Cache-Control", "no-cache") // revalidate: a new binary may serve new files
		h.Set("X-Content-Type-Options", "nosniff")
		h.Add("Vary", "Accept-Encoding")
		if match := r.Header.Get("If-None-Match"); match != "" && match == a.etag {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		body := a.plain
		if a.compressed && acceptsGzip(r) {
			h.Set("Content-Encoding", "gzip")
			body = a.gz
		}
		h.Set("Content-Length", strconv.Itoa(len(body)))
		_, _ = w.Write(body)
	})
}

func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		enc, q, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(enc), "gzip") && strings.TrimSpace(q) != "q=0" {
			return true
		}
	}
	return false
}
