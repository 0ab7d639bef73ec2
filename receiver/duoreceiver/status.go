// Copyright The otelcol-duo Authors
// SPDX-License-Identifier: Apache-2.0

package duoreceiver

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componentstatus"

	"github.com/otelcol-duo/otelcol-duo/receiver/duoreceiver/internal/duoapi"
)

// startupCheck is the health source of the account check run at Start.
const startupCheck duoapi.LogType = ""

// health turns the receiver's outcomes into component status events: a recoverable error
// when a pull (or the start-up check) fails, back to OK once every failing source is fine.
// A receiver reading child accounts has one view per child (forAccount) onto one status:
// degraded while any child fails, the error naming the failing children.
type health struct {
	agg *healthAgg
	// account labels the child this view reports for; "" for a single account.
	account string
}

type healthAgg struct {
	host component.Host
	mu   sync.Mutex
	// failing holds each failing source's latest error.
	failing map[healthSource]error
}

// healthSource is one log type (or the start-up check) of one account.
type healthSource struct {
	account string
	lt      duoapi.LogType
}

func newHealth(host component.Host) *health {
	return &health{agg: &healthAgg{host: host, failing: map[healthSource]error{}}}
}

// forAccount is the view of one child account, labelled for messages.
func (h *health) forAccount(label string) *health {
	return &health{agg: h.agg, account: label}
}

func (h *health) failed(src duoapi.LogType, err error) {
	a := h.agg
	a.mu.Lock()
	defer a.mu.Unlock()
	a.failing[healthSource{h.account, src}] = err
	if h.account != "" {
		err = a.childrenError(h.account, err)
	}
	componentstatus.ReportStatus(a.host, componentstatus.NewRecoverableErrorEvent(err))
}

// childrenError names every failing child and gives the error of one. Must hold mu.
func (a *healthAgg) childrenError(account string, err error) error {
	return fmt.Errorf("child accounts failing: %s; %s: %w", strings.Join(a.failingAccounts(), ", "), account, err)
}

// failingAccounts lists the accounts with a failing source, sorted. Must hold mu.
func (a *healthAgg) failingAccounts() []string {
	var out []string
	for src := range a.failing {
		if !slices.Contains(out, src.account) {
			out = append(out, src.account)
		}
	}
	slices.Sort(out)
	return out
}

// succeeded records a successful pull of lt. Duo answering a pull also clears a failed
// start-up check: the credentials work.
func (h *health) succeeded(lt duoapi.LogType) {
	a := h.agg
	a.mu.Lock()
	defer a.mu.Unlock()
	src, check := healthSource{h.account, lt}, healthSource{h.account, startupCheck}
	_, f1 := a.failing[src]
	_, f2 := a.failing[check]
	if !f1 && !f2 {
		return
	}
	delete(a.failing, src)
	delete(a.failing, check)
	a.reportLocked()
}

// forget drops every failure of this view's account: the account is no longer read.
func (h *health) forget() {
	a := h.agg
	a.mu.Lock()
	defer a.mu.Unlock()
	n := len(a.failing)
	for src := range a.failing {
		if src.account == h.account {
			delete(a.failing, src)
		}
	}
	if len(a.failing) < n {
		a.reportLocked()
	}
}

// reportLocked reports OK once nothing fails; while children still fail, a recoverable
// error naming those left. Must hold mu.
func (a *healthAgg) reportLocked() {
	for src, err := range a.failing {
		if src.account == "" {
			return // a single account: its failure stands until it clears
		}
		componentstatus.ReportStatus(a.host, componentstatus.NewRecoverableErrorEvent(a.childrenError(src.account, err)))
		return
	}
	componentstatus.ReportStatus(a.host, componentstatus.NewEvent(componentstatus.StatusOK))
}

// storageFailure marks a failure of the storage extension, as opposed to API trouble.
// read tells a failed read of the stored cursor from a failed save.
type storageFailure struct {
	read bool
	err  error
}

func (e *storageFailure) Error() string { return e.err.Error() }
func (e *storageFailure) Unwrap() error { return e.err }

func isStorageFailure(err error) bool {
	var sf *storageFailure
	return errors.As(err, &sf)
}

// isStorageRead reports whether err is a failed read of the stored cursor.
func isStorageRead(err error) bool {
	var sf *storageFailure
	return errors.As(err, &sf) && sf.read
}

// errConsume marks a refusal by the next consumer, as opposed to API trouble.
var errConsume = errors.New("next consumer refused the logs")

// credentialsError is the status error for credentials Duo rejected: it names the
// settings to check, and for a 403 the permission reading logs needs.
func credentialsError(what, apiHost string, err error) error {
	hint := ""
	if duoStatus(err) == http.StatusForbidden {
		hint = " (and that the Admin API application has Grant read log)"
	}
	return fmt.Errorf("duo rejected the credentials for %s: check integration_key, secret_key and api_hostname %q%s: %w",
		what, apiHost, hint, err)
}

// storageError is the status error for a failed checkpoint read or write.
func storageError(lt duoapi.LogType, storage string, err error) error {
	return fmt.Errorf("cannot keep the cursor of log type %s in storage extension %q: %w", lt, storage, err)
}

// duoStatus is the HTTP status Duo meant: for a 200 carrying stat FAIL, the one encoded in
// the first three digits of its code (docs/duo-api.md §1.4). 0 when err is not Duo's answer.
func duoStatus(err error) int {
	var apiErr *duoapi.APIError
	if !errors.As(err, &apiErr) {
		return 0
	}
	if apiErr.Status >= 200 && apiErr.Status < 300 && apiErr.Code >= 10000 && apiErr.Code < 60000 {
		return apiErr.Code / 100
	}
	return apiErr.Status
}
