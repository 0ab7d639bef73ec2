// Copyright The otelcol-duo Authors
// SPDX-License-Identifier: Apache-2.0

package duoreceiver

import (
	"errors"
	"fmt"
	"net/http"
	"sync"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componentstatus"

	"github.com/otelcol-duo/otelcol-duo/receiver/duoreceiver/internal/duoapi"
)

// startupCheck is the health source of the account check run at Start.
const startupCheck duoapi.LogType = ""

// health turns the receiver's outcomes into component status events: a recoverable error
// when a pull (or the start-up check) fails, back to OK once every failing source is fine.
type health struct {
	host    component.Host
	mu      sync.Mutex
	failing map[duoapi.LogType]bool
}

func newHealth(host component.Host) *health {
	return &health{host: host, failing: map[duoapi.LogType]bool{}}
}

func (h *health) failed(src duoapi.LogType, err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.failing[src] = true
	componentstatus.ReportStatus(h.host, componentstatus.NewRecoverableErrorEvent(err))
}

// succeeded records a successful pull of lt. Duo answering a pull also clears a failed
// start-up check: the credentials work.
func (h *health) succeeded(lt duoapi.LogType) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.failing[lt] && !h.failing[startupCheck] {
		return
	}
	delete(h.failing, lt)
	delete(h.failing, startupCheck)
	if len(h.failing) == 0 {
		componentstatus.ReportStatus(h.host, componentstatus.NewEvent(componentstatus.StatusOK))
	}
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
