// Copyright The otelcol-duo Authors
// SPDX-License-Identifier: Apache-2.0

package duoapi

import (
	"fmt"
	"strings"

	"github.com/otelcol-duo/otelcol-duo/receiver/duoreceiver/internal/jsondoc"
)

// Decoding is lenient (docs/duo-api.md §6 items 12, 13): Duo adds fields and changes their
// types, so a page is never decoded into maps or structs. One tokenizer pass (jsondoc)
// reads the body; the envelope, each record's text (Record.Raw, a substring of the
// page's) and the members that give its time and id are then read from that pass, and
// the record's Value lets mapping build from it too.

// pageData is one decoded page.
type pageData struct {
	records []Record
	// next is metadata.next_offset as the client sends it back ("" when absent or null).
	next string
	// skipped counts list elements that were not JSON objects and were left out.
	skipped int
	// doc is the page read by the tokenizer; the records' Values are in it.
	doc *jsondoc.Doc
}

// DecodePage decodes one 200 answer of a log endpoint of type lt exactly as Fetch does for
// each page it reads: Records with their Raw text, Time and ID. Next carries the page's
// next_offset when it has one; it is always nil for the v1 endpoints, whose position
// depends on the window being read (Fetch works it out). A stat of FAIL gives an
// *APIError. It is for tools and benchmarks that hold a page's body; Fetch is the client.
func DecodePage(lt LogType, body []byte) (Page, error) {
	ep := endpointOf(lt)
	if ep == nil {
		return Page{}, fmt.Errorf("duo api: unknown log type %q", string(lt))
	}
	pd, err := decodePage(ep, body)
	if err != nil {
		return Page{}, err
	}
	p := Page{Records: pd.records}
	if pd.next != "" && ep.Paging != PagingMinTime {
		p.Next = &Position{Offset: pd.next}
	}
	return p, nil
}

// decodePage decodes one 200 answer of endpoint ep. A stat of FAIL gives an *APIError, a
// body that is not valid JSON or not the expected envelope a *decodeError, both before
// any record is handed out.
func decodePage(ep *Endpoint, body []byte) (pageData, error) {
	env, err := openEnvelope(ep.Path, body)
	if err != nil {
		return pageData{}, err
	}
	pd := pageData{next: nextOffset(env.metadata), doc: env.response.Doc()}
	list := env.response
	switch list.Kind() {
	case '[', 'n', 0: // v1 and object lists: a bare array; null or none: an empty window
	case '{': // v2 and Trust Monitor: {<list>: [...], metadata: {...}} (docs/duo-api.md §1.3)
		m, _ := list.Get("metadata")
		if next := nextOffset(m); next != "" {
			pd.next = next
		}
		if list, _ = list.Get(ep.ListKey); list.Kind() != '[' && list.Kind() != 'n' && list.Kind() != 0 {
			return pageData{}, &decodeError{path: ep.Path, msg: "record list is not an array"}
		}
	default:
		return pageData{}, &decodeError{path: ep.Path, msg: "response is neither an object nor an array"}
	}
	pd.records = make([]Record, 0, list.Len())
	var ids *v1IDs
	if ep.IDKey == "" {
		ids = &v1IDs{}
	}
	for _, e := range list.All() {
		if e.Kind() != '{' {
			pd.skipped++
			continue
		}
		pd.records = append(pd.records, readRecord(ep, e, ids))
	}
	return pd, nil
}

// readRecord reads one record object: its Raw, its ID and its Time from the members the
// endpoint names (docs/duo-api.md §1.5, §3); for a record without an id (ids not nil),
// its content hash and occurrence number.
func readRecord(ep *Endpoint, obj jsondoc.Value, ids *v1IDs) Record {
	r := Record{Raw: obj.Text(), Value: obj}
	for _, tf := range ep.Times { // by precedence
		v, _ := obj.Get(tf.Key)
		if t, ok := parseTime(scalarText(v), tf.Unit); ok {
			r.Time = t
			break
		}
	}
	if ids != nil {
		ids.buf = jsondoc.AppendCompact(ids.buf[:0], obj) // whitespace does not change the id
		r.ID = ids.id(ids.buf, r.Time)
	} else {
		// A copy: the receiver keeps ids to drop repeats, and a substring would keep the
		// whole page alive.
		id, _ := obj.Get(ep.IDKey)
		r.ID = strings.Clone(scalarText(id))
	}
	return r
}

// nextOffset reads a metadata object's next_offset, rendered as the client sends it back
// (docs/duo-api.md §3.1, §3.3, §3.6, §6 item 7): an array (auth's [ms, txid]) joined
// with a comma, a string as is, a number as its literal; null, absent, empty or anything
// else gives "".
func nextOffset(metadata jsondoc.Value) string {
	v, _ := metadata.Get("next_offset")
	if v.Kind() != '[' {
		return scalarText(v)
	}
	var parts []string
	for _, e := range v.All() {
		if s := scalarText(e); s != "" {
			parts = append(parts, s)
		}
	}
	return strings.Join(parts, ",")
}

// scalarText is a string's value or a number's literal text; "" for anything else: Duo
// sends numbers and times as either (docs/duo-api.md §6 items 12, 13).
func scalarText(v jsondoc.Value) string {
	switch v.Kind() {
	case '"':
		return v.Str()
	case '0':
		return v.Text()
	}
	return ""
}
