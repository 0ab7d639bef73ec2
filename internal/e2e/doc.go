// Copyright The otelcol-duo Authors
// SPDX-License-Identifier: Apache-2.0

// Package e2e holds the end-to-end test harness of otelcol-duo and the tests built on it.
//
// The harness (harness*.go, an ordinary package anyone under internal/ can import) does the
// pieces every end-to-end test needs:
//
//   - Collector builds the otelcol-duo distribution with ocb into ./build, once per input
//     change (the binary is reused while it is newer than every input; see Collector), under a
//     file lock so parallel test binaries do not build at the same time. It fails, never
//     skips, when it cannot build. OTELCOL_DUO_BIN=/path/to/otelcol-duo uses a prebuilt binary.
//   - StartSim runs the Duo simulator (internal/duosim) in-process on 127.0.0.1.
//   - StartSink runs the durable OTLP/HTTP sink (internal/otlpsink) in-process on 127.0.0.1.
//   - CollectorConfig renders a collector YAML from testdata/e2e/collector.yaml.tmpl: the duo
//     receiver pointed at the simulator with file_storage for its cursors, exporting over
//     otlp_http to the sink with no batch processor, the sending queue off and
//     retry_on_failure on, so that an acknowledged record is a stored record.
//   - StartCollector runs the binary as a subprocess (logs captured to a file and printed
//     when the test fails); Kill (SIGKILL), Stop (SIGTERM) and restarting on the same
//     storage directory are plain method calls. E2E_LOG_DIR=/path keeps a failed test's
//     whole collector logs there.
//   - WaitUntil polls a condition with a generous deadline and fails early when the
//     collector exits.
//   - Expected, Received and Compare count every simulator event against what the sink
//     stored: v2 and Trust Monitor events by their id (txid, telephony_id, activity_id,
//     sekey), v1 events (administrator, offline_enrollment) by a multiset of their
//     canonical JSON. A Delivery lists what is missing, duplicated and unexpected.
//   - Podman (podman.go) runs podman through scripts/podman.sh with a private store in a
//     temp dir, and removes the containers, volumes, secrets and store it made when the
//     test ends. OTELCOL_DUO_IMAGE_TAR=/path/to/otelcol-duo-image.tar loads make image's
//     archive instead of building the image.
//   - StartStampingSink notes when each event was first stored; MeasureFreshness turns that
//     and the simulator's visible-at and event times into p50/p99/max latencies.
//   - BudgetEvents reads the request budget's 429 warnings back from a collector's log.
//
// Conventions for the tests (the Makefile targets use them):
//
//	build tag   test name prefix     make target        what
//	e2e         TestE2E...           make test-e2e      delivery, restart, SIGKILL (part of make test)
//	e2e         TestFaults...        make test-faults   fault matrix: 429/5xx/slow/truncated/credentials/sink refusals/budget
//	e2e         BenchmarkE2E...      make bench-e2e     end-to-end throughput and latency
//	e2e         TestContainer...     make test-container the image under podman (part of make test)
//
// Every end-to-end test file carries `//go:build e2e` so that a plain `go test ./...` stays
// fast; the harness itself and its unit tests (harness_test.go) build without the tag.
// Tests that run the collector should use t.TempDir for storage and sink files, and choose
// ports only through httptest (the collector's own telemetry is off unless
// CollectorConfig.MetricsAddr is set).
package e2e // import "github.com/otelcol-duo/otelcol-duo/internal/e2e"
