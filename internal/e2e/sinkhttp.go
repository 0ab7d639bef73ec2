// Copyright The otelcol-duo Authors
// SPDX-License-Identifier: Apache-2.0

package e2e

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/otelcol-duo/otelcol-duo/internal/otlpsink"
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
// application/x-protobuf, read as the durable sink reads it (plain or gzip, 64 MiB at
// most). Anything else it answers itself, and ok is false.
func exportBody(w http.ResponseWriter, r *http.Request) (b []byte, ok bool) {
	if r.Method != http.MethodPost || r.URL.Path != "/v1/logs" {
		http.Error(w, "only POST /v1/logs", http.StatusNotFound)
		return nil, false
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/x-protobuf" {
		http.Error(w, "only application/x-protobuf, got "+ct, http.StatusUnsupportedMediaType)
		return nil, false
	}
	b, status, err := otlpsink.ReadBody(r)
	if err != nil {
		http.Error(w, err.Error(), status)
		return nil, false
	}
	return b, true
}

// acceptExport answers an export the sink has taken: an empty ExportLogsServiceResponse.
func acceptExport(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/x-protobuf")
	w.WriteHeader(http.StatusOK)
}
