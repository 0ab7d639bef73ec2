// Copyright The otelcol-duo Authors
// SPDX-License-Identifier: Apache-2.0

package duoreceiver

import (
	"context"
	"sync"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/receiver"
)

// The collector creates a receiver once per pipeline signal it sits in. One duo receiver
// in a logs and a metrics pipeline must still be one reader of Duo: one client, one set
// of request budgets, one account check. The collector's and contrib's sharedcomponent
// packages that do this are internal to their modules, so here is the same small map:
// keyed by the configuration pointer, which the collector hands to every signal's create
// call of one receiver id.

// receivers holds the receivers created and not yet shut down.
var receivers = &sharedReceivers{m: map[*Config]*sharedReceiver{}}

type sharedReceivers struct {
	mu sync.Mutex
	m  map[*Config]*sharedReceiver
}

// sharedReceiver is what each create call returns: Start and Shutdown run once, whatever
// the number of pipelines. Shutdown removes the entry, so a later create (a reload)
// starts afresh.
type sharedReceiver struct {
	r     *duoLogsReceiver
	owner *sharedReceivers
	key   *Config

	startOnce sync.Once
	startErr  error
	stopOnce  sync.Once
	stopErr   error
}

var (
	_ receiver.Logs    = (*sharedReceiver)(nil)
	_ receiver.Metrics = (*sharedReceiver)(nil)
)

// get returns cfg's receiver, creating it on the first call, and lets attach connect the
// calling signal's consumer. Attaching happens before Start: the collector creates every
// component before it starts any.
func (s *sharedReceivers) get(set receiver.Settings, cfg *Config, attach func(*duoLogsReceiver)) (*sharedReceiver, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sr, ok := s.m[cfg]
	if !ok {
		r, err := newDuoLogsReceiver(set, cfg, nil)
		if err != nil {
			return nil, err
		}
		sr = &sharedReceiver{r: r, owner: s, key: cfg}
		s.m[cfg] = sr
	}
	attach(sr.r)
	return sr, nil
}

func (s *sharedReceivers) remove(cfg *Config, sr *sharedReceiver) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m[cfg] == sr {
		delete(s.m, cfg)
	}
}

// Start starts the receiver on the first call; later calls return the first one's error.
func (sr *sharedReceiver) Start(ctx context.Context, host component.Host) error {
	sr.startOnce.Do(func() {
		sr.startErr = sr.r.Start(ctx, host)
	})
	return sr.startErr
}

// Shutdown stops the receiver on the first call and forgets it.
func (sr *sharedReceiver) Shutdown(ctx context.Context) error {
	sr.stopOnce.Do(func() {
		sr.stopErr = sr.r.Shutdown(ctx)
		sr.owner.remove(sr.key, sr)
	})
	return sr.stopErr
}
