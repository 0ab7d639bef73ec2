// Copyright The otelcol-duo Authors
// SPDX-License-Identifier: Apache-2.0

package duoreceiver

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"reflect"
	"regexp"
	"strings"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/confighttp"
	"go.opentelemetry.io/collector/config/configopaque"
	"go.opentelemetry.io/collector/config/configretry"
	"go.opentelemetry.io/collector/confmap"
	"go.uber.org/zap"

	"github.com/otelcol-duo/otelcol-duo/receiver/duoreceiver/internal/duoapi"
	"github.com/otelcol-duo/otelcol-duo/receiver/duoreceiver/internal/metadata"
)

// The values of body.
const (
	BodyMap  = "map"
	BodyJSON = "json"
)

const (
	// maxLookback is how far back Duo's v2 log endpoints serve events (docs/duo-api.md §1.6).
	maxLookback = 180 * 24 * time.Hour
	// retentionSafety is the oldest mintime the receiver asks for: a little inside
	// maxLookback, because a mintime right at the edge is refused with 400 40002 "mintime
	// must be within the past 180 days" (docs/duo-api.md §1.6, §6.4; a Duo engineer advises 179 days).
	retentionSafety = maxLookback - time.Hour
	// minRecommendedInterval: Duo asks for log requests no more than once a minute (docs/duo-api.md §1.6).
	minRecommendedInterval = time.Minute
	// secretKeyLength is the length of every Duo secret key.
	secretKeyLength = 40
)

var (
	errMissingHostname    = errors.New("api_hostname: required; set it to the API hostname shown in the Duo Admin Panel, e.g. api-xxxxxxxx.duosecurity.com")
	errHostnameForm       = errors.New("api_hostname: must be a bare hostname without scheme, path or port, e.g. api-xxxxxxxx.duosecurity.com; to send requests elsewhere set endpoint")
	errIntegrationKey     = errors.New("integration_key: must be \"DI\" followed by 18 letters or digits; copy it from the Admin API application in the Duo Admin Panel")
	errSecretKey          = errors.New("secret_key: must be exactly 40 characters; copy it from the Admin API application in the Duo Admin Panel")
	errLookbackNegative   = errors.New("initial_lookback: must not be negative; use 0 for each log type's window")
	errLookbackTooLong    = errors.New("initial_lookback: Duo keeps logs for 180 days; set at most 4320h")
	errDelayNegative      = errors.New("delay: must not be negative; Duo makes events visible about 2 minutes late, so keep the default 2m")
	errRateLimitNegative  = errors.New("rate_limit: must not be negative; use 0 for no request budget")
	errEndpointInvalid    = errors.New("endpoint: must be an absolute http:// or https:// URL, e.g. https://proxy.example.com; leave it empty to use https://<api_hostname>")
	errEndpointInsecure   = errors.New("endpoint: http:// is only allowed for a loopback address (simulator); use https://")
	errNothingEnabled     = errors.New("nothing to read: no log type and no inventory resource is enabled; enable at least one of logs.<type>.enabled or inventory.resources.<name>.enabled")
	errBodyMode           = fmt.Errorf("body: must be %q (the record as a map, the default) or %q (the record's JSON text as a string)", BodyMap, BodyJSON)
	errAccountIDForm      = errors.New("account_id: must be a Duo child account id (letters and digits, e.g. DA9VZOC5X63I2W72NRP9)")
	integrationKeyPattern = regexp.MustCompile(`^DI[A-Za-z0-9]{18}$`)
	accountIDPattern      = regexp.MustCompile(`^[A-Za-z0-9]+$`)
	duoHostnameSuffixes   = []string{".duosecurity.com", ".duofederal.com"}
)

