// Copyright The otelcol-duo Authors
// SPDX-License-Identifier: Apache-2.0

package duoreceiver

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"

	"go.uber.org/zap"

	"github.com/otelcol-duo/otelcol-duo/receiver/duoreceiver/internal/duoapi"
)

// AuthFilters are the server-side filters of the authentication log (docs/duo-inventory.md
// §3.1). Each list is sent as a repeated parameter, signed like any other; the values of
// one list are alternatives (ORed, as Duo documents). How different lists combine Duo does
// not say; AND is the likely reading.
type AuthFilters struct {
	// Users are user ids (the log's user.key).
	Users []string `mapstructure:"users"`
	// Groups are group ids.
	Groups []string `mapstructure:"groups"`
	// Applications are integration keys (the log's application.key).
	Applications []string `mapstructure:"applications"`
	// EventTypes: authentication, enrollment.
	EventTypes []string `mapstructure:"event_types"`
	// Results: success, denied, fraud.
	Results []string `mapstructure:"results"`
	// Reasons, e.g. user_approved, no_response, locked_out.
	Reasons []string `mapstructure:"reasons"`
	// Factors, e.g. duo_push, phone_call, passcode.
	Factors []string `mapstructure:"factors"`
	// PhoneNumbers are numbers as the log shows them, or "name (number)" for a named phone.
	PhoneNumbers []string `mapstructure:"phone_numbers"`
	// Tokens are WebAuthn or U2F token ids.
	Tokens []string `mapstructure:"tokens"`
}

// filterList is one filter: its key (also the parameter name) and values, and what Duo
// documents about its values.
type filterList struct {
	key    string
	values []string
	// allowed is the closed set Duo documents; nil when the set is open or not known.
	allowed []string
	// known are documented examples of an open set: another value is allowed with a warning.
	known []string
}

// Documented values (docs/duo-inventory.md §3.1). results and event_types are closed sets.
// factors is an open set and reasons is documented by example (about 45 values, not all
// listed), so a value outside these lists is warned about, not refused.
var (
	authResults    = []string{"success", "denied", "fraud"}
	authEventTypes = []string{"authentication", "enrollment"}
	authReasons    = []string{"user_marked_fraud", "deny_unenrolled_user", "locked_out", "user_disabled",
		"invalid_passcode", "no_response", "location_restricted", "anonymous_ip", "endpoint_is_not_trusted",
		"bypass_user", "remembered_device", "user_approved", "valid_passcode"}
	authFactors = []string{"duo_push", "phone_call", "u2f_token", "hardware_token", "bypass_code", "sms_passcode",
		"duo_mobile_passcode", "yubikey_code", "passcode", "WebAuthn Security Key", "WebAuthn Credential",
		"not_available", "remembered_device", "trusted_network"}
)

func (f *AuthFilters) lists() []filterList {
	return []filterList{
		{key: "users", values: f.Users},
		{key: "groups", values: f.Groups},
		{key: "applications", values: f.Applications},
		{key: "event_types", values: f.EventTypes, allowed: authEventTypes},
		{key: "results", values: f.Results, allowed: authResults},
		{key: "reasons", values: f.Reasons, known: authReasons},
		{key: "factors", values: f.Factors, known: authFactors},
		{key: "phone_numbers", values: f.PhoneNumbers},
		{key: "tokens", values: f.Tokens},
	}
}

// empty reports whether no filter is set.
func (f *AuthFilters) empty() bool {
	for _, l := range f.lists() {
		if len(l.values) > 0 {
			return false
		}
	}
	return true
}

// fingerprint identifies the filters, "" for none, without keeping their values (user
// ids, phone numbers) in storage: the order of values within a filter does not count.
func (f *AuthFilters) fingerprint() string {
	if f.empty() {
		return ""
	}
	h := sha256.New()
	for _, l := range f.lists() {
		vs := slices.Sorted(slices.Values(l.values))
		fmt.Fprintf(h, "%s=%q\n", l.key, vs)
	}
	return hex.EncodeToString(h.Sum(nil)[:12])
}

// params are the filters as request parameters, nil when none is set.
func (f *AuthFilters) params() map[string][]string {
	var out map[string][]string
	for _, l := range f.lists() {
		if len(l.values) == 0 {
			continue
		}
		if out == nil {
			out = map[string][]string{}
		}
		out[l.key] = slices.Clone(l.values)
	}
	return out
}

// validate checks every value; prefix is the key of the filters block.
func (f *AuthFilters) validate(prefix string) []error {
	var errs []error
	for _, l := range f.lists() {
		key := prefix + "." + l.key
		seen := make(map[string]bool, len(l.values))
		for _, v := range l.values {
			switch {
			case strings.TrimSpace(v) == "":
				errs = append(errs, fmt.Errorf("%s: an empty value filters nothing in; remove it", key))
			case seen[v]:
				errs = append(errs, fmt.Errorf("%s: %q is listed twice", key, v))
			case l.allowed != nil && !slices.Contains(l.allowed, v):
				errs = append(errs, fmt.Errorf("%s: %q is not a value Duo accepts; use one of %s", key, v, strings.Join(l.allowed, ", ")))
			}
			seen[v] = true
		}
	}
	return errs
}

// warn logs values outside Duo's documented examples of an open set.
func (f *AuthFilters) warn(logger *zap.Logger, prefix string) {
	for _, l := range f.lists() {
		if l.known == nil {
			continue
		}
		for _, v := range l.values {
			if !slices.Contains(l.known, v) {
				logger.Warn("filter value is not among Duo's documented examples; check its spelling, Duo answers a wrong one with no events",
					zap.String("filter", prefix+"."+l.key), zap.String("value", v), zap.Strings("documented", l.known))
			}
		}
	}
}

var errFiltersNotAuth = errors.New("duo filters only the authentication log on its side; move filters under logs.authentication")

// validateFilters checks the filters of every log type: only authentication takes any.
func (cfg *Config) validateFilters() []error {
	var errs []error
	for _, lt := range duoapi.LogTypes {
		ltc := cfg.Logs.byType(lt)
		prefix := fmt.Sprintf("logs.%s.filters", lt)
		if lt != duoapi.Authentication {
			if !ltc.Filters.empty() {
				errs = append(errs, fmt.Errorf("%s: %w", prefix, errFiltersNotAuth))
			}
			continue
		}
		errs = append(errs, ltc.Filters.validate(prefix)...)
	}
	return errs
}

// filterParams are the extra parameters of each log type's requests.
func (cfg *Config) filterParams() map[duoapi.LogType]map[string][]string {
	p := cfg.Logs.Authentication.Filters.params()
	if p == nil {
		return nil
	}
	return map[duoapi.LogType]map[string][]string{duoapi.Authentication: p}
}

// logFilters says, at every start, that the authentication log is filtered and that the
// cursor does not depend on the filters: after a change, events the earlier filters left
// out and that are older than the cursor are not read again. (The poller also warns when
// a stored cursor was saved under other filters.)
func (cfg *Config) logFilters(logger *zap.Logger) {
	f := &cfg.Logs.Authentication.Filters
	if f.empty() || !cfg.Logs.Authentication.Enabled {
		return
	}
	const prefix = "logs.authentication.filters"
	f.warn(logger, prefix)
	fields := []zap.Field{}
	for _, l := range f.lists() {
		if len(l.values) > 0 {
			fields = append(fields, zap.Strings(l.key, l.values))
		}
	}
	logger.Info("authentication log is filtered by Duo; the cursor is kept when the filters change, "+
		"so events that earlier filters left out are not read again", fields...)
}
