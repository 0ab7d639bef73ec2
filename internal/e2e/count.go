// Copyright The otelcol-duo Authors
// SPDX-License-Identifier: Apache-2.0

package e2e

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-duo/otelcol-duo/internal/duosim"
	"github.com/otelcol-duo/otelcol-duo/internal/otlptest"
)

// Key identifies one event for counting: its log type and either its id (v2 and Trust
// Monitor types) or its canonical JSON (v1 types, which carry no id; identical twins share
// a key and are counted as a multiset).
type Key struct {
	LogType string
	ID      string
}

func (k Key) String() string {
	id := k.ID
	if len(id) > 120 {
		id = id[:120] + "..."
	}
	return k.LogType + " " + id
}

// Counts is a multiset of events.
type Counts map[Key]int

// Total returns the number of events, duplicates included.
func (c Counts) Total() int {
	n := 0
	for _, v := range c {
		n += v
	}
	return n
}

// ByLogType returns the number of events per log type.
func (c Counts) ByLogType() map[string]int {
	out := map[string]int{}
	for k, v := range c {
		out[k.LogType] += v
	}
	return out
}

// idField is the record field that identifies an event of each log type with an id
// (docs/duo-api.md §3.1, §3.3, §3.4, §3.6). The v1 types (administrator, offline_enrollment) have none.
var idField = map[string]string{
	"authentication": "txid",
	"telephony":      "telephony_id",
	"activity":       "activity_id",
	"trust_monitor":  "sekey",
}

// Expected counts every event the simulator made for the given log types (all six when
// none are given), visible or not.
func Expected(sim *duosim.Sim, lts ...string) (Counts, error) {
	if len(lts) == 0 {
		lts = duosim.LogTypes()
	}
	out := Counts{}
	for _, lt := range lts {
		for _, ev := range sim.Events(lt) {
			k, err := keyOfRaw(lt, ev.ID, ev.Raw)
			if err != nil {
				return nil, err
			}
			out[k]++
		}
	}
	return out, nil
}

func keyOfRaw(lt, id string, raw []byte) (Key, error) {
	if _, ok := idField[lt]; ok {
		return Key{LogType: lt, ID: id}, nil
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return Key{}, fmt.Errorf("simulator %s event is not JSON: %w", lt, err)
	}
	c, err := canonical(v)
	if err != nil {
		return Key{}, err
	}
	return Key{LogType: lt, ID: c}, nil
}

// canonical renders v (decoded JSON, or pcommon's AsRaw of it) as JSON with sorted keys
// and every number as float64, so that a record and its OTLP body compare equal whatever
// number types the receiver chose.
func canonical(v any) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	var norm any
	if err := json.Unmarshal(b, &norm); err != nil {
		return "", err
	}
	b, err = json.Marshal(norm)
	return string(b), err
}

// Received counts the log records in ld. A record's log type comes from its EventName
// ("duo.<log_type>"); its identity from the body (a map, or a JSON string), as Key
// describes. Records it cannot identify are counted under LogType "?" with the reason.
func Received(ld plog.Logs) Counts {
	out := Counts{}
	for lr := range otlptest.LogRecords(ld) {
		out[keyOfRecord(lr)]++
	}
	return out
}

func keyOfRecord(lr plog.LogRecord) Key {
	lt, ok := strings.CutPrefix(lr.EventName(), "duo.")
	if !ok {
		return Key{LogType: "?", ID: "no duo.* event name: " + lr.EventName()}
	}
	var body any
	switch lr.Body().Type() {
	case pcommon.ValueTypeMap:
		body = lr.Body().Map().AsRaw()
	case pcommon.ValueTypeStr:
		if err := json.Unmarshal([]byte(lr.Body().Str()), &body); err != nil {
			return Key{LogType: "?", ID: lt + " body is not JSON: " + lr.Body().Str()}
		}
	default:
		return Key{LogType: "?", ID: lt + " body type " + lr.Body().Type().String()}
	}
	if f, ok := idField[lt]; ok {
		m, _ := body.(map[string]any)
		id, ok := m[f].(string)
		if !ok {
			return Key{LogType: "?", ID: fmt.Sprintf("%s body has no string %s", lt, f)}
		}
		return Key{LogType: lt, ID: id}
	}
	c, err := canonical(body)
	if err != nil {
		return Key{LogType: "?", ID: lt + " " + err.Error()}
	}
	return Key{LogType: lt, ID: c}
}

// Delivery compares what was expected with what was received.
type Delivery struct {
	Expected, Received int
	// Missing: expected more times than received (count = how many short).
	Missing Counts
	// Duplicated: expected, received more times than expected (count = how many extra).
	Duplicated Counts
	// Unexpected: received, never expected.
	Unexpected Counts
}

// Compare returns the difference between want and got.
func Compare(want, got Counts) Delivery {
	d := Delivery{
		Expected: want.Total(), Received: got.Total(),
		Missing: Counts{}, Duplicated: Counts{}, Unexpected: Counts{},
	}
	for k, w := range want {
		g := got[k]
		switch {
		case g < w:
			d.Missing[k] = w - g
		case g > w:
			d.Duplicated[k] = g - w
		}
	}
	for k, g := range got {
		if _, ok := want[k]; !ok {
			d.Unexpected[k] = g
		}
	}
	return d
}

// Exact reports whether every expected event arrived exactly once and nothing else did.
func (d Delivery) Exact() bool {
	return len(d.Missing) == 0 && len(d.Duplicated) == 0 && len(d.Unexpected) == 0
}

// String summarises the delivery, with up to five examples of each kind of difference.
func (d Delivery) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "expected %d, received %d; missing %d, duplicated %d, unexpected %d",
		d.Expected, d.Received, d.Missing.Total(), d.Duplicated.Total(), d.Unexpected.Total())
	for _, part := range []struct {
		name string
		c    Counts
	}{{"missing", d.Missing}, {"duplicated", d.Duplicated}, {"unexpected", d.Unexpected}} {
		if len(part.c) == 0 {
			continue
		}
		fmt.Fprintf(&b, "\n  %s by log type: %v", part.name, part.c.ByLogType())
		keys := make([]Key, 0, len(part.c))
		for k := range part.c {
			keys = append(keys, k)
		}
		sort.Slice(keys, func(i, j int) bool { return keys[i].String() < keys[j].String() })
		for i, k := range keys {
			if i == 5 {
				fmt.Fprintf(&b, "\n    ... %d more", len(keys)-5)
				break
			}
			fmt.Fprintf(&b, "\n    %dx %s", part.c[k], k)
		}
	}
	return b.String()
}

// SinkDelivery reads everything the sink stored and compares it with the simulator's
// events of the given log types.
func SinkDelivery(sim *SimServer, sink *SinkServer, lts ...string) (Delivery, error) {
	want, err := Expected(sim.Sim, lts...)
	if err != nil {
		return Delivery{}, err
	}
	ld, err := sink.Logs()
	if err != nil {
		return Delivery{}, err
	}
	return Compare(want, Received(ld)), nil
}

func itoa(n int) string { return fmt.Sprint(n) }
