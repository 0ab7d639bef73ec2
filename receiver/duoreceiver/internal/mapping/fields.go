// Copyright The otelcol-duo Authors
// SPDX-License-Identifier: Apache-2.0

package mapping

import (
	"iter"
	"strconv"

	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/otelcol-duo/otelcol-duo/receiver/duoreceiver/internal/jsondoc"
)

// fields is read access to a JSON object of a record, whatever holds it: the record's
// body map (pmap) or, when the body stays a string, the tokenizer's values of its text
// (jobj).
// The severity and attribute rules are written once against it, so both body modes
// give a record the same attributes. M is the type of a nested object.
type fields[M any] interface {
	// str returns the member key when it is a string, and whether it is present (neither
	// "" nor "unknown").
	str(key string) (string, bool)
	// obj returns the member key when it is an object.
	obj(key string) (M, bool)
	// boolean returns the member key when it is true or false.
	boolean(key string) (v, ok bool)
	// integer returns the member key when it is a number that fits an int64 without a
	// fraction or exponent (what putMap makes an Int).
	integer(key string) (int64, bool)
	// strs yields the string elements of the array key; objs its object elements.
	strs(key string) iter.Seq[string]
	objs(key string) iter.Seq[M]
}

// pmap reads a decoded body map.
type pmap struct{ m pcommon.Map }

var _ fields[pmap] = pmap{}

func (p pmap) str(key string) (string, bool) {
	v, ok := p.m.Get(key)
	if !ok || v.Type() != pcommon.ValueTypeStr {
		return "", false
	}
	s := v.Str()
	return s, present(s)
}

func (p pmap) obj(key string) (pmap, bool) {
	v, ok := p.m.Get(key)
	if !ok || v.Type() != pcommon.ValueTypeMap {
		return pmap{}, false
	}
	return pmap{v.Map()}, true
}

func (p pmap) boolean(key string) (v, ok bool) {
	val, ok := p.m.Get(key)
	if !ok || val.Type() != pcommon.ValueTypeBool {
		return false, false
	}
	return val.Bool(), true
}

func (p pmap) integer(key string) (int64, bool) {
	v, ok := p.m.Get(key)
	if !ok || v.Type() != pcommon.ValueTypeInt {
		return 0, false
	}
	return v.Int(), true
}

func (p pmap) strs(key string) iter.Seq[string] {
	return func(yield func(string) bool) {
		v, ok := p.m.Get(key)
		if !ok || v.Type() != pcommon.ValueTypeSlice {
			return
		}
		for _, e := range v.Slice().All() {
			if e.Type() == pcommon.ValueTypeStr && !yield(e.Str()) {
				return
			}
		}
	}
}

func (p pmap) objs(key string) iter.Seq[pmap] {
	return func(yield func(pmap) bool) {
		v, ok := p.m.Get(key)
		if !ok || v.Type() != pcommon.ValueTypeSlice {
			return
		}
		for _, e := range v.Slice().All() {
			if e.Type() == pcommon.ValueTypeMap && !yield(pmap{e.Map()}) {
				return
			}
		}
	}
}

// jobj reads an object of a record's tokenized text, with the same answers as pmap gives
// for the map putMap builds from it.
type jobj struct{ v jsondoc.Value }

var _ fields[jobj] = jobj{}

// member returns the member key when it is of kind k.
func (o jobj) member(key string, k jsondoc.Kind) (jsondoc.Value, bool) {
	v, ok := o.v.Get(key)
	return v, ok && v.Kind() == k
}

func (o jobj) str(key string) (string, bool) {
	v, ok := o.member(key, '"')
	if !ok {
		return "", false
	}
	s := v.Str()
	return s, present(s)
}

func (o jobj) obj(key string) (jobj, bool) {
	v, ok := o.member(key, '{')
	return jobj{v}, ok
}

func (o jobj) boolean(key string) (v, ok bool) {
	val, _ := o.v.Get(key)
	k := val.Kind()
	return k == 't', k == 't' || k == 'f'
}

func (o jobj) integer(key string) (int64, bool) {
	v, ok := o.member(key, '0')
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(v.Text(), 10, 64)
	return n, err == nil
}

func (o jobj) strs(key string) iter.Seq[string] {
	return func(yield func(string) bool) {
		arr, _ := o.member(key, '[')
		for _, e := range arr.All() {
			if e.Kind() == '"' && !yield(e.Str()) {
				return
			}
		}
	}
}

func (o jobj) objs(key string) iter.Seq[jobj] {
	return func(yield func(jobj) bool) {
		arr, _ := o.member(key, '[')
		for _, e := range arr.All() {
			if e.Kind() == '{' && !yield(jobj{e}) {
				return
			}
		}
	}
}
