// Copyright The otelcol-duo Authors
// SPDX-License-Identifier: Apache-2.0

package duoapi

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"go.opentelemetry.io/collector/config/configretry"
)

func TestBackoff(t *testing.T) {
	tests := []struct {
		name string
		cfg  configretry.BackOffConfig
		// elapsed is the time since the first attempt before each call to next.
		elapsed []time.Duration
		want    []time.Duration
		wantOK  []bool
	}{
		{
			name:    "configretry defaults without jitter",
			cfg:     configretry.BackOffConfig{InitialInterval: 5 * time.Second, MaxInterval: 30 * time.Second, Multiplier: 1.5, MaxElapsedTime: 5 * time.Minute},
			elapsed: []time.Duration{0, 0, 0, 0, 0, 0},
			want:    []time.Duration{5 * time.Second, 7500 * time.Millisecond, 11250 * time.Millisecond, 16875 * time.Millisecond, 25312500 * time.Microsecond, 30 * time.Second},
			wantOK:  []bool{true, true, true, true, true, true},
		},
		{
			name:    "no cap when max_interval is 0",
			cfg:     configretry.BackOffConfig{InitialInterval: time.Minute, Multiplier: 2},
			elapsed: []time.Duration{0, 0, 0},
			want:    []time.Duration{time.Minute, 2 * time.Minute, 4 * time.Minute},
			wantOK:  []bool{true, true, true},
		},
		{
			name:    "a multiplier below 1 does not shrink the waits",
			cfg:     configretry.BackOffConfig{InitialInterval: time.Second, MaxInterval: time.Minute},
			elapsed: []time.Duration{0, 0},
			want:    []time.Duration{time.Second, time.Second},
			wantOK:  []bool{true, true},
		},
		{
			name:    "gives up when the next wait passes max_elapsed_time",
			cfg:     configretry.BackOffConfig{InitialInterval: 10 * time.Second, MaxInterval: 10 * time.Second, Multiplier: 1, MaxElapsedTime: 30 * time.Second},
			elapsed: []time.Duration{0, 20 * time.Second, 21 * time.Second},
			want:    []time.Duration{10 * time.Second, 10 * time.Second, 10 * time.Second},
			wantOK:  []bool{true, true, false},
		},
		{
			name:    "no limit when max_elapsed_time is 0",
			cfg:     configretry.BackOffConfig{InitialInterval: time.Second, MaxInterval: time.Second, Multiplier: 1},
			elapsed: []time.Duration{24 * time.Hour},
			want:    []time.Duration{time.Second},
			wantOK:  []bool{true},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
			b := newBackoff(tt.cfg)
			b.start = start
			for i, e := range tt.elapsed {
				b.now = func() time.Time { return start.Add(e) }
				got, ok := b.next()
				assert.Equal(t, tt.want[i], got, "wait %d", i)
				assert.Equal(t, tt.wantOK[i], ok, "wait %d", i)
			}
		})
	}
}

func TestBackoffJitter(t *testing.T) {
	b := newBackoff(configretry.NewDefaultBackOffConfig())
	for range 200 {
		b.interval = 10 * time.Second
		got, _ := b.next()
		assert.GreaterOrEqual(t, got, 5*time.Second)
		assert.LessOrEqual(t, got, 15*time.Second)
	}
}
