// Copyright The otelcol-duo Authors
// SPDX-License-Identifier: Apache-2.0

package duoapi

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/go-json-experiment/json/jsontext"
)

// Decoding is lenient (docs/duo-api.md §6 items 12, 13): Duo adds fields and changes their
// types, so a page is never decoded into maps or structs. One jsontext walk over the body
// checks its syntax, finds the envelope's members, hands out each record as a slice of the
// body (Record.Raw aliases the page's buffer) and reads only the members that give the
// record's time and id; everything else is skipped.

// pageData is one decoded page.
type pageData struct {
	records []Record
	// next is metadata.next_offset as the client sends it back ("" when absent or null).
	next string
	// skipped counts list elements that were not JSON objects and were left out.
	skipped int
}

// DecodePage decodes one 200 answer of a log endpoint of type lt exactly as Fetch does for
// each page it reads: Records alias body, with their Time and ID. Next carries the page's
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

// decodePage decodes one 200 answer of endpoint ep in one pass. A stat of FAIL gives an
// *APIError, a body that is not valid JSON or not the expected envelope a *decodeError,
// both before any record is handed out. Of repeated members the last one counts.
func decodePage(ep *Endpoint, body []byte) (pageData, error) {
	ps := pageScan{ep: ep, body: body}
	env, err := decodeEnvelope(body, ps.response)
	if err != nil {
		return pageData{}, &decodeError{path: ep.Path, msg: err.Error()}
	}
	if err := checkStat(env, ep.Path); err != nil {
		return pageData{}, err
	}
	if ps.shapeErr != nil {
		return pageData{}, &decodeError{path: ep.Path, msg: ps.shapeErr.Error()}
	}
	if ps.next == "" {
		ps.next = env.next
	}
	pd := pageData{records: ps.records, next: ps.next, skipped: ps.skipped}
	if ep.IDKey == "" && len(pd.records) > 0 {
		ids := &v1IDs{}
		for i := range pd.records {
			r := &pd.records[i]
			r.ID = ids.id(ps.sums[i], r.Time)
		}
	}
	return pd, nil
}

// pageScan holds what the walk of one page has found.
type pageScan struct {
	ep      *Endpoint
	body    []byte
	records []Record
	skipped int
	next    string // next_offset of the response's metadata
	// shapeErr: the response or the record list has the wrong type.
	shapeErr error
	// For records without an id (IDKey ""): the content hash of each record, and the
	// record compacted while it is read, which is hashed.
	sums    [][16]byte
	compact jsontext.Value
}

var (
	errResponseShape = errors.New("response is neither an object nor an array")
	errListShape     = errors.New("record list is not an array")
)

// response reads the response member's value.
func (ps *pageScan) response(dec *jsontext.Decoder) error {
	ps.records, ps.sums, ps.skipped, ps.next, ps.shapeErr = ps.records[:0], ps.sums[:0], 0, "", nil
	switch dec.PeekKind() {
	case '[': // v1 and object lists: a bare array (docs/duo-api.md §1.3)
		return ps.list(dec)
	case '{': // v2 and Trust Monitor: {<list>: [...], metadata: {...}}
		if _, err := dec.ReadToken(); err != nil {
			return err
		}
		return members(dec, func(name []byte) error {
			switch {
			case ps.ep.ListKey != "" && keyIs(name, ps.ep.ListKey):
				ps.records, ps.sums, ps.skipped, ps.shapeErr = ps.records[:0], ps.sums[:0], 0, nil
				switch dec.PeekKind() {
				case '[':
					return ps.list(dec)
				case 'n':
				default:
					ps.shapeErr = errListShape
				}
			case keyIs(name, "metadata"):
				var err error
				ps.next, err = nextOffset(dec)
				return err
			}
			return dec.SkipValue()
		})
	case 'n': // null: nothing in the window
	default:
		ps.shapeErr = errResponseShape
	}
	return dec.SkipValue()
}

// list reads the record array at dec, keeping each object as a record; other elements are
// counted in skipped.
func (ps *pageScan) list(dec *jsontext.Decoder) error {
	if _, err := dec.ReadToken(); err != nil {
		return err
	}
	if ps.records == nil {
		// Sized from the body (Duo's records run from about 250 bytes to a few kilobytes)
		// so that a full page does not regrow the slice. A wrong guess costs a regrow.
		ps.records = make([]Record, 0, min(max(len(ps.body)/128, 16), ps.ep.Limit))
	}
	for dec.PeekKind() != ']' {
		if dec.PeekKind() != '{' {
			if err := dec.SkipValue(); err != nil {
				return err
			}
			ps.skipped++
			continue
		}
		r, err := ps.record(dec)
		if err != nil {
			return err
		}
		ps.records = append(ps.records, r)
	}
	_, err := dec.ReadToken()
	return err
}

// maxTimeFields is the most time fields an endpoint may name (TestEndpointTable).
const maxTimeFields = 4

