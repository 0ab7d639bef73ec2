// Copyright The otelcol-duo Authors
// SPDX-License-Identifier: Apache-2.0

// Package jsondoc reads a JSON text once, with the jsontext tokenizer of
// github.com/go-json-experiment/json, into a flat list of its values in reading order.
// The client reads a page's envelope and each record's bounds, id and time from that list,
// and the mapping builds bodies and attributes from the same list, so a page is tokenized
// once. Strings are substrings of the text unless they hold escapes, so reading a value
// costs no allocation. Where JSON leaves a choice it follows encoding/json: of repeated
// member names the last counts, and bytes that are not UTF-8 read as U+FFFD.
package jsondoc // import "github.com/otelcol-duo/otelcol-duo/receiver/duoreceiver/internal/jsondoc"

import (
	"bytes"
	"cmp"
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
	utf8  bool // the whole text is valid UTF-8, so no string needs a check of its own
}

// node is one value. A container's text runs from its opening bracket through its
// closing one; a scalar's is its token.
type node struct {
	keyOff, keyLen int32 // the member name's token, quotes included; keyLen 0 outside objects
	off, len       int32 // the value's text
	end            int32 // the index just past this value and everything it holds
	n              int32 // a container's member or element count
	// keySum fingerprints a plain name (no escape, only UTF-8: its token is the name,
	// quoted); 0 for any other name or none. Comparing fingerprints first keeps the
	// mapping's many lookups per record off the text.
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

// Parse reads b, which must hold exactly one JSON value, into a Doc with its own copy of
// the text.
func Parse(b []byte) (*Doc, error) { return parse(b, string(b)) }

// ParseString is Parse for a text held in a string, which the Doc shares.
func ParseString(s string) (*Doc, error) { return parse([]byte(s), s) }

func parse(b []byte, s string) (*Doc, error) {
	if len(b) > math.MaxInt32 {
		return nil, errTooLarge
	}
	// Duo's records hold about one value per 16 bytes of text.
	d := &Doc{text: s, utf8: true, nodes: getNodes(len(b)/16 + 1)}
	// Nearly every text is valid UTF-8: reading it strictly first spares each string a
	// check of its own, and only a text that fails is read again leniently.
	err := d.read(b, strict)
	if serr := (*jsontext.SyntacticError)(nil); errors.As(err, &serr) {
		d.utf8, d.nodes = false, d.nodes[:0]
		err = d.read(b, lenient)
	}
	if err != nil {
		d.Release()
		return nil, err
	}
	return d, nil
}

// tokenizer is a decoder kept for the next text, with its stack of open containers (their
// node indexes): the small JSON texts inside Duo's string fields are read once per record.
type tokenizer struct {
	dec   jsontext.Decoder
	buf   bytes.Buffer
	stack []int32
}

var tokenizers = sync.Pool{New: func() any { return new(tokenizer) }}

func (d *Doc) read(b []byte, opts []jsontext.Options) error {
	t := tokenizers.Get().(*tokenizer)
	dec, stack := &t.dec, t.stack[:0]
	defer func() {
		t.buf, t.stack = bytes.Buffer{}, stack[:0] // the decoder reads the text in place: let it go
		t.dec.Reset(&t.buf)
		tokenizers.Put(t)
	}()
	t.buf = *bytes.NewBuffer(b)
	dec.Reset(&t.buf, opts...)
	keyOff, keyLen, sum := int32(0), int32(0), uint32(0)
	for {
		switch k := dec.PeekKind(); k {
		case '}', ']':
			if _, err := dec.ReadToken(); err != nil {
				return err
			}
			top := &d.nodes[stack[len(stack)-1]]
			stack = stack[:len(stack)-1]
			top.len, top.end = int32(dec.InputOffset())-top.off, int32(len(d.nodes))
		default:
			if len(stack) > 0 {
				d.nodes[stack[len(stack)-1]].n++
			}
			nd := node{keyOff: keyOff, keyLen: keyLen, keySum: sum, kind: k, end: int32(len(d.nodes)) + 1}
			if k == '{' || k == '[' {
				if _, err := dec.ReadToken(); err != nil {
					return err
				}
				nd.off = int32(dec.InputOffset()) - 1
				stack = append(stack, int32(len(d.nodes)))
			} else {
				tok, err := dec.ReadValue() // an error when k is 0, which is no value
				if err != nil {
					return err
				}
				nd.len = int32(len(tok))
				nd.off = int32(dec.InputOffset()) - nd.len
			}
			d.nodes = append(d.nodes, nd)
		}
		if len(stack) == 0 {
			if _, err := dec.ReadToken(); !errors.Is(err, io.EOF) {
				return cmp.Or(err, errTrailing)
			}
			return nil
		}
		// Inside an object a member name comes next, unless the object ends.
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

// unquote returns the value of a string token: a substring of the text when it holds no
// escape and only valid UTF-8, else its unquoted copy, with invalid UTF-8 as U+FFFD.
func (d *Doc) unquote(tok string) string {
	if strings.IndexByte(tok, '\\') < 0 && (d.utf8 || utf8.ValidString(tok)) {
		return tok[1 : len(tok)-1]
	}
	b, _ := jsontext.AppendUnquote(nil, tok) // the tokenizer has checked the escapes
	return string(b)
}

// nodeLists keeps the node lists of released documents for the next page, which needs one
// as large; a sync.Pool would drop them at every garbage collection, every few pages.
// Only page-sized lists are kept (4,096 to 131,072 values), so the small texts inside
// Duo's string fields neither take nor leave one.
var nodeLists = make(chan []node, 4)

const minKept, maxKept = 1 << 12, 1 << 17

func getNodes(guess int) []node {
	if guess >= minKept {
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

// Release hands d's values back for another document. d and its Values must not be used
// afterwards (they panic); strings read from d stay valid. An unreleased document is
// simply garbage collected.
func (d *Doc) Release() {
	if d == nil || d.nodes == nil {
		return
	}
	if c := cap(d.nodes); c >= minKept && c <= maxKept {
		select {
		case nodeLists <- d.nodes:
		default:
		}
	}
	d.nodes = nil
}

// UTF8 reports whether the whole text is valid UTF-8.
func (d *Doc) UTF8() bool { return d.utf8 }

// Root is the top-level value.
func (d *Doc) Root() Value { return Value{d: d} }

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
func (v Value) Len() int {
	if v.d == nil {
		return 0
	}
	return int(v.node().n)
}

// Key is the name of the member v is the value of ("" outside an object).
func (v Value) Key() string { return v.d.key(v.node()) }

func (d *Doc) key(n *node) string {
	if n.keySum != 0 {
		return d.text[n.keyOff+1 : n.keyOff+n.keyLen-1]
	}
	if n.keyLen == 0 {
		return ""
	}
	return d.unquote(d.text[n.keyOff : n.keyOff+n.keyLen])
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
		for j := v.i + 1; j < v.d.nodes[v.i].end; j = v.d.nodes[j].end {
			if !yield(v.d.key(&v.d.nodes[j]), Value{d: v.d, i: j}) {
				return
			}
		}
	}
}

// Get returns the member of an object called name, the last one when the name repeats.
func (v Value) Get(name string) (Value, bool) {
	found := Value{}
	if v.Kind() == '{' {
		nodes, text, sum := v.d.nodes, v.d.text, keySum(name)
		for j := v.i + 1; j < nodes[v.i].end; j = nodes[j].end {
			n := &nodes[j]
			if n.keySum == sum && text[n.keyOff+1:n.keyOff+n.keyLen-1] == name ||
				n.keySum == 0 && v.d.key(n) == name {
				found = Value{d: v.d, i: j}
			}
		}
	}
	return found, found.d != nil
}

// AppendCompact appends v's text without the whitespace between tokens, each token as it
// appears: what encoding/json's Compact gives, without reading the text again.
func AppendCompact(dst []byte, v Value) []byte {
	n := v.node()
	if n.kind != '{' && n.kind != '[' {
		return append(dst, v.Text()...)
	}
	dst = append(dst, byte(n.kind))
	for j := v.i + 1; j < n.end; j = v.d.nodes[j].end {
		if e := &v.d.nodes[j]; e.keyLen > 0 {
			dst = append(append(dst, v.d.text[e.keyOff:e.keyOff+e.keyLen]...), ':')
		}
		dst = append(AppendCompact(dst, Value{d: v.d, i: j}), ',')
	}
	if n.n > 0 {
		dst = dst[:len(dst)-1] // the last element's comma
	}
	return append(dst, byte(n.kind)+2) // '{'+2 is '}', '['+2 is ']'
}
