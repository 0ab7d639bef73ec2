// Copyright The otelcol-duo Authors
// SPDX-License-Identifier: Apache-2.0

package duoapi

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"go.uber.org/zap"
)

// Page sizes (API.md 1.6, 3, pitfall 15).
const (
	// cursorPageLimit is the largest limit the v2 log endpoints take (API.md 3.1, 3.3, 3.4).
	cursorPageLimit = 1000
	// trustMonitorPageLimit is the largest limit Trust Monitor takes (API.md 3.6).
	trustMonitorPageLimit = 500
	// v1PageSize is how many rows a v1 log endpoint returns at most, the earliest at or after
	// mintime (API.md 3.2, 4.2); it takes no limit parameter.
	v1PageSize = 1000
)

// paths of the log endpoints (API.md 3).
var paths = map[LogType]string{
	Authentication:    "/admin/v2/logs/authentication",
	Administrator:     "/admin/v1/logs/administrator",
	Telephony:         "/admin/v2/logs/telephony",
	Activity:          "/admin/v2/logs/activity",
	OfflineEnrollment: "/admin/v1/logs/offline_enrollment",
	TrustMonitor:      "/admin/v1/trust_monitor/events",
}

// Path returns the request path of log type lt, or "" for an unknown one.
func Path(lt LogType) string { return paths[lt] }

// Fetch reads one window of one log stream, page by page, calling fn once per page in
// order. It always calls fn at least once for a window it completes; the last call has
// page.Next == nil (possibly zero records; End <= Start gives one empty page and no
// request). If fn returns an error Fetch stops and returns it (errors.Is works). Memory:
// one page. Records of a page alias that page's response body.
//
// A window starting more than 180 days before Duo's clock gives ErrWindowTooOld without a
// request.
func (c *Client) Fetch(ctx context.Context, lt LogType, w Window, fn func(Page) error) error {
	path, ok := paths[lt]
	if !ok {
		return fmt.Errorf("duo api: unknown log type %q", string(lt))
	}
	if fn == nil {
		return errors.New("duo api: nil page callback")
	}
	if w.End.UnixMilli() <= w.Start.UnixMilli() {
		return fn(Page{})
	}
	if oldest := c.duoNow().Add(-retention); w.Start.Before(oldest) {
		return fmt.Errorf("%w: %s starts at %s, Duo keeps logs from %s on",
			ErrWindowTooOld, lt, w.Start.UTC().Format(time.RFC3339), oldest.UTC().Format(time.RFC3339))
	}
	if lt.V1() {
		return c.fetchV1(ctx, lt, path, w, fn)
	}
	return c.fetchCursor(ctx, lt, path, w, fn)
}

// fetchCursor pages a v2 log endpoint or Trust Monitor (API.md 4.1, 4.3): mintime and
// maxtime in ms stay fixed while the cursor from metadata.next_offset is sent back
// (next_offset on v2, offset on Trust Monitor) until none comes.
func (c *Client) fetchCursor(ctx context.Context, lt LogType, path string, w Window, fn func(Page) error) error {
	offsetParam, limit := "next_offset", cursorPageLimit
	if lt == TrustMonitor {
		offsetParam, limit = "offset", trustMonitorPageLimit
	}
	var offset string
	if w.From != nil {
		offset = w.From.Offset
	}
	for {
		params := map[string][]string{
			"mintime": {strconv.FormatInt(w.Start.UnixMilli(), 10)},
			"maxtime": {strconv.FormatInt(w.End.UnixMilli(), 10)},
			"limit":   {strconv.Itoa(limit)},
		}
		if lt != TrustMonitor {
			// The default order is descending (pitfall 6); cursor paging needs ascending.
			params["sort"] = []string{"ts:asc"}
		}
		if offset != "" {
			params[offsetParam] = []string{offset}
		}
		pd, err := c.getPage(ctx, lt, path, params)
		if err != nil {
			return err
		}
		if pd.next == "" {
			return fn(Page{Records: pd.records})
		}
		if pd.next == offset {
			return fmt.Errorf("%w: GET %s returned next_offset %q again", errNoProgress, path, offset)
		}
		if err := fn(Page{Records: pd.records, Next: &Position{Offset: pd.next}}); err != nil {
			return err
		}
		offset = pd.next
	}
}

