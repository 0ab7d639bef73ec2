// Copyright The otelcol-duo Authors
// SPDX-License-Identifier: Apache-2.0

package duoreceiver

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/open-telemetry/opentelemetry-collector-contrib/extension/storage/storagetest"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/metric/metricdata/metricdatatest"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/otelcol-duo/otelcol-duo/receiver/duoreceiver/internal/duoapi"
	"github.com/otelcol-duo/otelcol-duo/receiver/duoreceiver/internal/mapping"
	"github.com/otelcol-duo/otelcol-duo/receiver/duoreceiver/internal/metadatatest"
)

// hostileDuo serves /admin/v2/logs/authentication from a list of raw elements, each with
// the time the server files it under: every element whose time is in [mintime, maxtime]
// in one page, in time order. It checks no signature: the records are the point.
type hostileDuo struct {
	mu    sync.Mutex
	elems []hostileElem
}

type hostileElem struct {
	t   time.Time
	raw string
}

func (d *hostileDuo) add(t time.Time, raw string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.elems = append(d.elems, hostileElem{t: t, raw: raw})
	sort.SliceStable(d.elems, func(i, j int) bool { return d.elems[i].t.Before(d.elems[j].t) })
}

func (d *hostileDuo) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/admin/v2/logs/authentication" {
		http.NotFound(w, r)
		return
	}
	minMs, err1 := strconv.ParseInt(r.URL.Query().Get("mintime"), 10, 64)
	maxMs, err2 := strconv.ParseInt(r.URL.Query().Get("maxtime"), 10, 64)
	if err1 != nil || err2 != nil {
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte(`{"stat":"FAIL","code":40002,"message":"Invalid request parameters"}`))
		return
	}
	d.mu.Lock()
	var parts []string
	for _, e := range d.elems {
		if ms := e.t.UnixMilli(); ms >= minMs && ms <= maxMs {
			parts = append(parts, e.raw)
		}
	}
	d.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_, _ = fmt.Fprintf(w, `{"stat":"OK","response":{"authlogs":[%s],"metadata":{}}}`, strings.Join(parts, ","))
}

// authRecord renders a well-formed authentication record at t with extra members.
func authRecord(txid string, t time.Time, extra string) string {
	if extra != "" {
		extra = "," + extra
	}
	return fmt.Sprintf(`{"txid":%q,"timestamp":%d,"isotimestamp":%q,"result":"success"%s}`,
		txid, t.Unix(), t.UTC().Format("2006-01-02T15:04:05.000000+00:00"), extra)
}

// TestHostileRecords serves, among good records, records that are hostile or odd: a 1.5 MB
// string, nesting deeper than the mapper's cap, wrong member types, unknown members,
// bytes that are not UTF-8, a record without a usable time, and list elements that are
// not objects. Each becomes a log record (the deep one with its JSON text as the body,
// counted and logged) or a counted, logged drop; the cursor moves past them and a later
// good record still arrives. Both body modes: with body: json every body is the record's
// JSON text and none is counted as a raw body.
func TestHostileRecords(t *testing.T) {
	for _, body := range []string{BodyMap, BodyJSON} {
		t.Run(body, func(t *testing.T) { testHostileRecords(t, body) })
	}
}

