// Copyright The otelcol-duo Authors
// SPDX-License-Identifier: Apache-2.0

package duoapi

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"

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
// any record is handed out. Of repeated members the last one counts.
func decodePage(ep *Endpoint, body []byte) (pageData, error) {
	env, err := decodeEnvelope(body)
	if err != nil {
		return pageData{}, &decodeError{path: ep.Path, msg: err.Error()}
	}
	if err := checkStat(env, ep.Path); err != nil {
		return pageData{}, err
	}
	var list jsondoc.Value
	pd := pageData{next: env.next, doc: env.response.Doc()}
	switch resp := env.response; resp.Kind() {
	case '[': // v1 and object lists: a bare array (docs/duo-api.md §1.3)
		list = resp
	case '{': // v2 and Trust Monitor: {<list>: [...], metadata: {...}}
		if l, ok := resp.Get(ep.ListKey); ok && ep.ListKey != "" {
			switch l.Kind() {
			case '[':
				list = l
			case 'n':
			default:
				return pageData{}, &decodeError{path: ep.Path, msg: "record list is not an array"}
			}
		}
		if m, ok := resp.Get("metadata"); ok {
			if next := nextOffset(m); next != "" {
				pd.next = next
			}
		}
	case 'n', 0: // null or absent: nothing in the window
	default:
		return pageData{}, &decodeError{path: ep.Path, msg: "response is neither an object nor an array"}
	}
	if list.Kind() == 0 {
		return pd, nil
	}
	// Sized from the list (Duo's records run from about 250 bytes to a few kilobytes),
	// so that a full page does not regrow the slice.
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
	if ep.IDKey != "" {
		id, _ := obj.Get(ep.IDKey)
		// A copy: the receiver keeps ids to drop repeats, and a substring would keep
		// the whole page alive.
		r.ID = strings.Clone(scalarText(id))
	}
	for _, tf := range ep.Times { // by precedence
		v, _ := obj.Get(tf.Key)
		if t, ok := timeValue(v, tf.Unit); ok {
			r.Time = t
			break
		}
	}
	if ids != nil {
		ids.buf = jsondoc.AppendCompact(ids.buf[:0], obj)
		r.ID = ids.id(sha256.Sum256(ids.buf), r.Time)
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

// v1IDs numbers identical records of the same second within one page: a v1 record's id is
// the hash of its compacted content plus its occurrence number, so true twins stay separate
// events (docs/duo-api.md §3.2, §4.2). A re-query from the boundary second returns that
// second's records again from the first, so the numbering is stable across pages.
type v1IDs struct {
	seen map[v1Key]int
	buf  []byte // the record compacted, which is hashed
}

// v1Key is a record's second and content hash: the group its occurrence number counts in.
type v1Key struct {
	sec int64
	sum [16]byte
}

// id returns the id of the record of content hash full and time t.
func (v *v1IDs) id(full [sha256.Size]byte, t time.Time) string {
	k := v1Key{sec: t.Unix(), sum: [16]byte(full[:16])}
	if v.seen == nil {
		v.seen = make(map[v1Key]int)
	}
	n := v.seen[k]
	v.seen[k] = n + 1
	// One allocation: the hex of the hash, '#', the occurrence number.
	var b [32 + 1 + 20]byte
	id := hex.AppendEncode(b[:0], k.sum[:])
	id = append(id, '#')
	id = strconv.AppendInt(id, int64(n), 10)
	return string(id)
}
