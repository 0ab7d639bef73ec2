// Copyright The otelcol-duo Authors
// SPDX-License-Identifier: Apache-2.0

package mapping

import (
	"errors"
	"fmt"
	"strconv"

	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/otelcol-duo/otelcol-duo/receiver/duoreceiver/internal/duoapi"
	"github.com/otelcol-duo/otelcol-duo/receiver/duoreceiver/internal/jsondoc"
)

// MaxDepth is how deeply objects and arrays may nest in a record body (the record itself
// is depth 1); it is the one nesting limit of the data path. Duo's records nest three or
// four levels. A record nested deeper is still delivered, with its body the raw JSON
// string (Append reports it): a body this deep would exceed the recursion limits of
// common OTLP decoders downstream.
const MaxDepth = 64

var (
	errNotObject = errors.New("record is not a JSON object")
	errTooDeep   = fmt.Errorf("JSON nests deeper than %d levels", MaxDepth)
)

// recordValue is the record's object as the client read it, or, for a record that did
// not come from the client, its Raw read here.
func recordValue(rec duoapi.Record) (jsondoc.Value, error) {
	if rec.Value.Kind() == '{' {
		return rec.Value, nil
	}
	doc, err := jsondoc.ParseString(rec.Raw)
	if err != nil {
		return jsondoc.Value{}, err
	}
	if doc.Root().Kind() != '{' {
		return jsondoc.Value{}, errNotObject
	}
	return doc.Root(), nil
}

// putMap puts the members of obj, at nesting level depth, into the empty m. Strings are
// substrings of the document's text: a page's values cost no copy each.
func putMap(m pcommon.Map, obj jsondoc.Value, depth int) error {
	if depth > MaxDepth {
		return errTooDeep
	}
	m.EnsureCapacity(obj.Len())
	for key, v := range obj.All() {
		// PutEmpty replaces the value of a repeated key: the last one wins.
		if err := putValue(m.PutEmpty(key), v, depth); err != nil {
			return err
		}
	}
	return nil
}

// putValue sets dst from v, held in a container at nesting level depth.
func putValue(dst pcommon.Value, v jsondoc.Value, depth int) error {
	switch v.Kind() {
	case '{':
		return putMap(dst.SetEmptyMap(), v, depth+1)
	case '[':
		if depth+1 > MaxDepth {
			return errTooDeep
		}
		sl := dst.SetEmptySlice()
		sl.EnsureCapacity(v.Len())
		for _, e := range v.All() {
			if err := putValue(sl.AppendEmpty(), e, depth+1); err != nil {
				return err
			}
		}
	case '"':
		dst.SetStr(v.Str())
	case 't', 'f':
		dst.SetBool(v.Kind() == 't')
	case '0':
		// ParseInt refuses a fraction or an exponent: those, and integers beyond
		// int64, are doubles.
		if n, err := strconv.ParseInt(v.Text(), 10, 64); err == nil {
			dst.SetInt(n)
			return nil
		}
		f, err := strconv.ParseFloat(v.Text(), 64)
		if err != nil {
			return fmt.Errorf("invalid JSON: number %.40s out of range", v.Text())
		}
		dst.SetDouble(f)
	}
	// null: dst stays empty.
	return nil
}

// lookupStrings calls fn for every member of the JSON object in s whose value is a
// string. It is for JSON held inside Duo's string fields (admin description, activity
// details): it reports false if s is not a well-formed JSON object.
func lookupStrings(s string, fn func(key, val string)) bool {
	doc, err := jsondoc.ParseString(s)
	if err != nil {
		return false
	}
	defer doc.Release() // the strings handed to fn stay valid
	if doc.Root().Kind() != '{' {
		return false
	}
	for key, v := range doc.Root().All() {
		if v.Kind() == '"' {
			fn(key, v.Str())
		}
	}
	return true
}
