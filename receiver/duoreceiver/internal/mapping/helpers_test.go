// Copyright The otelcol-duo Authors
// SPDX-License-Identifier: Apache-2.0

package mapping

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-duo/otelcol-duo/receiver/duoreceiver/internal/duoapi"
)

// The log types under their duoapi names, short for the tables below.
const (
	logAuthentication    = duoapi.Authentication
	logAdministrator     = duoapi.Administrator
	logTelephony         = duoapi.Telephony
	logActivity          = duoapi.Activity
	logOfflineEnrollment = duoapi.OfflineEnrollment
	logTrustMonitor      = duoapi.TrustMonitor
)

var logTypes = duoapi.LogTypes

// pageRecords reads testdata/api/<logType>.json, a Duo response envelope, and returns its
// records as the client decodes them (Raw, Time, ID). The ID is left out: mapping tests
// that check log.record.uid set it themselves.
func pageRecords(tb testing.TB, lt duoapi.LogType) []duoapi.Record {
	tb.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "testdata", "api", string(lt)+".json"))
	require.NoError(tb, err)
	page, err := duoapi.DecodePage(lt, data)
	require.NoError(tb, err)
	require.NotEmpty(tb, page.Records)
	for i := range page.Records {
		page.Records[i].ID = ""
	}
	return page.Records
}

// appendRaw is Append for a record without an id, reporting only the error.
func appendRaw(lrs plog.LogRecordSlice, lt duoapi.LogType, raw string, eventTime, observed time.Time) error {
	_, err := Append(lrs, lt, duoapi.Record{Raw: raw, Time: eventTime}, observed)
	return err
}

// naiveBody is the obvious decoder: encoding/json into map[string]any (numbers kept as
// json.Number so integers stay integers), then pcommon.Map.FromRaw. It defines what
// putMap must produce.
func naiveBody(raw []byte, dst pcommon.Map) error {
	if !json.Valid(raw) {
		return errors.New("invalid JSON")
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return err
	}
	if m == nil {
		return errNotObject
	}
	if err := convertNumbers(m); err != nil {
		return err
	}
	return dst.FromRaw(m)
}

func convertNumbers(v any) error {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if n, ok := e.(json.Number); ok {
				c, err := numberValue(n)
				if err != nil {
					return err
				}
				x[k] = c
				continue
			}
			if err := convertNumbers(e); err != nil {
				return err
			}
		}
	case []any:
		for i, e := range x {
			if n, ok := e.(json.Number); ok {
				c, err := numberValue(n)
				if err != nil {
					return err
				}
				x[i] = c
				continue
			}
			if err := convertNumbers(e); err != nil {
				return err
			}
		}
	}
	return nil
}

func numberValue(n json.Number) (any, error) {
	if i, err := n.Int64(); err == nil {
		return i, nil
	}
	f, err := n.Float64()
	if err != nil {
		return nil, err
	}
	return f, nil
}

// naiveAppend is Append with naiveBody in place of putMap: same attributes, same
// severity, read from the body it built.
func naiveAppend(lrs plog.LogRecordSlice, lt duoapi.LogType, raw string, eventTime, observed time.Time) error {
	tm, ok := types[lt]
	if !ok {
		return fmt.Errorf("unknown log type %q", lt)
	}
	lr := lrs.AppendEmpty()
	body := lr.Body().SetEmptyMap()
	if err := naiveBody([]byte(raw), body); err != nil {
		removeLast(lrs)
		return err
	}
	finish(lr, tm, tm.onMap, pmap{body}, duoapi.Record{Raw: raw, Time: eventTime}, observed)
	return nil
}

// encodeValue writes v as JSON, keeping Double values recognisable as such (1.0, not 1),
// so that decoding the output gives back exactly v.
func encodeValue(b []byte, v pcommon.Value) []byte {
	switch v.Type() {
	case pcommon.ValueTypeStr:
		s, _ := json.Marshal(v.Str())
		return append(b, s...)
	case pcommon.ValueTypeInt:
		return strconv.AppendInt(b, v.Int(), 10)
	case pcommon.ValueTypeDouble:
		f := v.Double()
		if math.IsInf(f, 0) || math.IsNaN(f) {
			panic("non-finite double in a decoded body")
		}
		s := strconv.FormatFloat(f, 'g', -1, 64)
		if !bytes.ContainsAny([]byte(s), ".e") {
			s += ".0"
		}
		return append(b, s...)
	case pcommon.ValueTypeBool:
		return strconv.AppendBool(b, v.Bool())
	case pcommon.ValueTypeMap:
		b = append(b, '{')
		first := true
		for k, e := range v.Map().All() {
			if !first {
				b = append(b, ',')
			}
			first = false
			ks, _ := json.Marshal(k)
			b = append(append(b, ks...), ':')
			b = encodeValue(b, e)
		}
		return append(b, '}')
	case pcommon.ValueTypeSlice:
		b = append(b, '[')
		for i, e := range v.Slice().All() {
			if i > 0 {
				b = append(b, ',')
			}
			b = encodeValue(b, e)
		}
		return append(b, ']')
	default:
		return append(b, "null"...)
	}
}

func encodeMap(m pcommon.Map) []byte {
	v := pcommon.NewValueMap()
	m.CopyTo(v.Map())
	return encodeValue(nil, v)
}
