// Copyright The otelcol-duo Authors
// SPDX-License-Identifier: Apache-2.0

package duoapi

import (
	"context"
	"sync"
	"time"
)

// SharedLimit caps the requests of several clients together: the child accounts of one
// parent, whose keys Duo may limit as a whole (docs/duo-inventory.md §2: whether Duo limits
// each child or the parent's keys is not published). It spaces requests evenly, with no
// burst, and comes after each client's own budget per endpoint. Safe for concurrent use.
type SharedLimit struct {
	mu       sync.Mutex
	interval time.Duration
	next     time.Time // earliest start of the next request
	now      func() time.Time
}

// NewSharedLimit returns a cap of perMinute requests a minute; nil for perMinute <= 0.
func NewSharedLimit(perMinute float64) *SharedLimit {
	if perMinute <= 0 {
		return nil
	}
	return &SharedLimit{interval: time.Duration(float64(time.Minute) / perMinute), now: time.Now}
}

// wait takes the next slot and sleeps until it comes; it returns how long it waited. A
// slot given up by a cancelled wait is not handed back: the cap errs on the slow side.
func (l *SharedLimit) wait(ctx context.Context) (time.Duration, error) {
	if l == nil {
		return 0, nil
	}
	l.mu.Lock()
	now := l.now()
	slot := l.next
	if slot.Before(now) {
		slot = now
	}
	l.next = slot.Add(l.interval)
	l.mu.Unlock()
	d := slot.Sub(now)
	if d <= 0 {
		return 0, nil
	}
	return d, sleep(ctx, d)
}
