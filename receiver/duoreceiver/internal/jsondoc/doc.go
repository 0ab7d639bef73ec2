// Copyright The otelcol-duo Authors
// SPDX-License-Identifier: Apache-2.0

// Package jsondoc reads a JSON text once, with the jsontext tokenizer of
// github.com/go-json-experiment/json, into a flat list of its values in reading order.
// The client reads a page's envelope, each record's bounds, id and time from that list, and
// the mapping builds record bodies and attributes from the same list, so a page is
// tokenized once whatever is done with it. Every string handed out is a substring of the
// text (or, when it holds escapes, its unquoted copy), so reading costs no allocation per
// value. Decoding follows encoding/json wherever JSON leaves a choice: of repeated member
// names the last one counts, and bytes that are not UTF-8 may appear inside strings
// (they read as U+FFFD).
package jsondoc // import "github.com/otelcol-duo/otelcol-duo/receiver/duoreceiver/internal/jsondoc"

import (
	"bytes"
	"errors"
	"io"
	"iter"
	"math"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/go-json-experiment/json/jsontext"
)

// Kind is a value's kind: '{', '[', '"', '0' (a number), 't', 'f' or 'n'.
type Kind = jsontext.Kind

// Doc is one JSON text read into its values.
type Doc struct {
	text  string
	nodes []node
	// utf8: the text is valid UTF-8, so no string needs a check of its own.
	utf8 bool
}

// node is one value. Offsets are into the text; a container's text runs from its opening
// bracket through its closing one, a scalar's is its token.
type node struct {
	keyOff, keyLen int32 // the member name's token, quotes included; keyLen 0 outside objects
	off, len       int32
	end            int32 // the index just past this value and everything it holds
	n              int32 // a container's member or element count
	// keySum is the fingerprint of a plain name (keySum), 0 when the name token holds an
	// escape or bytes that are not UTF-8, or there is none. A plain name is the token
	// without its quotes; checking that once here, and comparing fingerprints first,
	// keeps the many lookups of the mapping's rules cheap.
	keySum uint32
	kind   Kind
}

// keySum fingerprints a name by its length and three of its bytes; never 0.
func keySum(name string) uint32 {
	h := uint32(len(name))<<24 | 1
	if len(name) > 0 {
		h |= uint32(name[0])<<16 | uint32(name[len(name)/2])<<8 | uint32(name[len(name)-1])<<1
	}
	return h
}

var (
	strict  = []jsontext.Options{jsontext.AllowDuplicateNames(true), jsontext.AllowInvalidUTF8(false)}
	lenient = []jsontext.Options{jsontext.AllowDuplicateNames(true), jsontext.AllowInvalidUTF8(true)}

	errTooLarge = errors.New("JSON text larger than 2 GiB")
	errTrailing = errors.New("invalid JSON: data after the top-level value")
)

// Parse reads b, which must hold exactly one JSON value. The Doc keeps its own copy of
// the text.
func Parse(b []byte) (*Doc, error) { return parse(b, string(b)) }

// ParseString is Parse for a text held in a string, which the Doc shares.
func ParseString(s string) (*Doc, error) { return parse([]byte(s), s) }

func parse(b []byte, s string) (*Doc, error) {
	if len(b) > math.MaxInt32 {
		return nil, errTooLarge
	}
	d := &Doc{text: s, utf8: true}
	// Nearly every text is valid UTF-8: read it so first, which spares each string a
	// check, and again leniently only when that fails.
	err := d.read(b, strict)
	if serr := (*jsontext.SyntacticError)(nil); errors.As(err, &serr) {
		d.utf8 = false
		err = d.read(b, lenient)
	}
	if err != nil {
		return nil, err
	}
	return d, nil
}

