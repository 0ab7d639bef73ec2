// Copyright The otelcol-duo Authors
// SPDX-License-Identifier: Apache-2.0

package duoapi

import (
	"time"

	"github.com/otelcol-duo/otelcol-duo/receiver/duoreceiver/internal/jsondoc"
)

// Record is one log record as Duo sent it.
type Record struct {
	// Raw is the record's JSON object exactly as it appeared in Duo's response: a
	// substring of the page's text, which all records of the page and the strings mapped
	// from them share.
	Raw string
	// Value is the same record in the page's one tokenizer pass, from which mapping
	// builds; the zero Value for a record that did not come from the client. Fetch and
	// List reuse it for the next page once the page callback has returned: it must not
	// be kept past that (Raw, ID and Time may).
	Value jsondoc.Value
	// Time is the event's own time at the finest precision Duo gives (isotimestamp or ts
	// keep microseconds; Trust Monitor's surfaced_timestamp is in milliseconds), in UTC.
	// It is zero when the record carries no time the client can read (docs/duo-api.md §6.12);
	// mapping.Append then stamps the record with its observed time.
	Time time.Time
	// ID identifies the event across requests: txid (authentication), telephony_id,
	// activity_id, sekey (Trust Monitor); for the v1 endpoints, which carry no id, a hash of
	// the record's content plus its occurrence number among identical records in the
	// same second, so true twins stay separate events.
	ID string
}

// Window is the span one pull reads. Both bounds are inclusive.
type Window struct {
	Start time.Time
	// End is sent as maxtime on the v2 and Trust Monitor endpoints. The v1 endpoints take no
	// maxtime: the client holds back (does not return) records newer than End.
	End time.Time
	// From resumes a window part-way, from the Next of a page handed out earlier. Nil
	// starts at Start.
	From *Position
}

// Position is a place inside a window, safe to persist as JSON and hand back in
// Window.From after a restart (with the same Start and End).
type Position struct {
	// Offset is the v2 next_offset, or Trust Monitor's offset, as the client sends it back.
	Offset string `json:"offset,omitempty"`
	// MinTime is the second a v1 endpoint is re-queried from (the last page's newest
	// timestamp, never +1).
	MinTime int64 `json:"mintime,omitempty"`
	// Seen holds the ids of records at MinTime already handed out, so that the
	// re-query's boundary repeats are dropped.
	Seen []string `json:"seen,omitempty"`
}

// Page is one response's worth of records.
type Page struct {
	Records []Record
	// Next is where the window continues after this page; nil when this page ended it.
	Next *Position
}
