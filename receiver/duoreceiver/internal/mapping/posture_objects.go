// Copyright The otelcol-duo Authors
// SPDX-License-Identifier: Apache-2.0

package mapping

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/otelcol-duo/otelcol-duo/receiver/duoreceiver/internal/jsondoc"
)

// The members of each inventory object the posture gauges need, read from the object's
// values with the rules of decoding into these structs with encoding/json/v2 (which the
// tests hold them to): members in order, a repeated one overwriting, null giving the
// zero value, a member of another kind an error; every other member is ignored.
type (
	userObject struct {
		Status     string  `json:"status"`
		IsEnrolled bool    `json:"is_enrolled"`
		LastLogin  *number `json:"last_login"`
		Phones     []struct {
			PhoneID   string `json:"phone_id"`
			Platform  string `json:"platform"`
			Activated bool   `json:"activated"`
		} `json:"phones"`
		Tokens []struct {
			TokenID string `json:"token_id"`
			Type    string `json:"type"`
		} `json:"tokens"`
		WebAuthn []struct{} `json:"webauthncredentials"`
	}
	bypassObject struct {
		Expiration *number `json:"expiration"`
	}
	statusObject struct {
		Status string `json:"status"`
	}
	endpointObject struct {
		OSFamily string `json:"os_family"`
		Trusted  any    `json:"trusted_endpoint"`
	}
	roleObject struct {
		Role string `json:"role"`
	}
	typeObject struct {
		Type string `json:"type"`
	}
	summaryObject struct {
		Credits *number `json:"telephony_credits_remaining"`
	}
)

// number is a JSON number or a numeric string (Duo sends both for times, docs/duo-api.md
// §1.5); null leaves the pointer nil.
type number float64

func (n *number) UnmarshalJSON(b []byte) error {
	s := strings.Trim(string(b), `"`)
	if s == "" {
		return nil
	}
	// This runs for every user's last_login: strconv first, which halves the cost of
	// decoding a user; fmt.Sscan only for what strconv refuses, so that the values read
	// stay those read before (Sscan also takes a number followed by other text).
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		if _, err := fmt.Sscan(s, &f); err != nil {
			return fmt.Errorf("not a number: %s", b)
		}
	}
	*n = number(f)
	return nil
}

var errMemberKind = errors.New("inventory object member of the wrong kind")

// anyOptions accept what the page's tokenizer accepts: repeated names (the last wins)
// and invalid UTF-8.
var anyOptions = json.JoinOptions(jsontext.AllowDuplicateNames(true), jsontext.AllowInvalidUTF8(true))

// members calls fn for each member of obj in order, stopping at the first error.
func members(obj jsondoc.Value, fn func(name string, v jsondoc.Value) error) error {
	for name, v := range obj.All() {
		if err := fn(name, v); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	return nil
}

func readString(v jsondoc.Value, dst *string) error {
	switch v.Kind() {
	case '"':
		*dst = v.Str()
	case 'n':
		*dst = ""
	default:
		return errMemberKind
	}
	return nil
}

func readBool(v jsondoc.Value, dst *bool) error {
	switch v.Kind() {
	case 't', 'f':
		*dst = v.Kind() == 't'
	case 'n':
		*dst = false
	default:
		return errMemberKind
	}
	return nil
}

func readNumber(v jsondoc.Value, dst **number) error {
	if v.Kind() == 'n' {
		*dst = nil
		return nil
	}
	n := new(number)
	if err := n.UnmarshalJSON([]byte(v.Text())); err != nil {
		return err
	}
	*dst = n
	return nil
}

// readList reads an array of objects (null elements are zero objects) with elem, which
// reads element i from its object (the zero Value for null) into the list grown to i+1.
func readList(v jsondoc.Value, grow func(n int), elem func(i int, obj jsondoc.Value) error) error {
	switch v.Kind() {
	case 'n':
		grow(-1)
		return nil
	case '[':
	default:
		return errMemberKind
	}
	grow(v.Len())
	i := 0
	for _, e := range v.All() {
		switch e.Kind() {
		case '{':
			if err := elem(i, e); err != nil {
				return err
			}
		case 'n':
		default:
			return errMemberKind
		}
		i++
	}
	return nil
}

// grower returns the grow function of readList for *s: -1 sets it to nil, n makes it n
// zero elements.
func grower[E any](s *[]E) func(n int) {
	return func(n int) {
		if n < 0 {
			*s = nil
			return
		}
		*s = make([]E, n)
	}
}

func (u *userObject) read(obj jsondoc.Value) error {
	return members(obj, func(name string, v jsondoc.Value) error {
		switch name {
		case "status":
			return readString(v, &u.Status)
		case "is_enrolled":
			return readBool(v, &u.IsEnrolled)
		case "last_login":
			return readNumber(v, &u.LastLogin)
		case "phones":
			return readList(v, grower(&u.Phones), func(i int, e jsondoc.Value) error {
				ph := &u.Phones[i]
				return members(e, func(name string, v jsondoc.Value) error {
					switch name {
					case "phone_id":
						return readString(v, &ph.PhoneID)
					case "platform":
						return readString(v, &ph.Platform)
					case "activated":
						return readBool(v, &ph.Activated)
					}
					return nil
				})
			})
		case "tokens":
			return readList(v, grower(&u.Tokens), func(i int, e jsondoc.Value) error {
				t := &u.Tokens[i]
				return members(e, func(name string, v jsondoc.Value) error {
					switch name {
					case "token_id":
						return readString(v, &t.TokenID)
					case "type":
						return readString(v, &t.Type)
					}
					return nil
				})
			})
		case "webauthncredentials":
			return readList(v, grower(&u.WebAuthn), func(int, jsondoc.Value) error { return nil })
		}
		return nil
	})
}

func (b *bypassObject) read(obj jsondoc.Value) error {
	return members(obj, func(name string, v jsondoc.Value) error {
		if name == "expiration" {
			return readNumber(v, &b.Expiration)
		}
		return nil
	})
}

func (s *statusObject) read(obj jsondoc.Value) error {
	return oneString(obj, "status", &s.Status)
}

func (r *roleObject) read(obj jsondoc.Value) error {
	return oneString(obj, "role", &r.Role)
}

func (t *typeObject) read(obj jsondoc.Value) error {
	return oneString(obj, "type", &t.Type)
}

func oneString(obj jsondoc.Value, key string, dst *string) error {
	return members(obj, func(name string, v jsondoc.Value) error {
		if name == key {
			return readString(v, dst)
		}
		return nil
	})
}

func (e *endpointObject) read(obj jsondoc.Value) error {
	return members(obj, func(name string, v jsondoc.Value) error {
		switch name {
		case "os_family":
			return readString(v, &e.OSFamily)
		case "trusted_endpoint":
			// Whatever JSON value Duo sends (docs/duo-inventory.md §1.3), decoded as
			// encoding/json/v2 decodes into an any.
			return json.Unmarshal([]byte(v.Text()), &e.Trusted, anyOptions)
		}
		return nil
	})
}

func (s *summaryObject) read(obj jsondoc.Value) error {
	return members(obj, func(name string, v jsondoc.Value) error {
		if name == "telephony_credits_remaining" {
			return readNumber(v, &s.Credits)
		}
		return nil
	})
}
