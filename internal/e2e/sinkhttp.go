// Copyright The otelcol-duo Authors
// SPDX-License-Identifier: Apache-2.0

package e2e

import (
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
)

// What the test sinks share: how they are served, and how they take an OTLP/HTTP logs
// export apart from what they do with it.

// serve runs h on 127.0.0.1 until the test ends. Open connections are cut before the
// server closes, so a collector still holding one does not keep the test waiting.
func serve(tb testing.TB, h http.Handler) *httptest.Server {
	srv := httptest.NewServer(h)
	tb.Cleanup(func() {
		srv.CloseClientConnections()
		srv.Close()
	})
	return srv
}

// exportBody returns the protobuf of an OTLP/HTTP logs export: POST /v1/logs,
// application/x-protobuf, plain or gzip. Anything else it answers itself, and ok is false.
func exportBody(w http.ResponseWriter, r *http.Request) (b []byte, ok bool) {
	if r.Method != http.MethodPost || r.URL.Path != "/v1/logs" {
		http.Error(w, "only POST /v1/logs", http.StatusNotFound)
		return nil, false
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/x-protobuf" {
		http.Error(w, "only application/x-protobuf, got "+ct, http.StatusUnsupportedMediaType)
		return nil, false
	}
	var body io.Reader = r.Body
	switch enc := r.Header.Get("Content-Encoding"); enc {
	case "", "identity":
	case "gzip":
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return nil, false
		}
		defer zr.Close()
		body = zr
	default:
		http.Error(w, "unsupported Content-Encoding "+enc, http.StatusUnsupportedMediaType)
		return nil, false
	}
	b, err := io.ReadAll(body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return nil, false
	}
	return b, true
}

// acceptExport answers an export the sink has taken: an empty ExportLogsServiceResponse.
func acceptExport(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/x-protobuf")
	w.WriteHeader(http.StatusOK)
}