// Config configures the duo receiver.
type Config struct {
	// ClientConfig holds the HTTP client settings (timeout, tls, proxy_url, ...). Its
	// endpoint, when set, replaces https://<api_hostname> as the base URL (a simulator or a
	// proxy); requests are still signed for api_hostname.
	confighttp.ClientConfig `mapstructure:",squash"`

	// APIHostname is the account's Admin API hostname, e.g. api-xxxxxxxx.duosecurity.com.
	APIHostname string `mapstructure:"api_hostname"`
	// IntegrationKey is the Admin API application's integration key (ikey).
	IntegrationKey string `mapstructure:"integration_key"`
	// SecretKey is the Admin API application's secret key (skey). Never logged.
	SecretKey configopaque.String `mapstructure:"secret_key"`
	// AccountID, when set, reads a child account through the Accounts API (docs/duo-api.md §3.9).
	AccountID string `mapstructure:"account_id"`
	// Accounts reads many child accounts of a parent through the Accounts API.
	Accounts AccountsConfig `mapstructure:"accounts"`
	// StorageID names the storage extension that keeps the cursors. Nil keeps them in memory.
	StorageID *component.ID `mapstructure:"storage"`
	// Logs configures each log stream.
	Logs LogsConfig `mapstructure:"logs"`
	// Body is what a log record's body holds: BodyMap (the record as a map, the default)
	// or BodyJSON (the record's JSON text as a string, which is cheaper to build and to
	// export, and what many backends store anyway).
	Body string `mapstructure:"body"`
	// Delay is how far behind now a pull stops: Duo's availability delay (docs/duo-api.md §1.6).
	Delay time.Duration `mapstructure:"delay"`
	// InitialLookback is how far back the first pull of a log type reads when there is no
	// stored cursor. 0 means the log type's window.
	InitialLookback time.Duration `mapstructure:"initial_lookback"`
	// RateLimit is the starting per-endpoint request budget, requests per minute, of the
	// client's adaptive rate limiter. 0 disables the budget.
	RateLimit float64 `mapstructure:"rate_limit"`
	// BackOffConfig controls retries of failed requests (429, 5xx, transport errors).
	BackOffConfig configretry.BackOffConfig `mapstructure:"retry_on_failure"`
	// Inventory configures the inventory snapshots (inventory_config.go).
	Inventory InventoryConfig `mapstructure:"inventory"`
	// MetricsBuilderConfig turns each posture metric and resource attribute on or off
	// (metrics:, resource_attributes:; documentation.md).
	MetricsBuilderConfig metadata.MetricsBuilderConfig `mapstructure:",squash"`

	// prevent unkeyed literal initialization
	_ struct{}
}

// LogsConfig holds one LogTypeConfig per Duo log stream.
type LogsConfig struct {
	Authentication    LogTypeConfig `mapstructure:"authentication"`
	Administrator     LogTypeConfig `mapstructure:"administrator"`
	Telephony         LogTypeConfig `mapstructure:"telephony"`
	Activity          LogTypeConfig `mapstructure:"activity"`
	OfflineEnrollment LogTypeConfig `mapstructure:"offline_enrollment"`
	TrustMonitor      LogTypeConfig `mapstructure:"trust_monitor"`
}

// LogTypeConfig configures the polling of one log stream.
type LogTypeConfig struct {
	// Enabled turns the log stream on.
	Enabled bool `mapstructure:"enabled"`
	// PullInterval is the time between two pulls.
	PullInterval time.Duration `mapstructure:"pull_interval"`
	// Window is how much history every pull re-reads, so that events Duo surfaces late are
	// still caught; already delivered events are dropped. Keep it above pull_interval.
	Window time.Duration `mapstructure:"window"`
	// Filters are Duo's server-side filters; only logs.authentication takes them.
	Filters AuthFilters `mapstructure:"filters"`
}