func testHostileRecords(t *testing.T, body string) {
	duo := &hostileDuo{}
	srv := httptest.NewServer(duo)
	t.Cleanup(srv.Close)

	now := time.Now()
	at := func(min int) time.Time { return now.Add(time.Duration(min) * time.Minute) }
	huge := strings.Repeat("A", 1536<<10)
	deep := strings.Repeat("[", mapping.MaxDepth+40) + strings.Repeat("]", mapping.MaxDepth+40)
	duo.add(at(-50), authRecord("good-1", at(-50), ""))
	duo.add(at(-45), authRecord("huge", at(-45), `"reason":"`+huge+`"`))
	duo.add(at(-44), authRecord("deep", at(-44), `"access_device":`+deep))
	duo.add(at(-43), fmt.Sprintf(`{"txid":777,"timestamp":"yesterday","isotimestamp":%q,"user":"not an object","access_device":[1,2],"result":true,"factor":{"x":null}}`,
		at(-43).UTC().Format(time.RFC3339Nano)))
	duo.add(at(-42), authRecord("unknown", at(-42), `"brand_new_member":{"nested":[1,{"a":"b"}]},"another":null`))
	duo.add(at(-41), authRecord("latin1", at(-41), "\"reason\":\"caf\xe9 \xff\xfe\""))
	duo.add(at(-40), `{"txid":"no-time","timestamp":"soon","isotimestamp":{"not":"a time"}}`)
	for i, v := range []string{`42`, `"a string"`, `[1,2,3]`, `null`, `true`} {
		duo.add(at(-39).Add(time.Duration(i)*time.Second), v)
	}
	duo.add(at(-30), authRecord("good-2", at(-30), ""))

	cfg := createDefaultConfig().(*Config)
	cfg.Endpoint = srv.URL
	cfg.APIHostname = "api-hostile.duosecurity.com"
	cfg.IntegrationKey = "DIHOSTILE00000000001"
	cfg.SecretKey = "hostilesecretkey000000000000000000000000"
	cfg.Delay = time.Second
	cfg.InitialLookback = time.Hour
	cfg.RateLimit = 0
	cfg.Body = body
	cfg.Logs = LogsConfig{Authentication: LogTypeConfig{Enabled: true, PullInterval: 100 * time.Millisecond, Window: 2 * time.Second}}
	require.NoError(t, cfg.Validate())

	tt := componenttest.NewTelemetry()
	t.Cleanup(func() { require.NoError(t, tt.Shutdown(context.Background())) })
	set := metadatatest.NewSettings(tt)
	core, logs := observer.New(zap.InfoLevel)
	set.Logger = zap.New(core)
	h := &harness{
		t: t, set: set, cfg: cfg,
		host: &statusHost{StorageHost: storagetest.NewStorageHost().WithFileBackedStorageExtension("state", t.TempDir())},
	}
	cfg.StorageID = ptr(storagetest.NewStorageID("state"))

	sink := &consumertest.LogsSink{}
	r, err := newDuoLogsReceiver(set, cfg, sink)
	require.NoError(t, err)
	require.NoError(t, r.Start(context.Background(), h.host))
	t.Cleanup(func() { _ = r.Shutdown(context.Background()) })

	byID := func() map[string]plog.LogRecord {
		out := map[string]plog.LogRecord{}
		for _, ld := range sink.AllLogs() {
			lrs := ld.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords()
			for i := 0; i < lrs.Len(); i++ {
				lr := lrs.At(i)
				id, _ := lr.Attributes().Get("log.record.uid")
				out[id.AsString()] = lr
			}
		}
		return out
	}
	require.Eventually(t, func() bool {
		_, ok := byID()["good-2"]
		return ok
	}, 10*time.Second, 20*time.Millisecond, "the good record after the hostile ones did not arrive")

	// A later good record arrives: nothing is stuck.
	duo.add(time.Now(), authRecord("good-3", time.Now(), ""))
	require.Eventually(t, func() bool {
		_, ok := byID()["good-3"]
		return ok
	}, 10*time.Second, 20*time.Millisecond, "a record after the hostile page did not arrive")
	require.NoError(t, r.Shutdown(context.Background()))

	got := byID()
	for _, id := range []string{"good-1", "huge", "deep", "777", "unknown", "latin1", "no-time", "good-2", "good-3"} {
		require.Contains(t, got, id, "record %s was not delivered", id)
	}
	require.Equal(t, authRecord("deep", at(-44), `"access_device":`+deep), got["deep"].Body().Str(),
		"a record nested beyond MaxDepth keeps its JSON text as the body")
	if body == BodyJSON {
		require.Equal(t, authRecord("huge", at(-45), `"reason":"`+huge+`"`), got["huge"].Body().Str(), "the 1.5 MB string was not delivered whole")
		require.Equal(t, authRecord("unknown", at(-42), `"brand_new_member":{"nested":[1,{"a":"b"}]},"another":null`), got["unknown"].Body().Str())
		require.Equal(t, authRecord("latin1", at(-41), "\"reason\":\"caf\uFFFD \uFFFD\uFFFD\""), got["latin1"].Body().Str(),
			"each byte that is not UTF-8 must become U+FFFD")
	} else {
		reason, _ := got["huge"].Body().Map().Get("reason")
		require.Len(t, reason.Str(), len(huge), "the 1.5 MB string was not delivered whole")
		unknown, ok := got["unknown"].Body().Map().Get("brand_new_member")
		require.True(t, ok, "an unknown member was dropped")
		require.Equal(t, pcommon.ValueTypeMap, unknown.Type())
		latin1, _ := got["latin1"].Body().Map().Get("reason")
		require.Equal(t, "caf\uFFFD \uFFFD\uFFFD", latin1.Str(), "bytes that are not UTF-8 must become U+FFFD")
	}
	require.Equal(t, 9, sink.LogRecordCount(), "every record above exactly once")
	noTime := got["no-time"]
	require.NotZero(t, noTime.ObservedTimestamp())
	require.Equal(t, noTime.ObservedTimestamp(), noTime.Timestamp(), "a record without a readable time is stamped with the observed time")

	// The five non-objects are counted as dropped, the deep record as delivered with a
	// raw body; both are logged.
	authSet := attribute.NewSet(attribute.String(attrLogType, string(duoapi.Authentication)))
	metadatatest.AssertEqualDuoReceiverRecordsUndecodable(t, tt, []metricdata.DataPoint[int64]{
		{Attributes: authSet, Value: 5},
	}, metricdatatest.IgnoreTimestamp(), metricdatatest.IgnoreExemplars())
	require.Empty(t, logs.FilterMessage("dropping a record that cannot be decoded").All())
	raw := logs.FilterMessage("record nests too deeply for a structured body, delivered it as a JSON string").All()
	if body == BodyJSON {
		require.Empty(t, raw)
		_, counted := tt.GetMetric("otelcol_duo_receiver_records_raw_body")
		require.Error(t, counted, "with body: json no record is counted as a raw body")
	} else {
		metadatatest.AssertEqualDuoReceiverRecordsRawBody(t, tt, []metricdata.DataPoint[int64]{
			{Attributes: authSet, Value: 1},
		}, metricdatatest.IgnoreTimestamp(), metricdatatest.IgnoreExemplars())
		require.Len(t, raw, 1)
		require.Equal(t, "deep", raw[0].ContextMap()["id"])
	}
	skips := logs.FilterMessage("duo log page held elements that are not objects, skipped them").All()
	require.NotEmpty(t, skips, "the elements that are not objects were not logged")
	require.EqualValues(t, 5, skips[0].ContextMap()["skipped"])

	// The cursor is past everything served.
	st := h.stored(duoapi.Authentication)
	require.NotNil(t, st)
	require.Nil(t, st.window, "a window is still in progress")
	require.True(t, st.cursor.After(at(-30)), "cursor %s did not move past the hostile records", st.cursor)
}
