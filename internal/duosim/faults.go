// Copyright The otelcol-duo Authors
// SPDX-License-Identifier: Apache-2.0

package duosim

import (
	"context"
	"net/http"
	"time"
)

// bucket is one endpoint's token bucket for Faults.RateLimit. Duo limits
// each log endpoint separately and answers 429 42901 without Retry-After
// (docs/duo-api.md §1.6).
type bucket struct {
	tokens float64
	last   time.Time
}

func tooMany() *response {
	return errorResponse(http.StatusTooManyRequests, 42901, "Too Many Requests", "")
}

// injectFault decides, for an authenticated request, whether it is rate
// limited or fails.
func (s *Sim) injectFault(path string, now time.Time) *response {
	s.faultMu.Lock()
	defer s.faultMu.Unlock()
	f := s.faults
	if f.RateLimit > 0 {
		burst := 1.0
		if f.RateLimit >= 2 {
			burst = 2
		}
		b := s.buckets[path]
		if b == nil {
			b = &bucket{tokens: burst, last: now}
			s.buckets[path] = b
		}
		if el := now.Sub(b.last); el > 0 {
			b.tokens = min(burst, b.tokens+el.Minutes()*f.RateLimit)
			b.last = now
		}
		if b.tokens < 1 {
			return tooMany()
		}
		b.tokens--
	}
	if f.P429 > 0 && s.frng.chance(f.P429) {
		return tooMany()
	}
	if f.P5xx > 0 && s.frng.chance(f.P5xx) {
		switch s.frng.intn(3) {
		case 0:
			return errorResponse(http.StatusInternalServerError, 50000, "Internal server error", "")
		case 1:
			// A proxy's page, not JSON (docs/duo-api.md §1.4).
			return &response{status: http.StatusBadGateway, ctype: "text/html",
				body: []byte("<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1></body></html>\n")}
		default:
			return &response{status: http.StatusServiceUnavailable, ctype: "text/plain", body: []byte("Service Unavailable\n")}
		}
	}
	return nil
}

// slow holds the response back by Faults.Slow with probability PSlow. It
// returns false when ctx ended first.
func (s *Sim) slow(ctx context.Context) bool {
	s.faultMu.Lock()
	d := time.Duration(0)
	if s.faults.PSlow > 0 && s.faults.Slow > 0 && s.frng.chance(s.faults.PSlow) {
		d = s.faults.Slow
	}
	s.faultMu.Unlock()
	if d == 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// truncation decides whether a body of n bytes is cut, and where.
func (s *Sim) truncation(n int) (int, bool) {
	s.faultMu.Lock()
	defer s.faultMu.Unlock()
	if n < 2 || s.faults.PTruncate <= 0 || !s.frng.chance(s.faults.PTruncate) {
		return n, false
	}
	return 1 + s.frng.intn(n-1), true
}