// Unmarshal decodes the configuration. Config needs its own: otherwise the Unmarshal of the
// embedded confighttp.ClientConfig is promoted to Config and decodes the HTTP settings only.
// confmap calls it with a Conf that does not call it again, and handles the squashed
// ClientConfig itself. That handling decodes with unknown keys allowed (ClientConfig's own
// Unmarshal, then the other fields), so a second, strict decode names any misspelled key.
func (cfg *Config) Unmarshal(conf *confmap.Conf) error {
	if err := conf.Unmarshal(cfg); err != nil {
		return err
	}
	return conf.Unmarshal(reflect.New(strictConfigType).Interface())
}

// plainClientConfig has ClientConfig's fields and tags but not its Unmarshal method, which
// decodes with unknown keys allowed.
type plainClientConfig confighttp.ClientConfig

// strictConfigType is Config with plainClientConfig in place of the HTTP settings: every
// key it does not know is an error. It is built from Config, so a new setting needs no
// second listing.
var strictConfigType = func() reflect.Type {
	ct := reflect.TypeFor[Config]()
	fields := make([]reflect.StructField, 0, ct.NumField())
	for i := range ct.NumField() {
		f := ct.Field(i)
		switch {
		case !f.IsExported():
			continue
		case f.Type == reflect.TypeFor[confighttp.ClientConfig]():
			f = reflect.StructField{Name: f.Name, Type: reflect.TypeFor[plainClientConfig](), Tag: f.Tag}
		}
		fields = append(fields, f)
	}
	return reflect.StructOf(fields)
}()

// byType returns the settings of one log type.
func (l *LogsConfig) byType(lt duoapi.LogType) *LogTypeConfig {
	return reflect.ValueOf(l).Elem().Field(logsConfigField[lt]).Addr().Interface().(*LogTypeConfig)
}

// logsConfigField is the index in LogsConfig of each log type's field, the one whose key
// (logs.<type>) is the log type's name. A log type without a field, or a field that is no
// log type, stops every test and binary.
var logsConfigField = func() map[duoapi.LogType]int {
	idx := fieldIndex(reflect.TypeFor[LogsConfig](), duoapi.LogTypes, "duoapi log type")
	for _, lt := range duoapi.LogTypes {
		if _, ok := idx[lt]; !ok {
			panic(fmt.Sprintf("duoreceiver: LogsConfig has no field with key %q", lt))
		}
	}
	return idx
}()

// lookback is the span the first pull of a log type reads.
func (cfg *Config) lookback(lt duoapi.LogType) time.Duration {
	if cfg.InitialLookback > 0 {
		return cfg.InitialLookback
	}
	return cfg.Logs.byType(lt).Window
}

// baseURL is where requests go: the endpoint override or https://<api_hostname>.
func (cfg *Config) baseURL() string {
	if cfg.Endpoint != "" {
		return strings.TrimSuffix(cfg.Endpoint, "/")
	}
	return "https://" + cfg.host()
}

// host is api_hostname as it is signed (docs/duo-api.md §2.1: line 3 is lower-cased).
func (cfg *Config) host() string {
	return strings.ToLower(cfg.APIHostname)
}

// Validate checks the configuration and reports every problem at once.
func (cfg *Config) Validate() error {
	var errs []error
	errs = append(errs, cfg.validateCredentials()...)
	if err := cfg.validateEndpoint(); err != nil {
		errs = append(errs, err)
	}
	if cfg.Delay < 0 {
		errs = append(errs, errDelayNegative)
	}
	if cfg.InitialLookback < 0 {
		errs = append(errs, errLookbackNegative)
	}
	if cfg.InitialLookback > maxLookback {
		errs = append(errs, errLookbackTooLong)
	}
	if cfg.RateLimit < 0 {
		errs = append(errs, errRateLimitNegative)
	}
	if cfg.Body != BodyMap && cfg.Body != BodyJSON {
		errs = append(errs, fmt.Errorf("%w, not %q", errBodyMode, cfg.Body))
	}
	errs = append(errs, cfg.Inventory.validate()...)
	enabled := 0
	for _, lt := range duoapi.LogTypes {
		ltc := cfg.Logs.byType(lt)
		if !ltc.Enabled {
			continue
		}
		enabled++
		if ltc.PullInterval <= 0 {
			errs = append(errs, fmt.Errorf("logs.%s.pull_interval: must be positive, e.g. 5m", lt))
		}
		if ltc.Window <= 0 {
			errs = append(errs, fmt.Errorf("logs.%s.window: must be positive and at least pull_interval, e.g. 6m", lt))
		} else if ltc.Window > maxLookback {
			errs = append(errs, fmt.Errorf("logs.%s.window: Duo keeps logs for 180 days; set at most 4320h", lt))
		}
	}
	// A metrics-only receiver turns every log stream off and reads the inventory.
	if enabled == 0 && !cfg.Inventory.anyEnabled() {
		errs = append(errs, errNothingEnabled)
	}
	errs = append(errs, cfg.validateFilters()...)
	errs = append(errs, cfg.Accounts.validate(cfg.AccountID)...)
	return errors.Join(errs...)
}

