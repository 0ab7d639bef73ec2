// Copyright The otelcol-duo Authors
// SPDX-License-Identifier: Apache-2.0

package duosim

import (
	"cmp"
	"encoding/json"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"time"
)

// DebugPrefix is where cmd/duosim mounts DebugHandler. Duo serves nothing
// under it.
const DebugPrefix = "/_duosim/"

// DebugHandler serves the simulator's own view, without signatures, for
// demos and for tests that run the simulator as a separate process:
//
//	GET    /_duosim/stats                       Stats
//	GET    /_duosim/counts?account_id=&inactive_after=720h&now=<RFC 3339>
//	                                            true inventory counts
//	GET    /_duosim/children                    the child list
//	PUT    /_duosim/children                    replace it (JSON array)
//	POST   /_duosim/children                    add or update one (JSON object)
//	DELETE /_duosim/children?account_id=ID      take one off the list
func (s *Sim) DebugHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+DebugPrefix+"stats", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, s.Stats())
	})
	mux.HandleFunc("GET "+DebugPrefix+"counts", s.debugCounts)
	mux.HandleFunc("GET "+DebugPrefix+"children", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, s.Children())
	})
	mux.HandleFunc("PUT "+DebugPrefix+"children", changeChildren(s, s.SetChildren))
	mux.HandleFunc("POST "+DebugPrefix+"children", changeChildren(s, s.AddChild))
	mux.HandleFunc("DELETE "+DebugPrefix+"children", func(w http.ResponseWriter, r *http.Request) {
		if !s.RemoveChild(r.URL.Query().Get("account_id")) {
			http.Error(w, "no such child on the list", http.StatusNotFound)
			return
		}
		writeJSON(w, http.StatusOK, s.Children())
	})
	return mux
}

// changeChildren is a handler that decodes its JSON body as a T, hands it to change and
// answers the child list as it then stands; a body that does not decode or that change
// refuses is a 400.
func changeChildren[T any](s *Sim, change func(T) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var v T
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody)).Decode(&v); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if err := change(v); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		writeJSON(w, http.StatusOK, s.Children())
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

func (s *Sim) debugCounts(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	a := s.Account(q.Get("account_id"))
	if a == nil {
		http.Error(w, "unknown account_id", http.StatusNotFound)
		return
	}
	inactive := 720 * time.Hour
	if v := q.Get("inactive_after"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			http.Error(w, "inactive_after: "+err.Error(), http.StatusBadRequest)
			return
		}
		inactive = d
	}
	now := s.now()
	if v := q.Get("now"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			http.Error(w, "now: "+err.Error(), http.StatusBadRequest)
			return
		}
		now = t
	}
	writeJSON(w, http.StatusOK, countsJSON(a.InventoryCounts(inactive, now), inactive, now))
}

// countRow is one cell of a count broken down by attributes.
type countRow struct {
	Attributes map[string]string `json:"attributes"`
	Count      int               `json:"count"`
}

func rows[K comparable](m map[K]int, attrs func(K) map[string]string) []countRow {
	out := make([]countRow, 0, len(m))
	for k, v := range m {
		out = append(out, countRow{Attributes: attrs(k), Count: v})
	}
	slices.SortFunc(out, func(a, b countRow) int {
		return cmp.Compare(keyString(a.Attributes), keyString(b.Attributes))
	})
	return out
}

func keyString(m map[string]string) string {
	s := ""
	for _, k := range slices.Sorted(maps.Keys(m)) {
		s += k + "=" + m[k] + ";"
	}
	return s
}

func one(name string) func(string) map[string]string {
	return func(v string) map[string]string { return map[string]string{name: v} }
}

// countsJSON is the JSON form of InventoryCounts; attribute names are the
// receiver's metric attributes, values Duo's.
func countsJSON(c InventoryCounts, inactive time.Duration, now time.Time) map[string]any {
	return map[string]any{
		"inactive_after": inactive.String(),
		"now":            now.UTC().Format(time.RFC3339),
		"users": rows(c.Users, func(k UserKey) map[string]string {
			return map[string]string{"duo.user.status": k.Status, "duo.user.enrolled": strconv.FormatBool(k.Enrolled)}
		}),
		"users_total":         c.UsersTotal,
		"users_inactive":      rows(c.InactiveUsers, one("duo.user.status")),
		"bypass_codes":        c.BypassCodes,
		"bypass_codes_active": c.ActiveBypassCodes,
		"phones": rows(c.Phones, func(k PhoneKey) map[string]string {
			return map[string]string{"duo.phone.platform": k.Platform, "duo.phone.activated": strconv.FormatBool(k.Activated)}
		}),
		"phones_embedded":      c.EmbeddedPhones,
		"groups":               rows(c.Groups, one("duo.group.status")),
		"telephony_credits":    c.TelephonyCredits,
		"tokens":               rows(c.Tokens, one("duo.token.type")),
		"webauthn_credentials": c.WebAuthnCredentials,
		"endpoints": rows(c.Endpoints, func(k EndpointKey) map[string]string {
			return map[string]string{"duo.endpoint.os_family": k.OSFamily, "duo.endpoint.trusted": k.Trusted}
		}),
		"admins":                      rows(c.Admins, one("duo.admin.role")),
		"integrations":                rows(c.Integrations, one("duo.integration.type")),
		"policies":                    c.Policies,
		"user_count":                  c.UserCount,
		"user_pending_deletion_count": c.UserPendingDeletionCount,
	}
}
