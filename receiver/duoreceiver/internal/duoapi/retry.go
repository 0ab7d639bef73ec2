// Copyright The otelcol-duo Authors
// SPDX-License-Identifier: Apache-2.0

package duoapi

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"time"

	"go.opentelemetry.io/collector/config/configretry"
	"go.uber.org/zap"
)

// get runs c with a fresh Date and signature per attempt, within the endpoint's budget,
// retrying as c.retry says; a 40105 (bad timestamp) is retried once at once, with
// the clock offset learned from that answer.
func (c *Client) get(ctx context.Context, cl call) error {
	if c.account != "" {
		cl.params["account_id"] = []string{c.account}
	}
	query := canonParams(cl.params)
	bo := newBackoff(c.retry)
	skewRetried := false
	for attempt := 1; ; attempt++ {
		wait, err := c.budgets[cl.lt].wait(ctx)
		c.reportWait(cl.lt, wait)
		if err != nil {
			return err
		}
		wait, err = c.shared.wait(ctx)
		c.reportWait(cl.lt, wait)
		if err != nil {
			return err
		}
		status, err := c.attempt(ctx, cl, query)
		if c.observer != nil {
			c.observer.Request(cl.lt, status, err)
		}
		if err == nil {
			if b := c.budgets[cl.lt]; b != nil {
				b.accepted(b.now())
			}
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		var apiErr *APIError
		isAPI := errors.As(err, &apiErr)
		if isAPI && apiErr.Code == 40105 && !skewRetried {
			skewRetried = true
			c.logger.Warn("duo rejected the request date, retrying with the learned clock offset",
				zap.String("path", cl.path), zap.Duration("offset", c.ClockOffset()))
			continue
		}
		limited := isAPI && apiErr.effectiveStatus() == http.StatusTooManyRequests
		if limited {
			msg := "rate limited by duo, slowing down"
			fields := []zap.Field{zap.String("path", cl.path)}
			if b := c.budgets[cl.lt]; b != nil {
				if !b.limited(b.now()) {
					msg = "rate limited by duo, retrying at the same rate"
				}
				fields = append(fields, zap.Float64("budget_per_minute", b.perMinute()))
			}
			c.logger.Warn(msg, fields...)
		}
		if !c.retry.Enabled || !IsRetryable(err) {
			return err
		}
		backoff, ok := bo.next()
		if !ok {
			return fmt.Errorf("giving up after %d attempts: %w", attempt, err)
		}
		if limited && c.budgets[cl.lt] != nil {
			// The budget paces the retry of a 429 (its bucket is empty now): a backoff on
			// top would hide from it the rate at which Duo answered.
			backoff = 0
		}
		c.logger.Debug("retrying duo request", zap.String("path", cl.path), zap.Int("attempt", attempt),
			zap.Int("status", status), zap.Duration("wait", backoff), zap.Error(err))
		if err := sleep(ctx, backoff); err != nil {
			return err
		}
		if limited {
			c.reportWait(cl.lt, backoff)
		}
	}
}

func (c *Client) reportWait(lt LogType, wait time.Duration) {
	if wait > 0 && c.observer != nil {
		c.observer.RateLimitWait(lt, wait)
	}
}

func jitter(d time.Duration, factor float64) time.Duration {
	if factor <= 0 {
		return d
	}
	delta := factor * float64(d)
	return time.Duration(float64(d) - delta + rand.Float64()*2*delta) //nolint:gosec // jitter, not security
}

// backoff spaces the attempts of one request as a configretry.BackOffConfig says, taken as
// configured: waits start at InitialInterval and grow by Multiplier (below 1: they do not
// grow), each capped at MaxInterval (0: no cap) and spread by RandomizationFactor; the
// request gives up once the next wait would pass MaxElapsedTime (0: until the context ends).
type backoff struct {
	cfg      configretry.BackOffConfig
	start    time.Time
	interval time.Duration
	now      func() time.Time
}

func newBackoff(cfg configretry.BackOffConfig) *backoff {
	return &backoff{cfg: cfg, start: time.Now(), interval: cfg.InitialInterval, now: time.Now}
}

// next returns the wait before the next attempt, and false when the request must give up.
func (b *backoff) next() (time.Duration, bool) {
	wait := jitter(b.capped(b.interval), b.cfg.RandomizationFactor)
	b.interval = b.capped(time.Duration(float64(b.interval) * max(b.cfg.Multiplier, 1)))
	if b.cfg.MaxElapsedTime > 0 && b.now().Sub(b.start)+wait > b.cfg.MaxElapsedTime {
		return wait, false
	}
	return wait, true
}

func (b *backoff) capped(d time.Duration) time.Duration {
	if b.cfg.MaxInterval > 0 {
		return min(d, b.cfg.MaxInterval)
	}
	return d
}
