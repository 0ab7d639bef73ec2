// Copyright The otelcol-duo Authors
// SPDX-License-Identifier: Apache-2.0

// Package duoapi is a client for the log endpoints of Duo's Admin API: request signing,
// paging, typed errors, retries and a per-endpoint adaptive request budget. It knows
// nothing of pdata or of the collector; the receiver ties it to the pipeline.
package duoapi // import "github.com/otelcol-duo/otelcol-duo/receiver/duoreceiver/internal/duoapi"

import (
	"time"
)

// LogType names one of Duo's log streams. The value is also the receiver's config key.
type LogType string

// The log streams this client reads.
const (
	Authentication    LogType = "authentication"     // GET /admin/v2/logs/authentication
	Administrator     LogType = "administrator"      // GET /admin/v1/logs/administrator
	Telephony         LogType = "telephony"          // GET /admin/v2/logs/telephony
	Activity          LogType = "activity"           // GET /admin/v2/logs/activity
	OfflineEnrollment LogType = "offline_enrollment" // GET /admin/v1/logs/offline_enrollment
	TrustMonitor      LogType = "trust_monitor"      // GET /admin/v1/trust_monitor/events
)

// V1 reports whether lt is served by a v1 endpoint (administrator, offline enrollment):
// mintime in whole seconds, no maxtime, no cursor, records without an id (API.md 1.5, 4.2).
func (lt LogType) V1() bool { return lt == Administrator || lt == OfflineEnrollment }

// LogTypes lists every log stream in a fixed order.
var LogTypes = []LogType{Authentication, Administrator, Telephony, Activity, OfflineEnrollment, TrustMonitor}

// Record is one log record as Duo sent it.
type Record struct {
	// Raw is the record's JSON object exactly as it appeared in Duo's response. It is a
	// slice of that response's body (one buffer per page, never reused by the client).
	Raw []byte
	// Time is the event's own time at the finest precision Duo gives (isotimestamp or ts
	// keep microseconds; Trust Monitor's surfaced_timestamp is in milliseconds), in UTC.
	// It is zero when the record carries no time the client can read (API.md 6.12); the
	// receiver then falls back to the observed time.
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