func (cfg *Config) validateCredentials() []error {
	var errs []error
	switch {
	case cfg.APIHostname == "":
		errs = append(errs, errMissingHostname)
	case strings.ContainsAny(cfg.APIHostname, ":/?#@ "):
		errs = append(errs, errHostnameForm)
	}
	if !integrationKeyPattern.MatchString(cfg.IntegrationKey) {
		errs = append(errs, errIntegrationKey)
	}
	if len(cfg.SecretKey) != secretKeyLength {
		errs = append(errs, errSecretKey)
	}
	if cfg.AccountID != "" && !accountIDPattern.MatchString(cfg.AccountID) {
		errs = append(errs, errAccountIDForm)
	}
	return errs
}

func (cfg *Config) validateEndpoint() error {
	if cfg.Endpoint == "" {
		return nil
	}
	u, err := url.Parse(cfg.Endpoint)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return errEndpointInvalid
	}
	if u.Scheme == "http" && !isLoopback(u.Hostname()) {
		return errEndpointInsecure
	}
	return nil
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// simulatorEndpoint reports whether requests go to a loopback address: a simulator, not
// Duo. Duo's requests for restraint (intervals) concern its own hosts.
func (cfg *Config) simulatorEndpoint() bool {
	if cfg.Endpoint == "" {
		return false
	}
	u, err := url.Parse(cfg.Endpoint)
	return err == nil && isLoopback(u.Hostname())
}

// warn logs the settings that are allowed but probably wrong. Called at every Start.
func (cfg *Config) warn(logger *zap.Logger) {
	host := cfg.host()
	known := false
	for _, suffix := range duoHostnameSuffixes {
		known = known || strings.HasSuffix(host, suffix)
	}
	if !known {
		logger.Warn("api_hostname is outside duosecurity.com and duofederal.com; check it against the Duo Admin Panel",
			zap.String("api_hostname", host))
	}
	simulator := cfg.simulatorEndpoint()
	for _, lt := range duoapi.LogTypes {
		ltc := cfg.Logs.byType(lt)
		if !ltc.Enabled {
			continue
		}
		if ltc.PullInterval < minRecommendedInterval && !simulator {
			logger.Warn("pull_interval is under a minute; Duo asks for log requests no more than once a minute",
				zap.String("log_type", string(lt)), zap.Duration("pull_interval", ltc.PullInterval))
		}
		if ltc.Window < ltc.PullInterval {
			logger.Warn("window is shorter than pull_interval; events Duo surfaces late may be missed",
				zap.String("log_type", string(lt)), zap.Duration("window", ltc.Window), zap.Duration("pull_interval", ltc.PullInterval))
		}
	}
	if !simulator {
		cfg.Inventory.warn(logger)
	}
	cfg.logFilters(logger)
	if cfg.TLS.InsecureSkipVerify {
		logger.Warn("tls insecure_skip_verify is set: the Duo server certificate is not verified; use it only for tests")
	}
}
