// Copyright The otelcol-duo Authors
// SPDX-License-Identifier: Apache-2.0

package duoapi

import "time"

// LogType names one of Duo's log streams. The value is also the receiver's config key.
type LogType string

// The log streams this client reads.
const (
	Authentication    LogType = "authentication"
	Administrator     LogType = "administrator"
	Telephony         LogType = "telephony"
	Activity          LogType = "activity"
	OfflineEnrollment LogType = "offline_enrollment"
	TrustMonitor      LogType = "trust_monitor"
)

// Paging is how an endpoint is walked from one page to the next.
type Paging int

const (
	// PagingNextOffset: the v2 log endpoints (docs/duo-api.md §4.1). mintime and maxtime
	// (ms) stay fixed while metadata.next_offset (a [ms, txid] pair or a string) is sent
	// back as next_offset until none comes.
	PagingNextOffset Paging = iota + 1
	// PagingMinTime: the v1 log endpoints (docs/duo-api.md §4.2). mintime in whole seconds,
	// no maxtime, no limit, no cursor: the next request starts at the newest second of the
	// page.
	PagingMinTime
	// PagingOffset: Trust Monitor (docs/duo-api.md §4.3). Like PagingNextOffset, but the
	// cursor is sent back as offset.
	PagingOffset
	// PagingList: Duo's object lists (/admin/v1/users and the like, docs/duo-api.md §3.8,
	// §4.4): offset and limit, no time bounds; metadata.next_offset is the next offset,
	// absent on the last page.
	PagingList
)

// offsetParam is the query parameter that carries the cursor back to Duo.
func (p Paging) offsetParam() string {
	if p == PagingNextOffset {
		return "next_offset"
	}
	return "offset"
}

// TimeField is a record member that gives the event's time.
type TimeField struct {
	Key string
	// Unit is time.Second or time.Millisecond for a Unix time (a number or a numeric
	// string, fraction kept); 0 for an ISO-8601 string.
	Unit time.Duration
}

// Endpoint is everything that differs between the endpoints the client reads.
type Endpoint struct {
	// Type is the log stream a log row reads; "" on an inventory row.
	Type LogType
	// Resource is the inventory resource an inventory row reads (inventory.go); "" on a
	// log row.
	Resource Resource
	Path     string
	Version  int // the Admin API version in Path
	// Unit is the unit of the mintime and maxtime parameters.
	Unit   time.Duration
	Paging Paging
	// Limit is the largest page: sent as limit where the endpoint takes one, else the
	// number of rows that makes a page full (docs/duo-api.md §1.6).
	Limit int
	// Sort is the sort parameter, "" to send none. The v2 default order is descending
	// (docs/duo-api.md §6 item 6); cursor paging needs ascending.
	Sort string
	// ListKey is the member of the response object that holds the records; "" when the
	// response is the array itself (docs/duo-api.md §1.3).
	ListKey string
	// IDKey is the member that identifies a record; "" for records without an id, whose
	// id is then a hash of their content (Record.ID).
	IDKey string
	// Times are the members that carry the event's time, the most precise first: the
	// first one present and readable counts (docs/duo-api.md §1.5).
	Times []TimeField
}

// iso is TimeField.Unit for an ISO-8601 string.
const iso = 0

// endpoints is the endpoint table (docs/duo-api.md §3), in LogTypes order.
var endpoints = []Endpoint{
	{
		Type: Authentication, Path: "/admin/v2/logs/authentication", Version: 2,
		Unit: time.Millisecond, Paging: PagingNextOffset, Limit: 1000, Sort: "ts:asc",
		ListKey: "authlogs", IDKey: "txid",
		// isotimestamp keeps microseconds; timestamp is whole seconds (docs/duo-api.md
		// §3.1).
		Times: []TimeField{{"isotimestamp", iso}, {"timestamp", time.Second}},
	},
	{
		Type: Administrator, Path: "/admin/v1/logs/administrator", Version: 1,
		Unit: time.Second, Paging: PagingMinTime, Limit: 1000,
		// timestamp is whole seconds, the unit the endpoint pages in (docs/duo-api.md
		// §3.2).
		Times: []TimeField{{"timestamp", time.Second}, {"isotimestamp", iso}},
	},
	{
		Type: Telephony, Path: "/admin/v2/logs/telephony", Version: 2,
		Unit: time.Millisecond, Paging: PagingNextOffset, Limit: 1000, Sort: "ts:asc",
		ListKey: "items", IDKey: "telephony_id",
		Times: []TimeField{{"ts", iso}},
	},
	{
		Type: Activity, Path: "/admin/v2/logs/activity", Version: 2,
		Unit: time.Millisecond, Paging: PagingNextOffset, Limit: 1000, Sort: "ts:asc",
		ListKey: "items", IDKey: "activity_id",
		Times: []TimeField{{"ts", iso}},
	},
	{
		Type: OfflineEnrollment, Path: "/admin/v1/logs/offline_enrollment", Version: 1,
		Unit: time.Second, Paging: PagingMinTime, Limit: 1000,
		Times: []TimeField{{"timestamp", time.Second}, {"isotimestamp", iso}},
	},
	{
		Type: TrustMonitor, Path: "/admin/v1/trust_monitor/events", Version: 1,
		Unit: time.Millisecond, Paging: PagingOffset, Limit: 500,
		ListKey: "events", IDKey: "sekey",
		Times: []TimeField{{"surfaced_timestamp", time.Millisecond}},
	},
}

// LogTypes lists every log stream in a fixed order.
var LogTypes = column(endpoints, func(e *Endpoint) LogType { return e.Type })

// endpointOf returns lt's row of the endpoint table, or nil for an unknown log type.
func endpointOf(lt LogType) *Endpoint {
	return rowWhere(endpoints, func(e *Endpoint) bool { return e.Type == lt })
}

// Endpoint returns lt's row of the endpoint table; ok is false for an unknown log type.
func (lt LogType) Endpoint() (ep Endpoint, ok bool) {
	if e := endpointOf(lt); e != nil {
		return *e, true
	}
	return Endpoint{}, false
}

// V1 reports whether lt is served by a v1 log endpoint (administrator, offline
// enrollment): mintime in whole seconds, no maxtime, no cursor, records without an id
// (docs/duo-api.md §1.5, §4.2).
func (lt LogType) V1() bool {
	e := endpointOf(lt)
	return e != nil && e.Paging == PagingMinTime
}

// Path returns the request path of log type lt, or "" for an unknown one.
func Path(lt LogType) string {
	if e := endpointOf(lt); e != nil {
		return e.Path
	}
	return ""
}