// record reads one record object: its Raw (the body between its braces, found by offset),
// its ID and its Time from the members the endpoint names (docs/duo-api.md §1.5, §3);
// for a record without an id, the hash of its content.
func (ps *pageScan) record(dec *jsontext.Decoder) (Record, error) {
	var r Record
	if _, err := dec.ReadToken(); err != nil {
		return r, err
	}
	start := dec.InputOffset() - 1
	hashing := ps.ep.IDKey == ""
	if hashing {
		ps.compact = append(ps.compact[:0], '{')
	}
	var times [maxTimeFields][]byte // by precedence; parsed once the record is read
	for n := 0; dec.PeekKind() != '}'; n++ {
		name, err := dec.ReadValue()
		if err != nil {
			return r, err
		}
		if hashing {
			if n > 0 {
				ps.compact = append(ps.compact, ',')
			}
			ps.compact = append(append(ps.compact, name...), ':')
		}
		if err := ps.member(dec, name, &r, &times); err != nil {
			return r, err
		}
	}
	if _, err := dec.ReadToken(); err != nil {
		return r, err
	}
	r.Raw = ps.body[start:dec.InputOffset()]
	for i, tf := range ps.ep.Times {
		if t, ok := timeValue(times[i], tf.Unit); ok {
			r.Time = t
			break
		}
	}
	if hashing {
		full := sha256.Sum256(append(ps.compact, '}'))
		ps.sums = append(ps.sums, [16]byte(full[:16]))
	}
	return r, nil
}

// member reads the value of the record member called name: the id, a time, or (unless
// the record is being hashed) skipped.
func (ps *pageScan) member(dec *jsontext.Decoder, name []byte, r *Record, times *[maxTimeFields][]byte) error {
	field := -1 // the index in Times; len(Times) for the id
	if ps.ep.IDKey != "" && keyIs(name, ps.ep.IDKey) {
		field = len(ps.ep.Times)
	}
	for i := 0; field < 0 && i < len(ps.ep.Times); i++ {
		if keyIs(name, ps.ep.Times[i].Key) {
			field = i
		}
	}
	hashing := ps.ep.IDKey == ""
	if field < 0 && !hashing {
		return dec.SkipValue()
	}
	v, err := dec.ReadValue()
	if err != nil {
		return err
	}
	// The same bytes, taken from the body by offset: they stay valid past the decoder's
	// next read.
	end := int(dec.InputOffset())
	v = ps.body[end-len(v) : end]
	switch {
	case field == len(ps.ep.Times):
		r.ID = scalarText(v)
	case field >= 0:
		times[field] = v
	}
	if hashing {
		// The hash is of the compacted record, so that only whitespace between tokens
		// is ignored; a scalar token holds none.
		n := len(ps.compact)
		ps.compact = append(ps.compact, v...)
		if k := v.Kind(); k == '{' || k == '[' {
			tail := ps.compact[n:]
			_ = tail.Compact() // v is valid JSON: the decoder read it; it only shrinks
			ps.compact = ps.compact[:n+len(tail)]
		}
	}
	return nil
}

// nextOffset reads a metadata object's next_offset, rendered as the client sends it back
// (docs/duo-api.md §3.1, §3.3, §3.6, §6 item 7): an array (auth's [ms, txid]) joined
// with a comma, a string as is, a number as its literal; null, absent, empty or anything
// else gives "". A metadata that is not an object is skipped.
func nextOffset(dec *jsontext.Decoder) (string, error) {
	if dec.PeekKind() != '{' {
		return "", dec.SkipValue()
	}
	if _, err := dec.ReadToken(); err != nil {
		return "", err
	}
	var next string
	err := members(dec, func(name []byte) error {
		if !keyIs(name, "next_offset") {
			return dec.SkipValue()
		}
		next = ""
		if dec.PeekKind() != '[' {
			v, err := dec.ReadValue()
			next = scalarText(v)
			return err
		}
		if _, err := dec.ReadToken(); err != nil {
			return err
		}
		var parts []string
		for dec.PeekKind() != ']' {
			v, err := dec.ReadValue()
			if err != nil {
				return err
			}
			if s := scalarText(v); s != "" {
				parts = append(parts, s)
			}
		}
		next = strings.Join(parts, ",")
		_, err := dec.ReadToken()
		return err
	})
	return next, err
}

// v1IDs numbers identical records of the same second within one page: a v1 record's id is
// the hash of its compacted content plus its occurrence number, so true twins stay separate
// events (docs/duo-api.md §3.2, §4.2). A re-query from the boundary second returns that
// second's records again from the first, so the numbering is stable across pages.
type v1IDs struct {
	seen map[v1Key]int
}

// v1Key is a record's second and content hash: the group its occurrence number counts in.
type v1Key struct {
	sec int64
	sum [16]byte
}

// id returns the id of the record of content hash sum and time t.
func (v *v1IDs) id(sum [16]byte, t time.Time) string {
	k := v1Key{sec: t.Unix(), sum: sum}
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
