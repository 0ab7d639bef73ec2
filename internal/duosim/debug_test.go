// Copyright The otelcol-duo Authors
// SPDX-License-Identifier: Apache-2.0

package duosim

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

func debugDo(t *testing.T, h http.Handler, method, target string, body any) (int, []byte) {
	t.Helper()
	var rd *bytes.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	} else {
		rd = bytes.NewReader(nil)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(method, target, rd))
	return rec.Code, rec.Body.Bytes()
}

func TestDebugHandler(t *testing.T) {
	kids := ChildAccounts(30, 0, 3)
	s := New(Config{Now: fixedClock(t0), Children: kids[:1]})
	h := s.DebugHandler()

	code, body := debugDo(t, h, http.MethodGet, DebugPrefix+"counts?inactive_after=240h&now=2026-03-11T12:00:00Z", nil)
	if code != 200 {
		t.Fatalf("counts: %d %s", code, body)
	}
	var got struct {
		UsersTotal int `json:"users_total"`
		Inactive   []struct {
			Attributes map[string]string `json:"attributes"`
			Count      int               `json:"count"`
		} `json:"users_inactive"`
		Codes    int `json:"bypass_codes_active"`
		Policies int `json:"policies"`
	}
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatal(err)
	}
	want := s.InventoryCounts(240*time.Hour, time.Date(2026, 3, 11, 12, 0, 0, 0, time.UTC))
	if got.UsersTotal != want.UsersTotal || got.Codes != want.ActiveBypassCodes || got.Policies != want.Policies {
		t.Fatalf("counts %+v, want %+v", got, want)
	}
	for _, r := range got.Inactive {
		if want.InactiveUsers[r.Attributes["duo.user.status"]] != r.Count {
			t.Fatalf("inactive %v = %d, want %d", r.Attributes, r.Count, want.InactiveUsers[r.Attributes["duo.user.status"]])
		}
	}
	if code, _ := debugDo(t, h, http.MethodGet, DebugPrefix+"counts?account_id="+kids[0].AccountID, nil); code != 200 {
		t.Fatalf("child counts: %d", code)
	}
	if code, _ := debugDo(t, h, http.MethodGet, DebugPrefix+"counts?account_id=nope", nil); code != 404 {
		t.Fatalf("unknown account counts: %d", code)
	}
	if code, _ := debugDo(t, h, http.MethodGet, DebugPrefix+"counts?inactive_after=soon", nil); code != 400 {
		t.Fatalf("bad inactive_after: %d", code)
	}

	list := func(code int, body []byte) []ChildAccount {
		t.Helper()
		if code != 200 {
			t.Fatalf("children: %d %s", code, body)
		}
		var cs []ChildAccount
		if err := json.Unmarshal(body, &cs); err != nil {
			t.Fatal(err)
		}
		return cs
	}
	refusing := kids[1]
	refusing.Refuse = map[string]int{"telephony": 40401}
	if cs := list(debugDo(t, h, http.MethodPut, DebugPrefix+"children", []ChildAccount{kids[0], refusing})); len(cs) != 2 || cs[1].Refuse["telephony"] != 40401 {
		t.Fatalf("after PUT: %+v", cs)
	}
	if cs := list(debugDo(t, h, http.MethodPost, DebugPrefix+"children", kids[2])); len(cs) != 3 || cs[2].AccountID != kids[2].AccountID {
		t.Fatalf("after POST: %+v", cs)
	}
	if cs := list(debugDo(t, h, http.MethodDelete, DebugPrefix+"children?account_id="+kids[0].AccountID, nil)); len(cs) != 2 {
		t.Fatalf("after DELETE: %+v", cs)
	}
	if code, _ := debugDo(t, h, http.MethodDelete, DebugPrefix+"children?account_id="+kids[0].AccountID, nil); code != 404 {
		t.Fatalf("DELETE twice: %d", code)
	}
	if code, _ := debugDo(t, h, http.MethodPut, DebugPrefix+"children", []ChildAccount{{AccountID: "x"}}); code != 400 {
		t.Fatalf("PUT invalid child: %d", code)
	}
	if cs := list(debugDo(t, h, http.MethodGet, DebugPrefix+"children", nil)); len(cs) != 2 || len(s.Children()) != 2 {
		t.Fatalf("GET children: %+v", cs)
	}

	do(t, s, defaultSigner(), t0, "/admin/v1/users", nil)
	code, body = debugDo(t, h, http.MethodGet, DebugPrefix+"stats", nil)
	var st Stats
	if err := json.Unmarshal(body, &st); err != nil || code != 200 || st.Requests["/admin/v1/users"][200] != 1 {
		t.Fatalf("stats: %d %v %s", code, err, body)
	}
}
