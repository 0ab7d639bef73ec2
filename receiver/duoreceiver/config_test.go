// Copyright The otelcol-duo Authors
// SPDX-License-Identifier: Apache-2.0

package duoreceiver

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/configopaque"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/confmaptest"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/otelcol-duo/otelcol-duo/receiver/duoreceiver/internal/duoapi"
	"github.com/otelcol-duo/otelcol-duo/receiver/duoreceiver/internal/metadata"
)

const (
	testHost = "api-xxxxxxxx.duosecurity.com"
	testIKey = "DIXXXXXXXXXXXXXXXXXX"
	testSKey = "0123456789012345678901234567890123456789"
)

func validConfig() *Config {
	cfg := createDefaultConfig().(*Config)
	cfg.APIHostname = testHost
	cfg.IntegrationKey = testIKey
	cfg.SecretKey = testSKey
	return cfg
}

func TestLoadConfig(t *testing.T) {
	cm, err := confmaptest.LoadConf(filepath.Join("testdata", "config.yaml"))
	require.NoError(t, err)

	storageID := component.MustNewID("file_storage")
	tests := []struct {
		name    string
		want    func() *Config
		wantErr []string // substrings, each must appear; empty = valid
		// wantUnmarshalErr: substrings of the error of loading the section.
		wantUnmarshalErr []string
	}{
		{
			name: "",
			want: validConfig,
		},
		{
			name: "full",
			want: func() *Config {
				cfg := validConfig()
				cfg.APIHostname = "API-XXXXXXXX.duosecurity.com"
				cfg.AccountID = "DA9VZOC5X63I2W72NRP9"
				cfg.StorageID = &storageID
				cfg.Endpoint = "https://duo-proxy.example.com"
				cfg.Timeout = 10 * time.Second
				cfg.Delay = 3 * time.Minute
				cfg.InitialLookback = 720 * time.Hour
				cfg.RateLimit = 1
				cfg.Body = BodyJSON
				cfg.BackOffConfig.InitialInterval = 2 * time.Second
				cfg.BackOffConfig.MaxInterval = time.Minute
				cfg.BackOffConfig.MaxElapsedTime = 10 * time.Minute
				cfg.Logs.Authentication = LogTypeConfig{Enabled: true, PullInterval: 2 * time.Minute, Window: 3 * time.Minute}
				cfg.Logs.Administrator.Enabled = false
				cfg.Logs.Telephony = LogTypeConfig{Enabled: true, PullInterval: 10 * time.Minute, Window: 15 * time.Minute}
				cfg.Logs.TrustMonitor.Enabled = true
				return cfg
			},
		},
		{
			name: "simulator",
			want: func() *Config {
				cfg := validConfig()
				cfg.APIHostname = "api-sim00000.duosecurity.com"
				cfg.IntegrationKey = "DISIMULATOR000000001"
				cfg.SecretKey = "simulatorsecretkey0000000000000000000000"
				cfg.Endpoint = "http://127.0.0.1:8080"
				return cfg
			},
		},
		{
			name:    "invalid_credentials",
			wantErr: []string{"api_hostname: must be a bare hostname", "integration_key:", "secret_key: must be exactly 40"},
		},
		{
			name:    "invalid_hostname_port",
			wantErr: []string{"api_hostname: must be a bare hostname"},
		},
		{
			name: "invalid_intervals",
			wantErr: []string{
				"delay: must not be negative", "initial_lookback: Duo keeps logs for 180 days",
				"logs.authentication.pull_interval: must be positive", "logs.telephony.window: must be positive",
			},
		},
		{
			name:    "invalid_http_endpoint",
			wantErr: []string{"endpoint: http:// is only allowed for a loopback address"},
		},
		{
			name:    "invalid_none_enabled",
			wantErr: []string{"nothing to read: no log type and no inventory resource is enabled"},
		},
		{
			name: "filters",
			want: func() *Config {
				cfg := validConfig()
				cfg.Logs.Authentication.Filters = AuthFilters{
					Users:        []string{"DUAAAAAAAAAAAAAAAAAA", "DUBBBBBBBBBBBBBBBBBB"},
					Groups:       []string{"DGAAAAAAAAAAAAAAAAAA"},
					Applications: []string{"DIAPPAAAAAAAAAAAAAAA"},
					EventTypes:   []string{"authentication"},
					Results:      []string{"denied", "fraud"},
					Reasons:      []string{"no_response", "locked_out"},
					Factors:      []string{"duo_push", "WebAuthn Security Key"},
					PhoneNumbers: []string{"+15555550100"},
					Tokens:       []string{"DHTOKENAAAAAAAAAAAAA"},
				}
				return cfg
			},
		},
		{
			name: "invalid_filters",
			wantErr: []string{
				`logs.authentication.filters.results: "failed" is not a value Duo accepts; use one of success, denied, fraud`,
				`logs.authentication.filters.event_types: "login" is not a value Duo accepts; use one of authentication, enrollment`,
				"logs.telephony.filters: duo filters only the authentication log",
			},
		},
		{
			name:             "unknown_filter",
			wantUnmarshalErr: []string{"'logs.authentication.filters' has invalid keys: user"},
		},
		{
			name: "accounts",
			want: func() *Config {
				cfg := validConfig()
				cfg.APIHostname = "api-parent00.duosecurity.com"
				cfg.Accounts = AccountsConfig{
					Discover: true, RefreshInterval: 30 * time.Minute,
					Include: []string{"Customer *", "DA9VZOC5X63I2W72NRP9"}, Exclude: []string{"* (test)"},
					MaxRequestsPerMinute: 120,
				}
				return cfg
			},
		},
		{
			name: "accounts_ids",
			want: func() *Config {
				cfg := validConfig()
				cfg.APIHostname = "api-parent00.duosecurity.com"
				cfg.Accounts.IDs = []string{"DA9VZOC5X63I2W72NRP9", "DAAAAAAAAAAAAAAAAAA1"}
				return cfg
			},
		},
		{
			name: "invalid_accounts",
			wantErr: []string{
				"accounts: ids and discover exclude each other",
				"account_id reads one child account",
				"accounts.refresh_interval: must be positive",
				"accounts.max_requests_per_minute: must not be negative",
				`accounts.ids: "DA-1" is not a Duo child account id`,
				`accounts.ids: "DA9VZOC5X63I2W72NRP9" is listed twice`,
				`accounts.exclude: "[unclosed" is not a valid glob`,
			},
		},
		{
			name:             "unknown_keys",
			wantUnmarshalErr: []string{"storag", "'logs' has invalid keys: authentification"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := component.NewIDWithName(metadata.Type, tt.name)
			sub, err := cm.Sub(id.String())
			require.NoError(t, err)
			cfg := NewFactory().CreateDefaultConfig()
			err = sub.Unmarshal(cfg)
			if len(tt.wantUnmarshalErr) > 0 {
				for _, want := range tt.wantUnmarshalErr {
					assert.ErrorContains(t, err, want)
				}
				return
			}
			require.NoError(t, err)

			err = confmap.Validate(cfg)
			if len(tt.wantErr) == 0 {
				require.NoError(t, err)
				assert.Equal(t, tt.want(), cfg)
				return
			}
			require.Error(t, err)
			for _, want := range tt.wantErr {
				assert.ErrorContains(t, err, want)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name    string
		mutate  func(*Config)
		wantErr []string
	}{
		{name: "defaults with credentials", mutate: func(*Config) {}},
		{name: "lookback of exactly 180 days", mutate: func(c *Config) { c.InitialLookback = maxLookback }},
		{name: "loopback http endpoint", mutate: func(c *Config) { c.Endpoint = "http://localhost:8080" }},
		{name: "ipv6 loopback http endpoint", mutate: func(c *Config) { c.Endpoint = "http://[::1]:8080" }},
		{name: "https endpoint", mutate: func(c *Config) { c.Endpoint = "https://proxy.example.com/duo" }},
		{name: "lower-case integration key letters", mutate: func(c *Config) { c.IntegrationKey = "DIabcdefghij01234567" }},
		{name: "missing hostname", mutate: func(c *Config) { c.APIHostname = "" }, wantErr: []string{"api_hostname: required"}},
		{name: "hostname with scheme", mutate: func(c *Config) { c.APIHostname = "https://" + testHost }, wantErr: []string{"api_hostname: must be a bare hostname"}},
		{name: "hostname with path", mutate: func(c *Config) { c.APIHostname = testHost + "/admin" }, wantErr: []string{"api_hostname: must be a bare hostname"}},
		{name: "hostname with port", mutate: func(c *Config) { c.APIHostname = testHost + ":443" }, wantErr: []string{"api_hostname: must be a bare hostname"}},
		{name: "integration key too short", mutate: func(c *Config) { c.IntegrationKey = "DI123" }, wantErr: []string{"integration_key:"}},
		{name: "integration key wrong prefix", mutate: func(c *Config) { c.IntegrationKey = "XX000000000000000000" }, wantErr: []string{"integration_key:"}},
		{name: "integration key punctuation", mutate: func(c *Config) { c.IntegrationKey = "DI00000000000000000-" }, wantErr: []string{"integration_key:"}},
		{name: "secret key 39 chars", mutate: func(c *Config) { c.SecretKey = configopaque.String(testSKey[:39]) }, wantErr: []string{"secret_key: must be exactly 40"}},
		{name: "secret key 41 chars", mutate: func(c *Config) { c.SecretKey = testSKey + "x" }, wantErr: []string{"secret_key: must be exactly 40"}},
		{name: "account id with punctuation", mutate: func(c *Config) { c.AccountID = "DA-1" }, wantErr: []string{"account_id:"}},
		{name: "zero pull interval", mutate: func(c *Config) { c.Logs.Activity.PullInterval = 0 }, wantErr: []string{"logs.activity.pull_interval: must be positive"}},
		{name: "negative window", mutate: func(c *Config) { c.Logs.Administrator.Window = -time.Second }, wantErr: []string{"logs.administrator.window: must be positive"}},
		{name: "window beyond retention", mutate: func(c *Config) { c.Logs.Administrator.Window = maxLookback + time.Hour }, wantErr: []string{"logs.administrator.window: Duo keeps logs for 180 days"}},
		{name: "disabled type is not checked", mutate: func(c *Config) { c.Logs.TrustMonitor.PullInterval = 0 }},
		{name: "lookback beyond 180 days", mutate: func(c *Config) { c.InitialLookback = maxLookback + time.Second }, wantErr: []string{"initial_lookback: Duo keeps logs for 180 days"}},
		{name: "negative lookback", mutate: func(c *Config) { c.InitialLookback = -time.Second }, wantErr: []string{"initial_lookback: must not be negative"}},
		{name: "negative delay", mutate: func(c *Config) { c.Delay = -time.Second }, wantErr: []string{"delay: must not be negative"}},
		{name: "negative rate limit", mutate: func(c *Config) { c.RateLimit = -1 }, wantErr: []string{"rate_limit: must not be negative"}},
		{name: "json body", mutate: func(c *Config) { c.Body = BodyJSON }},
		{name: "unknown body", mutate: func(c *Config) { c.Body = "JSON" }, wantErr: []string{`body: must be "map"`, `or "json"`, `not "JSON"`}},
		{name: "empty body", mutate: func(c *Config) { c.Body = "" }, wantErr: []string{`body: must be "map"`, `not ""`}},
		{name: "http endpoint not loopback", mutate: func(c *Config) { c.Endpoint = "http://10.0.0.1:8080" }, wantErr: []string{"endpoint: http:// is only allowed"}},
		{name: "endpoint without scheme", mutate: func(c *Config) { c.Endpoint = "proxy.example.com" }, wantErr: []string{"endpoint: must be an absolute"}},
		{name: "endpoint with other scheme", mutate: func(c *Config) { c.Endpoint = "ftp://127.0.0.1" }, wantErr: []string{"endpoint: must be an absolute"}},
		{name: "filter of the closed results set", mutate: func(c *Config) { c.Logs.Authentication.Filters.Results = []string{"success"} }},
		{name: "filter factor outside the examples is allowed", mutate: func(c *Config) { c.Logs.Authentication.Filters.Factors = []string{"verified_duo_push"} }},
		{name: "filter reason outside the examples is allowed", mutate: func(c *Config) { c.Logs.Authentication.Filters.Reasons = []string{"user_mistake"} }},
		{name: "filter result is case sensitive", mutate: func(c *Config) { c.Logs.Authentication.Filters.Results = []string{"Success"} }, wantErr: []string{`filters.results: "Success" is not a value Duo accepts`}},
		{name: "filter empty value", mutate: func(c *Config) { c.Logs.Authentication.Filters.Users = []string{" "} }, wantErr: []string{"logs.authentication.filters.users: an empty value"}},
		{name: "filter value twice", mutate: func(c *Config) { c.Logs.Authentication.Filters.Groups = []string{"DG1", "DG1"} }, wantErr: []string{`logs.authentication.filters.groups: "DG1" is listed twice`}},
		{name: "filters on a log Duo does not filter", mutate: func(c *Config) { c.Logs.Activity.Filters.Users = []string{"DU1"} }, wantErr: []string{"logs.activity.filters: duo filters only the authentication log"}},
		{name: "accounts include without discover", mutate: func(c *Config) { c.Accounts.Include = []string{"A*"} }, wantErr: []string{"accounts: include and exclude choose among discovered children"}},
		{name: "accounts discover with the default refresh", mutate: func(c *Config) { c.Accounts.Discover = true }},
		{
			name: "nothing enabled",
			mutate: func(c *Config) {
				c.Logs = LogsConfig{}
				c.Inventory.Resources = InventoryResources{}
			},
			wantErr: []string{"nothing to read: no log type and no inventory resource is enabled"},
		},
		{
			// A metrics-only user turns the log streams off and reads the inventory.
			name:   "inventory only",
			mutate: func(c *Config) { c.Logs = LogsConfig{} },
		},
		{
			name: "every problem at once",
			mutate: func(c *Config) {
				c.APIHostname = ""
				c.IntegrationKey = ""
				c.SecretKey = ""
				c.Delay = -1
				c.Logs.Authentication.PullInterval = 0
			},
			wantErr: []string{"api_hostname:", "integration_key:", "secret_key:", "delay:", "logs.authentication.pull_interval:"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := validConfig()
			tt.mutate(cfg)
			err := confmap.Validate(cfg)
			if len(tt.wantErr) == 0 {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			for _, want := range tt.wantErr {
				assert.ErrorContains(t, err, want)
			}
			assert.NotContains(t, err.Error(), testSKey, "an error must never hold the secret key")
		})
	}
}

func TestConfigWarnings(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*Config)
		want   []string
	}{
		{name: "defaults", mutate: func(*Config) {}},
		{name: "federal host", mutate: func(c *Config) { c.APIHostname = "api-xxxxxxxx.duofederal.com" }},
		{name: "foreign host", mutate: func(c *Config) { c.APIHostname = "api.example.com" }, want: []string{"api_hostname is outside duosecurity.com and duofederal.com; check it against the Duo Admin Panel"}},
		{
			name:   "pull interval under a minute",
			mutate: func(c *Config) { c.Logs.Telephony.PullInterval = 30 * time.Second },
			want:   []string{"pull_interval is under a minute; Duo asks for log requests no more than once a minute"},
		},
		{
			name:   "window shorter than interval",
			mutate: func(c *Config) { c.Logs.Telephony.Window = 30 * time.Second },
			want:   []string{"window is shorter than pull_interval; events Duo surfaces late may be missed"},
		},
		{
			name:   "insecure tls",
			mutate: func(c *Config) { c.TLS.InsecureSkipVerify = true },
			want:   []string{"tls insecure_skip_verify is set: the Duo server certificate is not verified; use it only for tests"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := validConfig()
			tt.mutate(cfg)
			core, logs := observer.New(zapcore.WarnLevel)
			cfg.warn(zap.New(core))
			var got []string
			for _, e := range logs.All() {
				got = append(got, e.Message)
			}
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestCreateDefaultConfig(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	assert.Equal(t, 30*time.Second, cfg.Timeout)
	assert.Equal(t, 2*time.Minute, cfg.Delay)
	assert.Equal(t, time.Duration(0), cfg.InitialLookback)
	assert.InDelta(t, 2.0, cfg.RateLimit, 0)
	assert.True(t, cfg.BackOffConfig.Enabled)
	assert.Nil(t, cfg.StorageID)
	assert.Equal(t, defaultLogs(), cfg.Logs)
	assert.False(t, cfg.Logs.TrustMonitor.Enabled)
	// The defaults alone are incomplete: credentials must be set.
	assert.Error(t, confmap.Validate(cfg))
}

func TestUnknownKeys(t *testing.T) {
	base := map[string]any{
		"api_hostname":    testHost,
		"integration_key": testIKey,
		"secret_key":      testSKey,
	}
	tests := []struct {
		name    string
		extra   map[string]any
		wantErr string // the misspelled key; empty = the config must load
	}{
		{name: "known keys", extra: map[string]any{
			"storage": "file_storage", "rate_limit": 5, "timeout": "10s", "endpoint": "https://proxy.example.com",
			"headers": map[string]any{"X-Test": "1"}, "tls": map[string]any{"insecure_skip_verify": true},
			"proxy_url": "http://127.0.0.1:3128", "compression": "gzip", "auth": map[string]any{"authenticator": "oauth2client"},
			"max_idle_conns": 10, "idle_conn_timeout": "30s", "body": "json",
			"retry_on_failure": map[string]any{"enabled": false},
			"logs":             map[string]any{"authentication": map[string]any{"enabled": true, "window": "7m"}},
		}},
		{name: "top level", extra: map[string]any{"rate_limitt": 5}, wantErr: "rate_limitt"},
		{name: "body typo", extra: map[string]any{"bodyy": "json"}, wantErr: "bodyy"},
		{name: "storage typo", extra: map[string]any{"storag": "file_storage"}, wantErr: "storag"},
		{name: "log type typo", extra: map[string]any{"logs": map[string]any{"authentification": map[string]any{"enabled": true}}}, wantErr: "authentification"},
		{name: "log type setting typo", extra: map[string]any{"logs": map[string]any{"telephony": map[string]any{"pull_intervall": "1m"}}}, wantErr: "pull_intervall"},
		{name: "http setting typo", extra: map[string]any{"timeoutt": "5s"}, wantErr: "timeoutt"},
		{name: "tls setting typo", extra: map[string]any{"tls": map[string]any{"insecure_skip_verifyy": true}}, wantErr: "insecure_skip_verifyy"},
		{name: "retry setting typo", extra: map[string]any{"retry_on_failure": map[string]any{"max_intervall": "1m"}}, wantErr: "max_intervall"},
		{name: "accounts typo", extra: map[string]any{"accounts": map[string]any{"discoverr": true}}, wantErr: "discoverr"},
		{name: "inventory typo", extra: map[string]any{"inventory": map[string]any{"intervall": "1h"}}, wantErr: "intervall"},
		{name: "inventory resource typo", extra: map[string]any{"inventory": map[string]any{"resources": map[string]any{"userz": map[string]any{"enabled": true}}}}, wantErr: "userz"},
		{name: "inventory resource setting typo", extra: map[string]any{"inventory": map[string]any{"resources": map[string]any{"users": map[string]any{"enabeld": true}}}}, wantErr: "enabeld"},
		{name: "filters typo", extra: map[string]any{"logs": map[string]any{"authentication": map[string]any{"filters": map[string]any{"userz": []string{"x"}}}}}, wantErr: "userz"},
		{name: "metric typo", extra: map[string]any{"metrics": map[string]any{"duo.userz": map[string]any{"enabled": true}}}, wantErr: "duo.userz"},
		{name: "metric setting typo", extra: map[string]any{"metrics": map[string]any{"duo.users": map[string]any{"enabeld": true}}}, wantErr: "enabeld"},
		{name: "resource attribute typo", extra: map[string]any{"resource_attributes": map[string]any{"duo.account.idd": map[string]any{"enabled": true}}}, wantErr: "duo.account.idd"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw := map[string]any{}
			for k, v := range base {
				raw[k] = v
			}
			for k, v := range tt.extra {
				raw[k] = v
			}
			cfg := NewFactory().CreateDefaultConfig()
			err := confmap.NewFromStringMap(raw).Unmarshal(cfg)
			if tt.wantErr == "" {
				require.NoError(t, err)
				require.NoError(t, confmap.Validate(cfg))
				return
			}
			require.Error(t, err)
			assert.ErrorContains(t, err, tt.wantErr)
		})
	}
}

// TestLogsConfigByType: each log type reads its own logs.<type> section, and no other.
func TestLogsConfigByType(t *testing.T) {
	for _, lt := range duoapi.LogTypes {
		cm := confmap.NewFromStringMap(map[string]any{string(lt): map[string]any{"enabled": true}})
		var got LogsConfig
		require.NoError(t, cm.Unmarshal(&got))
		for _, other := range duoapi.LogTypes {
			assert.Equal(t, other == lt, got.byType(other).Enabled, "logs.%s set, byType(%s)", lt, other)
		}
	}
}

func TestAccountsSelects(t *testing.T) {
	const id = "DA9VZOC5X63I2W72NRP9"
	tests := []struct {
		name             string
		include, exclude []string
		childName        string
		want             bool
	}{
		{name: "no lists reads every child", childName: "Acme", want: true},
		{name: "include by id", include: []string{id}, childName: "Acme", want: true},
		{name: "include by glob", include: []string{"Ac*"}, childName: "Acme", want: true},
		{name: "include misses", include: []string{"Bo*", "DAOTHER"}, childName: "Acme", want: false},
		{name: "exclude by id", exclude: []string{id}, childName: "Acme", want: false},
		{name: "exclude by glob", exclude: []string{"* (test)"}, childName: "Acme (test)", want: false},
		{name: "exclude wins over include", include: []string{"Ac*"}, exclude: []string{"Acme"}, childName: "Acme", want: false},
		{name: "glob is whole-name", include: []string{"Ac"}, childName: "Acme", want: false},
		{name: "id is not a glob on the id", include: []string{"DA*"}, childName: "Acme", want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := AccountsConfig{Discover: true, Include: tt.include, Exclude: tt.exclude}
			assert.Equal(t, tt.want, a.selects(id, tt.childName))
		})
	}
}