// read fills d.nodes. Duo's records hold about one value per 16 bytes of text; the first
// guess at the count only saves regrowing.
func (d *Doc) read(b []byte, opts []jsontext.Options) error {
	t := tokenizers.Get().(*tokenizer)
	defer t.release()
	t.buf = *bytes.NewBuffer(b)
	t.dec.Reset(&t.buf, opts...)
	dec, stack := &t.dec, t.stack[:0] // stack: the open containers
	defer func() { t.stack = stack }()
	d.nodes = getNodes(len(b)/16 + 1)
	var keyOff, keyLen int32
	var sum uint32
	for {
		if k := dec.PeekKind(); k == '}' || k == ']' {
			if _, err := dec.ReadToken(); err != nil {
				return err
			}
			top := &d.nodes[stack[len(stack)-1]]
			stack = stack[:len(stack)-1]
			top.len = int32(dec.InputOffset()) - top.off
			top.end = int32(len(d.nodes))
		} else {
			if len(stack) > 0 {
				d.nodes[stack[len(stack)-1]].n++
			}
			d.nodes = append(d.nodes, node{keyOff: keyOff, keyLen: keyLen, keySum: sum})
			if err := d.start(dec, k, &d.nodes[len(d.nodes)-1]); err != nil {
				return err
			}
			if k == '{' || k == '[' {
				stack = append(stack, int32(len(d.nodes)-1))
			}
		}
		if len(stack) == 0 {
			if _, err := dec.ReadToken(); !errors.Is(err, io.EOF) {
				if err == nil {
					err = errTrailing
				}
				return err
			}
			return nil
		}
		// Inside an object, a member name comes next (or its end).
		keyOff, keyLen, sum = 0, 0, 0
		if d.nodes[stack[len(stack)-1]].kind == '{' && dec.PeekKind() == '"' {
			name, err := dec.ReadValue()
			if err != nil {
				return err
			}
			keyLen = int32(len(name))
			keyOff = int32(dec.InputOffset()) - keyLen
			if bytes.IndexByte(name, '\\') < 0 && (d.utf8 || utf8.Valid(name)) {
				sum = keySum(d.text[keyOff+1 : keyOff+keyLen-1])
			}
		}
	}
}

// tokenizer is a decoder that reads a text in place, kept for the next text: the small
// JSON texts held in Duo's string fields are read once per record.
type tokenizer struct {
	dec   jsontext.Decoder
	buf   bytes.Buffer
	stack []int32
}

var tokenizers = sync.Pool{New: func() any { return new(tokenizer) }}

func (t *tokenizer) release() {
	t.buf = bytes.Buffer{} // drop the text: the decoder reads it in place
	t.dec.Reset(&t.buf)
	if cap(t.stack) <= 1024 {
		tokenizers.Put(t)
	}
}

// start reads the value of kind k that comes next into nd, the last node: a whole
// scalar, or a container's opening bracket (its length and end are set when it closes).
func (d *Doc) start(dec *jsontext.Decoder, k Kind, nd *node) error {
	if k == '{' || k == '[' {
		_, err := dec.ReadToken()
		nd.off, nd.kind = int32(dec.InputOffset())-1, k
		return err
	}
	tok, err := dec.ReadValue()
	if err != nil {
		return err
	}
	nd.len = int32(len(tok))
	nd.off, nd.end, nd.kind = int32(dec.InputOffset())-nd.len, int32(len(d.nodes)), tok.Kind()
	return nil
}

// nodeLists keeps the node lists of released documents for the next ones: a page's list
// is about twice its text, and the next page needs one as large. A sync.Pool would drop
// them at every garbage collection, which comes every few pages.
var nodeLists = make(chan []node, 4)

// Only node lists of page size are kept (from 4,096 values, 128 KiB, to 4 MiB; a full
// authentication page needs about 2), so that the lists kept stay small beside the pages
// in flight, and the small texts held in Duo's string fields neither take nor leave one.
const minPooled, maxPooled = 1 << 12, 1 << 17

func getNodes(guess int) []node {
	if guess >= minPooled {
		select {
		case nodes := <-nodeLists:
			if cap(nodes) >= guess {
				return nodes[:0]
			}
		default:
		}
	}
	return make([]node, 0, guess)
}

// Release hands d's values back for another document to reuse. d and every Value of it
// must not be used afterwards (they then panic); strings read from d stay valid.
// Releasing is optional: an unreleased document is garbage collected.
func (d *Doc) Release() {
	if d == nil || d.nodes == nil {
		return
	}
	nodes := d.nodes
	d.nodes = nil
	if cap(nodes) >= minPooled && cap(nodes) <= maxPooled {
		select {
		case nodeLists <- nodes:
		default:
		}
	}
}

