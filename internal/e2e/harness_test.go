// Copyright The otelcol-duo Authors
// SPDX-License-Identifier: Apache-2.0

package e2e

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-duo/otelcol-duo/internal/duosim"
)

func TestCompare(t *testing.T) {
	a := Key{"authentication", "tx1"}
	b := Key{"administrator", `{"action":"x"}`}
	c := Key{"telephony", "t9"}
	tests := []struct {
		name                       string
		want, got                  Counts
		exact                      bool
		missing, duplicated, unexp int
	}{
		{"exact, with v1 twins", Counts{a: 1, b: 2}, Counts{a: 1, b: 2}, true, 0, 0, 0},
		{"one twin missing", Counts{a: 1, b: 2}, Counts{a: 1, b: 1}, false, 1, 0, 0},
		{"duplicate", Counts{a: 1, b: 2}, Counts{a: 3, b: 2}, false, 0, 2, 0},
		{"unexpected", Counts{a: 1}, Counts{a: 1, c: 1}, false, 0, 0, 1},
		{"all at once", Counts{a: 1, b: 1}, Counts{b: 2, c: 1}, false, 1, 1, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := Compare(tt.want, tt.got)
			assert.Equal(t, tt.exact, d.Exact())
			assert.Equal(t, tt.missing, d.Missing.Total())
			assert.Equal(t, tt.duplicated, d.Duplicated.Total())
			assert.Equal(t, tt.unexp, d.Unexpected.Total())
			assert.Equal(t, tt.want.Total(), d.Expected)
			assert.Equal(t, tt.got.Total(), d.Received)
			if !tt.exact {
				assert.Contains(t, d.String(), "missing")
			}
		})
	}
}

func record(t *testing.T, ld plog.Logs, eventName string, body map[string]any, asString string) {
	t.Helper()
	lr := ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords().AppendEmpty()
	lr.SetEventName(eventName)
	if asString != "" {
		lr.Body().SetStr(asString)
		return
	}
	require.NoError(t, lr.Body().SetEmptyMap().FromRaw(body))
}

// TestReceivedMatchesSimulator checks that records built the way the receiver builds them
// (body = the record as a map, numbers as int64, or the raw JSON string) get the same keys
// as the simulator's events.
func TestReceivedMatchesSimulator(t *testing.T) {
	sim := duosim.New(duosim.Config{Seed: 7, Delay: -1})
	now := time.Now()
	for _, lt := range duosim.LogTypes() {
		sim.Backfill(lt, 5, now.Add(-time.Hour), now)
	}
	sim.Twins("administrator", 3, now.Add(-30*time.Minute))
	want, err := Expected(sim)
	require.NoError(t, err)
	require.Equal(t, 33, want.Total())

	tests := []struct {
		name     string
		asString bool
	}{{"map bodies", false}, {"string bodies", true}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ld := plog.NewLogs()
			for _, lt := range duosim.LogTypes() {
				for _, ev := range sim.Events(lt) {
					if tt.asString {
						record(t, ld, "duo."+lt, nil, string(ev.Raw))
						continue
					}
					m, err := decodeWithInts(ev.Raw)
					require.NoError(t, err)
					record(t, ld, "duo."+lt, m, "")
				}
			}
			d := Compare(want, Received(ld))
			assert.True(t, d.Exact(), d.String())
		})
	}
	t.Run("unidentifiable records are unexpected", func(t *testing.T) {
		ld := plog.NewLogs()
		record(t, ld, "other", map[string]any{"x": 1}, "")
		record(t, ld, "duo.authentication", map[string]any{"no_txid": true}, "")
		record(t, ld, "duo.administrator", nil, "not json")
		d := Compare(Counts{}, Received(ld))
		assert.Equal(t, 3, d.Unexpected.Total())
		assert.Equal(t, 3, d.Unexpected.ByLogType()["?"])
	})
}

// decodeWithInts decodes JSON the way a receiver might: integers as int64.
func decodeWithInts(raw []byte) (map[string]any, error) {
	conf, err := confmap.NewRetrievedFromYAML(raw) // YAML is a superset of JSON; ints stay ints
	if err != nil {
		return nil, err
	}
	v, err := conf.AsRaw()
	if err != nil {
		return nil, err
	}
	m, _ := v.(map[string]any)
	return m, nil
}

func TestRenderConfig(t *testing.T) {
	tests := []struct {
		name     string
		cfg      CollectorConfig
		wantErr  string
		contains []string
		absent   []string
	}{
		{
			name:     "defaults enable every log type, queue off, telemetry metrics off",
			cfg:      CollectorConfig{SimURL: "http://127.0.0.1:1", SinkURL: "http://127.0.0.1:2", StorageDir: "/tmp/s"},
			contains: []string{"endpoint: http://127.0.0.1:1", "logs_endpoint: http://127.0.0.1:2/v1/logs", "level: none", "trust_monitor:\n        enabled: true", "enabled: false\n    retry_on_failure"},
			absent:   []string{"enabled: false\n        pull_interval"},
		},
		{
			name:     "some log types, persistent queue, metrics",
			cfg:      CollectorConfig{LogTypes: []string{"activity"}, PersistentQueue: true, MetricsAddr: "127.0.0.1:9999"},
			contains: []string{"activity:\n        enabled: true", "authentication:\n        enabled: false", "storage: file_storage\n    retry_on_failure", "port: 9999"},
		},
		{name: "unknown log type", cfg: CollectorConfig{LogTypes: []string{"nope"}}, wantErr: "unknown log type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := tt.cfg.Render()
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			_, err = confmap.NewRetrievedFromYAML(b)
			require.NoError(t, err, "rendered config is not YAML:\n%s", b)
			s := string(b)
			for _, c := range tt.contains {
				assert.Contains(t, s, c)
			}
			for _, c := range tt.absent {
				assert.False(t, strings.Contains(s, c), "should not contain %q", c)
			}
		})
	}
}

// TestBinFromEnv: OTELCOL_DUO_BIN is typed at the repository root, as the README's
// commands are, while go test runs in this package's directory: a relative path is
// read from the root.
func TestBinFromEnv(t *testing.T) {
	root, err := RepoRoot()
	require.NoError(t, err)
	abs := filepath.Join(t.TempDir(), "otelcol-duo")
	for _, tt := range []struct{ in, want string }{
		{abs, abs},
		{"build/otelcol-duo", filepath.Join(root, "build", "otelcol-duo")},
		{"./build/otelcol-duo", filepath.Join(root, "build", "otelcol-duo")},
	} {
		got, err := binFromEnv(tt.in)
		require.NoError(t, err)
		assert.Equal(t, tt.want, got, tt.in)
	}
}
