// Copyright The otelcol-duo Authors
// SPDX-License-Identifier: Apache-2.0

package mapping

import (
	"bytes"
	"errors"
	"io"
	"iter"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/go-json-experiment/json/jsontext"
)

// view is a record read once, without building anything the record's size asks for:
// its values in reading order, each a substring of the record's text. It is what the
// severity and attribute rules read when the body stays the record's JSON text, so that
// a JSON body costs one tokenizer pass and the attributes, not a whole body map.
type view struct {
	dec jsontext.Decoder
	b   bytes.Buffer // over the record's bytes: the decoder reads them in place
	s   string       // the record's text; every node's text is a substring of it
	// nodes in reading order; a container's members follow it, up to its end.
	nodes []vnode
	stack []int32
	// validUTF8: s is known to be valid UTF-8, so no string needs U+FFFD replacements.
	validUTF8 bool
	buf       []byte // scratch for unquoting
}

// vnode is one value: its member name ("" in an array), its kind (jsontext.Kind: '{',
// '[', '"', '0', 't', 'f', 'n'), its text (a string's quotes and escapes included;
// empty for a container) and the index just past it and everything it holds.
type vnode struct {
	key  string
	text string
	end  int32
	kind jsontext.Kind
}

var viewPool = sync.Pool{New: func() any { return new(view) }}

// readView reads the record raw, whose text s is, into a pooled view. Like DecodeMap it
// reads it as UTF-8 first and again leniently only when that fails. The caller releases
// the view.
func readView(s string, raw []byte) (*view, error) {
	v := viewPool.Get().(*view)
	err := v.read(s, raw, true)
	if serr := (*jsontext.SyntacticError)(nil); errors.As(err, &serr) {
		err = v.read(s, raw, false)
	}
	if err != nil {
		v.release()
		return nil, err
	}
	return v, nil
}

func (v *view) release() {
	v.s, v.b = "", bytes.Buffer{}
	v.dec.Reset(&v.b)
	if cap(v.nodes) > 4096 || cap(v.buf) > 64<<10 {
		return // do not keep a large view alive from the pool
	}
	clear(v.nodes) // no substring of a record may outlive it here
	v.nodes = v.nodes[:0]
	viewPool.Put(v)
}

func (v *view) read(s string, raw []byte, validUTF8 bool) error {
	opts := decodeOptions
	if validUTF8 {
		opts = utf8Options
	}
	v.b = *bytes.NewBuffer(raw)
	v.dec.Reset(&v.b, opts...)
	v.s, v.validUTF8 = s, validUTF8
	v.nodes, v.stack = v.nodes[:0], v.stack[:0]
	if v.dec.PeekKind() != '{' {
		if _, err := v.dec.ReadValue(); err != nil {
			return err
		}
		return errNotObject
	}
	key := ""
	for {
		switch k := v.dec.PeekKind(); k {
		case '{', '[':
			if _, err := v.dec.ReadToken(); err != nil {
				return err
			}
			v.stack = append(v.stack, int32(len(v.nodes)))
			v.nodes = append(v.nodes, vnode{key: key, kind: k})
		case '}', ']':
			if _, err := v.dec.ReadToken(); err != nil {
				return err
			}
			top := v.stack[len(v.stack)-1]
			v.stack = v.stack[:len(v.stack)-1]
			v.nodes[top].end = int32(len(v.nodes))
			if len(v.stack) == 0 {
				return v.eof()
			}
		default:
			tok, err := v.dec.ReadValue()
			if err != nil {
				return err
			}
			n := int32(len(v.nodes))
			v.nodes = append(v.nodes, vnode{key: key, kind: tok.Kind(), text: v.at(tok), end: n + 1})
		}
		// What comes next: a member name inside an object, an element inside an array.
		key = ""
		if v.nodes[v.stack[len(v.stack)-1]].kind == '{' && v.dec.PeekKind() == '"' {
			name, err := v.dec.ReadValue()
			if err != nil {
				return err
			}
			key = v.unquote(v.at(name))
		}
	}
}

// eof checks that nothing but whitespace follows the record.
func (v *view) eof() error {
	if _, err := v.dec.ReadToken(); !errors.Is(err, io.EOF) {
		if err == nil {
			err = errors.New("invalid JSON: data after the top-level value")
		}
		return err
	}
	return nil
}

// at returns the text of the token just read, as a substring of s.
func (v *view) at(tok []byte) string {
	end := int(v.dec.InputOffset())
	return v.s[end-len(tok) : end]
}

// unquote returns the value of a string token: a substring of s when it holds no escape
// and only valid UTF-8, else an unquoted copy (invalid UTF-8 becomes U+FFFD, as
// encoding/json and DecodeMap make it).
func (v *view) unquote(text string) string {
	if strings.IndexByte(text, '\\') < 0 && (v.validUTF8 || utf8.ValidString(text)) {
		return text[1 : len(text)-1]
	}
	v.buf, _ = jsontext.AppendUnquote(v.buf[:0], text)
	return string(v.buf)
}

// root is the record object.
func (v *view) root() vobj { return vobj{v: v} }

// vobj is an object (or, as the container of elements, an array) of a view.
type vobj struct {
	v *view
	i int32
}

var _ fields[vobj] = vobj{}

// member returns the node of the member key, the last one when the name repeats (as in
// DecodeMap, the last wins).
func (o vobj) member(key string) (vnode, int32, bool) {
	nodes := o.v.nodes
	found := int32(-1)
	for j := o.i + 1; j < nodes[o.i].end; j = nodes[j].end {
		if nodes[j].key == key {
			found = j
		}
	}
	if found < 0 {
		return vnode{}, 0, false
	}
	return nodes[found], found, true
}

func (o vobj) str(key string) (string, bool) {
	n, _, ok := o.member(key)
	if !ok || n.kind != '"' {
		return "", false
	}
	s := o.v.unquote(n.text)
	return s, present(s)
}

func (o vobj) obj(key string) (vobj, bool) {
	n, j, ok := o.member(key)
	if !ok || n.kind != '{' {
		return vobj{}, false
	}
	return vobj{v: o.v, i: j}, true
}

func (o vobj) boolean(key string) (v, ok bool) {
	n, _, ok := o.member(key)
	if !ok || (n.kind != 't' && n.kind != 'f') {
		return false, false
	}
	return n.kind == 't', true
}

func (o vobj) integer(key string) (int64, bool) {
	n, _, ok := o.member(key)
	if !ok || n.kind != '0' {
		return 0, false
	}
	i, err := strconv.ParseInt(n.text, 10, 64)
	return i, err == nil
}

// elems yields the indices of the elements of the array key.
func (o vobj) elems(key string) iter.Seq[int32] {
	return func(yield func(int32) bool) {
		n, j, ok := o.member(key)
		if !ok || n.kind != '[' {
			return
		}
		nodes := o.v.nodes
		for e := j + 1; e < n.end; e = nodes[e].end {
			if !yield(e) {
				return
			}
		}
	}
}

func (o vobj) strs(key string) iter.Seq[string] {
	return func(yield func(string) bool) {
		for e := range o.elems(key) {
			if n := o.v.nodes[e]; n.kind == '"' && !yield(o.v.unquote(n.text)) {
				return
			}
		}
	}
}

func (o vobj) objs(key string) iter.Seq[vobj] {
	return func(yield func(vobj) bool) {
		for e := range o.elems(key) {
			if o.v.nodes[e].kind == '{' && !yield(vobj{v: o.v, i: e}) {
				return
			}
		}
	}
}
