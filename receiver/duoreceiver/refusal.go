// Copyright The otelcol-duo Authors
// SPDX-License-Identifier: Apache-2.0

package duoreceiver

import (
	"errors"
	"time"

	"go.uber.org/zap"

	"github.com/otelcol-duo/otelcol-duo/receiver/duoreceiver/internal/duoapi"
)

// refusalRetry is how long a log type a child account refused stays off before the
// child is asked again.
const refusalRetry = 24 * time.Hour

// isRefusal reports whether err is a child account refusing a log type: 404 40401 or
// 403 40301. Which log types Duo serves children is not documented; authentication is
// known to work, telephony, activity and Trust Monitor likely not (docs/duo-inventory.md §2).
func isRefusal(err error) bool {
	var apiErr *duoapi.APIError
	return errors.As(err, &apiErr) && (apiErr.Code == 40401 || apiErr.Code == 40301)
}

// refusal turns one log type of one child off after the child refused it, and on again
// once the child serves it. It warns once per refusal spell, however many daily retries
// are refused. Used by the poller's goroutine only.
type refusal struct {
	until  time.Time
	warned bool
}

// active reports whether the log type is off at now.
func (r *refusal) active(now time.Time) bool {
	return now.Before(r.until)
}

func (r *refusal) refused(now time.Time, logger *zap.Logger, err error) {
	r.until = now.Add(refusalRetry)
	if r.warned {
		logger.Debug("child account still refuses this log type", zap.Time("retry_at", r.until), zap.Error(err))
		return
	}
	r.warned = true
	logger.Warn("child account does not serve this log type (or is no longer a child of this parent: the child list is read again); "+
		"turned off for this account, asking again in a day; its other log types go on",
		zap.Time("retry_at", r.until), zap.Error(err))
}

// served clears a refusal: the child answered.
func (r *refusal) served(logger *zap.Logger) {
	if !r.warned {
		return
	}
	*r = refusal{}
	logger.Info("child account serves this log type again")
}
