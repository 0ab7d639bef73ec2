// Copyright The otelcol-duo Authors
// SPDX-License-Identifier: Apache-2.0

//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// configWithReceiver is a whole collector config around the given lines of the duo
// receiver's section (each indented by four spaces).
func configWithReceiver(lines ...string) string {
	var b strings.Builder
	b.WriteString("extensions:\n  file_storage:\n    directory: ${env:STATE_DIR}\n")
	b.WriteString("receivers:\n  duo:\n")
	b.WriteString("    api_hostname: api-12345678.duosecurity.com\n")
	b.WriteString("    integration_key: DIABCDEFGHIJ01234567\n")
	b.WriteString("    secret_key: " + strings.Repeat("s", 40) + "\n")
	for _, l := range lines {
		b.WriteString("    " + l + "\n")
	}
	b.WriteString("exporters:\n  debug: {}\n")
	b.WriteString("service:\n  extensions: [file_storage]\n  pipelines:\n    logs:\n      receivers: [duo]\n      exporters: [debug]\n")
	return b.String()
}

// TestE2EConfig runs the built binary on configs with one misspelled key each: validate
// must fail naming the key (a typo in storage would otherwise silently drop the cursors),
// and so must a start; the same config spelled right validates.
func TestE2EConfig(t *testing.T) {
	bin := Collector(t)
	tests := []struct {
		name  string
		lines []string
		key   string // the misspelled key; empty = valid
	}{
		{name: "valid", lines: []string{
			"storage: file_storage", "rate_limit: 5", "timeout: 10s",
			"tls: { insecure_skip_verify: false }", "retry_on_failure: { max_interval: 1m }",
			"logs: { authentication: { enabled: true, window: 7m }, trust_monitor: { enabled: true } }",
		}},
		{name: "top level", lines: []string{"rate_limitt: 5"}, key: "rate_limitt"},
		{name: "storage", lines: []string{"storag: file_storage"}, key: "storag"},
		{name: "log type", lines: []string{"logs: { authentification: { enabled: true } }"}, key: "authentification"},
		{name: "log type setting", lines: []string{"logs: { telephony: { pull_intervall: 1m } }"}, key: "pull_intervall"},
		{name: "http setting", lines: []string{"timeoutt: 5s"}, key: "timeoutt"},
		{name: "tls setting", lines: []string{"tls: { insecure_skip_verifyy: true }"}, key: "insecure_skip_verifyy"},
		{name: "retry setting", lines: []string{"retry_on_failure: { max_intervall: 1m }"}, key: "max_intervall"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "config.yaml")
			if err := os.WriteFile(path, []byte(configWithReceiver(tt.lines...)), 0o600); err != nil {
				t.Fatal(err)
			}
			env := append(os.Environ(), "STATE_DIR="+dir)

			stderr, err := runBinary(t, bin, env, 30*time.Second, "validate", "--config", path)
			if tt.key == "" {
				if err != nil {
					t.Fatalf("validate refused a correct config: %v\n%s", err, stderr)
				}
				return
			}
			checkRefused(t, "validate", err, stderr, tt.key)

			// A start must stop at the same place, before reading anything.
			stderr, err = runBinary(t, bin, env, 30*time.Second, "--config", path)
			checkRefused(t, "start", err, stderr, tt.key)
		})
	}
}

// runBinary runs bin with args and returns its stderr and its exit error.
func runBinary(t *testing.T, bin string, env []string, timeout time.Duration, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = env
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("%v did not exit within %s:\n%s", args, timeout, stderr.String())
	}
	return stderr.String(), err
}

func checkRefused(t *testing.T, what string, err error, stderr, key string) {
	t.Helper()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() == 0 {
		t.Fatalf("%s accepted a config with the misspelled key %q (err %v):\n%s", what, key, err, stderr)
	}
	if !strings.Contains(stderr, key) {
		t.Errorf("%s failed without naming the key %q:\n%s", what, key, stderr)
	}
}
