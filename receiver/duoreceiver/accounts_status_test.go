// Copyright The otelcol-duo Authors
// SPDX-License-Identifier: Apache-2.0

package duoreceiver

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componentstatus"

	"github.com/otelcol-duo/otelcol-duo/receiver/duoreceiver/internal/duoapi"
)

// With children, the status is degraded while any child fails and names the failing ones;
// it is OK again once the last recovers or stops being read.
func TestHealthChildren(t *testing.T) {
	host := &statusHost{}
	h := newHealth(host)
	a, b := h.forAccount("DA1 (Acme)"), h.forAccount("DA2 (Bolt)")
	errX := errors.New("boom")

	a.failed(duoapi.Authentication, errX)
	b.failed(duoapi.Telephony, errX)
	a.succeeded(duoapi.Authentication) // b still fails
	b.forget()                         // b is no longer read

	evs := host.statuses()
	require.Len(t, evs, 4)
	assert.Equal(t, componentstatus.StatusRecoverableError, evs[0].Status())
	assert.ErrorContains(t, evs[0].Err(), "child accounts failing: DA1 (Acme); DA1 (Acme): boom")
	assert.ErrorContains(t, evs[1].Err(), "child accounts failing: DA1 (Acme), DA2 (Bolt); DA2 (Bolt): boom")
	assert.Equal(t, componentstatus.StatusRecoverableError, evs[2].Status(), "one child recovered, the other still fails")
	assert.ErrorContains(t, evs[2].Err(), "child accounts failing: DA2 (Bolt); DA2 (Bolt): boom")
	assert.Equal(t, componentstatus.StatusOK, evs[3].Status())
	assert.ErrorIs(t, evs[0].Err(), errX)
}
