// Copyright The otelcol-duo Authors
// SPDX-License-Identifier: Apache-2.0

package duoreceiver

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
)

// The pull_interval and inventory.interval warnings are about Duo's hosts: a loopback endpoint is a simulator, which
// asks for no such restraint, so a demo polling it every few seconds starts quietly.
func TestConfigIntervalWarningOnlyForDuo(t *testing.T) {
	const (
		msg    = "pull_interval is under a minute; Duo asks for log requests no more than once a minute"
		invMsg = "inventory.interval is under 5 minutes; each snapshot pages through every user and code"
	)
	tests := []struct {
		name     string
		endpoint string
		want     int // warnings about pull_interval; inventory.interval warns once where it does
	}{
		{"duo's host", "", 2},
		{"proxy in front of duo", "https://proxy.example.com", 2},
		{"loopback simulator, IPv4", "http://127.0.0.1:8089", 0},
		{"loopback simulator, IPv6", "http://[::1]:8089", 0},
		{"loopback simulator, localhost over https", "https://localhost:8443", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := validConfig()
			cfg.Endpoint = tt.endpoint
			cfg.Logs.Authentication.PullInterval = 10 * time.Second
			cfg.Logs.Telephony.PullInterval = 30 * time.Second
			cfg.Inventory.Interval = time.Minute
			core, logs := observer.New(zapcore.WarnLevel)
			cfg.warn(zap.New(core))
			assert.Equal(t, tt.want, logs.FilterMessage(msg).Len())
			assert.Equal(t, min(tt.want, 1), logs.FilterMessage(invMsg).Len())
		})
	}
}
