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

// Fetch reads one window of one log stream, page by page, calling fn once per page in
// order. It always calls fn at least once for a window it completes; the last call has
// page.Next == nil (possibly zero records; End <= Start gives one empty page and no
// request). If fn returns an error Fetch stops and returns it (errors.Is works). Memory:
// one page. Records of a page share that page's text (Record.Raw).
//
// A window starting more than 180 days before Duo's clock gives ErrWindowTooOld without a
// request.
func (c *Client) Fetch(ctx context.Context, lt LogType, w Window, fn func(Page) error) error {
	ep := endpointOf(lt)
	if ep == nil {
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
	switch ep.Paging {
	case PagingMinTime:
		return c.fetchV1(ctx, ep, w, fn)
	case PagingNextOffset, PagingOffset:
		return c.fetchCursor(ctx, ep, w, fn)
	}
	return fmt.Errorf("duo api: %s is not a log stream", string(lt))
}

// fetchCursor pages a v2 log endpoint or Trust Monitor (docs/duo-api.md §4.1, §4.3): mintime and
// maxtime in ms stay fixed while the cursor from metadata.next_offset is sent back
// (next_offset on v2, offset on Trust Monitor) until none comes.
func (c *Client) fetchCursor(ctx context.Context, ep *Endpoint, w Window, fn func(Page) error) error {
	var offset string
	if w.From != nil {
		offset = w.From.Offset
	}
	return c.followOffsets(ctx, ep, offset, func(offset string) map[string][]string {
		params := map[string][]string{
			"mintime": {strconv.FormatInt(unixIn(w.Start, ep.Unit), 10)},
			"maxtime": {strconv.FormatInt(unixIn(w.End, ep.Unit), 10)},
			"limit":   {strconv.Itoa(ep.Limit)},
		}
		if ep.Sort != "" {
			params["sort"] = []string{ep.Sort}
		}
		if offset != "" {
			params[ep.Paging.offsetParam()] = []string{offset}
		}
		return params
	}, fn)
}

// followOffsets requests pages of ep from offset on, sending back each page's
// next_offset (params builds a request's parameters from the offset to send) until a page
// has none, calling fn once per page in order; the last call has page.Next == nil. A
// next_offset equal to the one just sent is errNoProgress: following it would loop.
func (c *Client) followOffsets(ctx context.Context, ep *Endpoint, offset string, params func(offset string) map[string][]string, fn func(Page) error) error {
	for {
		pd, err := c.getPage(ctx, ep, params(offset))
		if err != nil {
			return err
		}
		if pd.next == "" {
			return deliver(fn, Page{Records: pd.records}, pd)
		}
		if pd.next == offset {
			return fmt.Errorf("%w: GET %s returned next_offset %q again", errNoProgress, ep.Path, offset)
		}
		if err := deliver(fn, Page{Records: pd.records, Next: &Position{Offset: pd.next}}, pd); err != nil {
			return err
		}
		offset = pd.next
	}
}

// fetchV1 pages a v1 log endpoint (docs/duo-api.md §4.2). Each answer holds the earliest 1000 rows at
// or after mintime (seconds). The next mintime is the newest timestamp of the page, never
// +1, so rows of that second past the cut are not lost; the rows of that second already
// handed out are dropped from the re-query by id. A full page all in one second cannot be
// paged: the client steps one second on, warns and reports it. The endpoint takes no
// maxtime, so rows newer than w.End are held back and end the window.
func (c *Client) fetchV1(ctx context.Context, ep *Endpoint, w Window, fn func(Page) error) error {
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
		pd, err := c.getPage(ctx, ep, map[string][]string{"mintime": {strconv.FormatInt(minTime, 10)}})
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
		full := len(pd.records)+pd.skipped >= ep.Limit
		if !full || heldBack || inWindow == 0 {
			return deliver(fn, Page{Records: out}, pd)
		}
		if maxSec < minTime {
			return fmt.Errorf("%w: GET %s?mintime=%d returned only older rows", errNoProgress, ep.Path, minTime)
		}
		var next Position
		if minSec == maxSec || maxSec <= minTime {
			// All 1000 rows in one second: re-querying it would return the same rows forever.
			// (maxSec < minTime only if Duo broke its own order; stepping still progresses.)
			second := max(maxSec, minTime)
			next.MinTime = second + 1
			c.logger.Warn("v1 log page of 1000 rows is all in one second, stepping over it; later events of that second are not readable",
				zap.String("log_type", string(ep.Type)), zap.Int64("second", second), zap.Int("page_size", len(pd.records)))
			if c.observer != nil {
				c.observer.SkippedSecond(ep.Type, second)
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
			return deliver(fn, Page{Records: out}, pd)
		}
		if err := deliver(fn, Page{Records: out, Next: &next}, pd); err != nil {
			return err
		}
		minTime, seen = next.MinTime, idSet(next.Seen)
	}
}

// deliver hands page, made from the records of pd, to fn. Once fn has returned, the
// page's tokenizer values (Record.Value) are released for the next page to reuse.
func deliver(fn func(Page) error, page Page, pd pageData) error {
	defer pd.doc.Release()
	return fn(page)
}

// unixIn is t as a Unix time in unit (time.Second or time.Millisecond).
func unixIn(t time.Time, unit time.Duration) int64 {
	if unit == time.Second {
		return t.Unix()
	}
	return t.UnixMilli()
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

// fetchList reads an object list (PagingList) from its start, page by page, calling fn
// once per page in order; the last call has page.Next == nil.
func (c *Client) fetchList(ctx context.Context, ep *Endpoint, fn func(Page) error) error {
	return c.followOffsets(ctx, ep, "0", func(offset string) map[string][]string {
		return map[string][]string{
			"offset": {offset},
			"limit":  {strconv.Itoa(ep.Limit)},
		}
	}, fn)
}

// getPage requests and decodes one page of ep.
func (c *Client) getPage(ctx context.Context, ep *Endpoint, params map[string][]string) (pageData, error) {
	var pd pageData
	lt := ep.key()
	for k, vs := range c.params[lt] {
		params[k] = vs
	}
	err := c.get(ctx, call{lt: lt, path: ep.Path, params: params, decode: func(body []byte) error {
		var err error
		pd, err = decodePage(ep, body)
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
