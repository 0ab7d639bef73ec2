// Copyright The otelcol-duo Authors
// SPDX-License-Identifier: Apache-2.0

package duoapi

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSharedLimitSpacesRequests(t *testing.T) {
	l := NewSharedLimit(6000) // one every 10 ms
	start := time.Now()
	l.now = func() time.Time { return start }
	var waits []time.Duration
	for range 4 {
		w, err := l.wait(t.Context())
		require.NoError(t, err)
		waits = append(waits, w)
	}
	assert.Equal(t, []time.Duration{0, 10 * time.Millisecond, 20 * time.Millisecond, 30 * time.Millisecond}, waits)

	l.now = func() time.Time { return start.Add(time.Second) }
	w, err := l.wait(t.Context())
	require.NoError(t, err)
	assert.Zero(t, w, "an idle spell leaves no debt and gives no burst")
	w, _ = l.wait(t.Context())
	assert.Equal(t, 10*time.Millisecond, w)
}

func TestSharedLimitNilAndCancel(t *testing.T) {
	assert.Nil(t, NewSharedLimit(0))
	var none *SharedLimit
	w, err := none.wait(t.Context())
	require.NoError(t, err)
	assert.Zero(t, w)

	l := NewSharedLimit(1) // one a minute
	_, err = l.wait(t.Context())
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err = l.wait(ctx)
	assert.ErrorIs(t, err, context.Canceled)
}