// fetchV1 pages a v1 log endpoint (API.md 4.2). Each answer holds the earliest 1000 rows at
// or after mintime (seconds). The next mintime is the newest timestamp of the page, never
// +1, so rows of that second past the cut are not lost; the rows of that second already
// handed out are dropped from the re-query by id. A full page all in one second cannot be
// paged: the client steps one second on, warns and reports it. The endpoint takes no
// maxtime, so rows newer than w.End are held back and end the window.
func (c *Client) fetchV1(ctx context.Context, lt LogType, path string, w Window, fn func(Page) error) error {
	minTime := w.Start.Unix()
	var seen map[string]struct{}
	if w.From != nil && w.From.MinTime != 0 {
		minTime = w.From.MinTime
		seen = idSet(w.From.Seen)
	}
	endSec := w.End.Unix()
	for {
		if minTime > endSec {
			return fn(Page{})
		}
		pd, err := c.getPage(ctx, lt, path, map[string][]string{"mintime": {strconv.FormatInt(minTime, 10)}})
		if err != nil {
			return err
		}
		out := make([]Record, 0, len(pd.records))
		heldBack, inWindow := false, 0
		maxSec, minSec := minTime, int64(0)
		for _, r := range pd.records {
			sec := minTime // a row without a time stays in the boundary second
			if !r.Time.IsZero() {
				if r.Time.After(w.End) {
					heldBack = true
					continue
				}
				sec = r.Time.Unix()
			}
			if inWindow == 0 || sec < minSec {
				minSec = sec
			}
			if inWindow == 0 || sec > maxSec {
				maxSec = sec
			}
			inWindow++
			if _, dup := seen[r.ID]; dup && sec == minTime {
				continue // a boundary repeat, handed out by the previous page
			}
			if !r.Time.IsZero() && r.Time.Before(w.Start) {
				continue
			}
			out = append(out, r)
		}
		full := len(pd.records)+pd.skipped >= v1PageSize
		if !full || heldBack || inWindow == 0 {
			return fn(Page{Records: out})
		}
		if maxSec < minTime {
			return fmt.Errorf("%w: GET %s?mintime=%d returned only older rows", errNoProgress, path, minTime)
		}
		var next Position
		if minSec == maxSec || maxSec <= minTime {
			// All 1000 rows in one second: re-querying it would return the same rows forever.
			// (maxSec < minTime only if Duo broke its own order; stepping still progresses.)
			second := max(maxSec, minTime)
			next.MinTime = second + 1
			c.logger.Warn("v1 log page of 1000 rows is all in one second, stepping over it; later events of that second are not readable",
				zap.String("log_type", string(lt)), zap.Int64("second", second), zap.Int("page_size", len(pd.records)))
			if c.observer != nil {
				c.observer.SkippedSecond(lt, second)
			}
		} else {
			next.MinTime = maxSec
			for _, r := range pd.records {
				if !r.Time.IsZero() && r.Time.Unix() == maxSec {
					next.Seen = append(next.Seen, r.ID)
				}
			}
		}
		if next.MinTime > endSec {
			return fn(Page{Records: out})
		}
		if err := fn(Page{Records: out, Next: &next}); err != nil {
			return err
		}
		minTime, seen = next.MinTime, idSet(next.Seen)
	}
}

func idSet(ids []string) map[string]struct{} {
	if len(ids) == 0 {
		return nil
	}
	m := make(map[string]struct{}, len(ids))
	for _, id := range ids {
		m[id] = struct{}{}
	}
	return m
}

// getPage requests and decodes one log page.
func (c *Client) getPage(ctx context.Context, lt LogType, path string, params map[string][]string) (pageData, error) {
	var pd pageData
	err := c.get(ctx, call{lt: lt, path: path, params: params, decode: func(body []byte) error {
		var err error
		pd, err = decodePage(lt, path, body)
		return err
	}})
	if err != nil {
		return pageData{}, err
	}
	if pd.skipped > 0 {
		c.logger.Warn("duo log page held elements that are not objects, skipped them",
			zap.String("log_type", string(lt)), zap.Int("skipped", pd.skipped))
		if c.observer != nil {
			c.observer.SkippedRecords(lt, pd.skipped)
		}
	}
	return pd, nil
}