// UTF8 reports whether the whole text is valid UTF-8.
func (d *Doc) UTF8() bool { return d.utf8 }

// Root is the top-level value.
func (d *Doc) Root() Value { return Value{d: d} }

// unquote returns the value of a string token: a substring of the text when it holds no
// escape and only valid UTF-8, else its unquoted copy, with invalid UTF-8 as U+FFFD.
func (d *Doc) unquote(tok string) string {
	if strings.IndexByte(tok, '\\') < 0 && (d.utf8 || utf8.ValidString(tok)) {
		return tok[1 : len(tok)-1]
	}
	// The tokenizer has checked the escapes: the only error left is invalid UTF-8.
	b, _ := jsontext.AppendUnquote(nil, tok)
	return string(b)
}

// Value is one value of a Doc. The zero Value is no value: its Kind is 0.
type Value struct {
	d *Doc
	i int32
}

func (v Value) node() *node { return &v.d.nodes[v.i] }

// Doc is the document v belongs to.
func (v Value) Doc() *Doc { return v.d }

// Kind is v's kind, 0 for the zero Value.
func (v Value) Kind() Kind {
	if v.d == nil {
		return 0
	}
	return v.node().kind
}

// Text is v's JSON text as it appears in the document.
func (v Value) Text() string {
	n := v.node()
	return v.d.text[n.off : n.off+n.len]
}

// Len is the number of members of an object or elements of an array (0 otherwise).
func (v Value) Len() int { return int(v.node().n) }

// Key is the name of the member v is the value of ("" outside an object).
func (v Value) Key() string {
	n := v.node()
	if n.keyLen == 0 {
		return ""
	}
	if n.keySum != 0 {
		return v.d.text[n.keyOff+1 : n.keyOff+n.keyLen-1]
	}
	return v.d.unquote(v.d.text[n.keyOff : n.keyOff+n.keyLen])
}

// Str is the value of a string ("" for any other kind).
func (v Value) Str() string {
	if v.Kind() != '"' {
		return ""
	}
	return v.d.unquote(v.Text())
}

// All yields the members of an object (name and value) or the elements of an array (""
// and value), in order; nothing for any other kind.
func (v Value) All() iter.Seq2[string, Value] {
	return func(yield func(string, Value) bool) {
		if k := v.Kind(); k != '{' && k != '[' {
			return
		}
		nodes := v.d.nodes
		for j := v.i + 1; j < nodes[v.i].end; j = nodes[j].end {
			e := Value{d: v.d, i: j}
			if !yield(e.Key(), e) {
				return
			}
		}
	}
}

// Get returns the member of an object called name, the last one when the name repeats.
func (v Value) Get(name string) (Value, bool) {
	if v.Kind() != '{' {
		return Value{}, false
	}
	nodes, text, sum := v.d.nodes, v.d.text, keySum(name)
	found := int32(-1)
	for j, end := v.i+1, nodes[v.i].end; j < end; {
		n := &nodes[j]
		switch n.keySum {
		case sum:
			if text[n.keyOff+1:n.keyOff+n.keyLen-1] == name {
				found = j
			}
		case 0:
			if v.d.unquote(text[n.keyOff:n.keyOff+n.keyLen]) == name {
				found = j
			}
		}
		j = n.end
	}
	if found < 0 {
		return Value{}, false
	}
	return Value{d: v.d, i: found}, true
}

// AppendCompact appends v's text without the whitespace between tokens, each token as it
// appears (what encoding/json's Compact gives).
func AppendCompact(dst []byte, v Value) []byte {
	n := v.node()
	if n.kind != '{' && n.kind != '[' {
		return append(dst, v.Text()...)
	}
	dst = append(dst, byte(n.kind))
	sep := false
	for _, e := range v.All() {
		if sep {
			dst = append(dst, ',')
		}
		sep = true
		if en := e.node(); en.keyLen > 0 {
			dst = append(append(dst, v.d.text[en.keyOff:en.keyOff+en.keyLen]...), ':')
		}
		dst = AppendCompact(dst, e)
	}
	return append(dst, byte(n.kind)+2) // '{'+2 is '}', '['+2 is ']'
}
