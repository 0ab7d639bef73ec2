// Copyright The otelcol-duo Authors
// SPDX-License-Identifier: Apache-2.0

package duoapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
)

// Resource names one of Duo's inventory object lists or objects (docs/duo-inventory.md
// §1.1). The value is also the receiver's config key (inventory.resources.<name>). It is a
// type of its own so that LogTypes stays the log streams only.
type Resource string

// The inventory resources this client reads.
const (
	Users           Resource = "users"
	BypassCodes     Resource = "bypass_codes"
	Groups          Resource = "groups"
	Endpoints       Resource = "endpoints"
	Policies        Resource = "policies"
	PoliciesSummary Resource = "policies_summary"
	Summary         Resource = "summary"
	Admins          Resource = "admins"
	Integrations    Resource = "integrations"
	Settings        Resource = "settings"
)

// Duo's names of the Admin API permissions the inventory needs (docs/duo-inventory.md
// §1.1, §1.6), as the Admin Panel labels them.
const (
	PermissionReadResource    = "Grant read resource"
	PermissionReadInformation = "Grant read information"
	PermissionAdministrators  = "Grant administrators"
	PermissionApplications    = "Grant applications"
	PermissionSettings        = "Grant settings"
)

// inventoryRow is an inventory endpoint: its row of the endpoint table (PagingList, or no
// paging for a single object) and the permission Duo wants for it.
type inventoryRow struct {
	Endpoint
	permission string
}

// inventory is the inventory part of the endpoint table, in Resources order. Every one is
// a GET: no inventory read may POST (POST /admin/v1/users/{id}/bypass_codes creates codes,
// docs/duo-inventory.md §1.3). Limits are the largest page each endpoint is documented to
// serve; where sources disagree (groups: 100 or 500) the smaller (§1.1).
var inventory = []inventoryRow{
	{Endpoint{Resource: Users, Path: "/admin/v1/users", Version: 1, Paging: PagingList, Limit: 300, IDKey: "user_id"}, PermissionReadResource},
	{Endpoint{Resource: BypassCodes, Path: "/admin/v1/bypass_codes", Version: 1, Paging: PagingList, Limit: 500, IDKey: "bypass_code_id"}, PermissionReadResource},
	{Endpoint{Resource: Groups, Path: "/admin/v1/groups", Version: 1, Paging: PagingList, Limit: 100, IDKey: "group_id"}, PermissionReadResource},
	{Endpoint{Resource: Endpoints, Path: "/admin/v1/endpoints", Version: 1, Paging: PagingList, Limit: 100, IDKey: "epkey"}, PermissionReadResource},
	{Endpoint{Resource: Policies, Path: "/admin/v2/policies", Version: 2, Paging: PagingList, Limit: 100, IDKey: "policy_key"}, PermissionReadResource},
	{Endpoint{Resource: PoliciesSummary, Path: "/admin/v2/policies/summary", Version: 2}, PermissionReadResource},
	{Endpoint{Resource: Summary, Path: "/admin/v1/info/summary", Version: 1}, PermissionReadInformation},
	{Endpoint{Resource: Admins, Path: "/admin/v1/admins", Version: 1, Paging: PagingList, Limit: 100, IDKey: "admin_id"}, PermissionAdministrators},
	{Endpoint{Resource: Integrations, Path: "/admin/v3/integrations", Version: 3, Paging: PagingList, Limit: 100, IDKey: "integration_key"}, PermissionApplications},
	{Endpoint{Resource: Settings, Path: "/admin/v1/settings", Version: 1}, PermissionSettings},
}

// inventoryEndpoints are the rows of inventory as plain endpoints (client budgets).
var inventoryEndpoints = column(inventory, func(row *inventoryRow) Endpoint { return row.Endpoint })

// Resources lists every inventory resource in a fixed order.
var Resources = column(inventory, func(row *inventoryRow) Resource { return row.Resource })

// rowOf returns r's row of the inventory table, or nil for an unknown resource.
func rowOf(r Resource) *inventoryRow {
	return rowWhere(inventory, func(row *inventoryRow) bool { return row.Resource == r })
}

// Endpoint returns r's row of the endpoint table; ok is false for an unknown resource.
func (r Resource) Endpoint() (ep Endpoint, ok bool) {
	if row := rowOf(r); row != nil {
		return row.Endpoint, true
	}
	return Endpoint{}, false
}

// Paged reports whether r is an offset-paged list (List) rather than one object (Get).
func (r Resource) Paged() bool {
	row := rowOf(r)
	return row != nil && row.Paging == PagingList
}

// Permission is the Duo permission r needs, as the Admin Panel names it ("" for an unknown
// resource).
func (r Resource) Permission() string {
	if row := rowOf(r); row != nil {
		return row.permission
	}
	return ""
}

// key is the endpoint's request budget and the name the Observer is given: the log type,
// or for an inventory row its resource name.
func (e *Endpoint) key() LogType {
	if e.Resource != "" {
		return LogType(e.Resource)
	}
	return e.Type
}

// ForbiddenError is Duo's 403 for an inventory resource: the Admin API application lacks
// the permission the resource needs. Other resources may still be readable.
type ForbiddenError struct {
	Resource   Resource
	Permission string
	Err        error // the *APIError
}

func (e *ForbiddenError) Error() string {
	return fmt.Sprintf("duo api: %s needs the %q permission: %v", e.Resource, e.Permission, e.Err)
}

func (e *ForbiddenError) Unwrap() error { return e.Err }

// forbidden wraps a 403 (or a 200 carrying 403xx) of row into a *ForbiddenError.
func forbidden(row *inventoryRow, err error) error {
	var apiErr *APIError
	if errors.As(err, &apiErr) && apiErr.effectiveStatus() == http.StatusForbidden {
		return &ForbiddenError{Resource: row.Resource, Permission: row.permission, Err: err}
	}
	return err
}

// List reads the object list r from its start, page by page, calling fn once per page in
// order; the last call has page.Next == nil. Records carry their object id (Record.ID, ""
// for an object that lacks it) and no time. Paging follows metadata.next_offset until it
// is absent; a page shorter than asked is not the end (Duo may return fewer,
// docs/duo-inventory.md §1.1); a next_offset that does not move forward is an error, never
// a loop. A 403 gives a *ForbiddenError. Memory: one page.
func (c *Client) List(ctx context.Context, r Resource, fn func(Page) error) error {
	row := rowOf(r)
	if row == nil || row.Paging != PagingList {
		return fmt.Errorf("duo api: %q is not an inventory list", string(r))
	}
	if fn == nil {
		return errors.New("duo api: nil page callback")
	}
	last := int64(0)
	err := c.fetchList(ctx, &row.Endpoint, func(p Page) error {
		if p.Next != nil {
			n, err := strconv.ParseInt(p.Next.Offset, 10, 64)
			if err != nil || n <= last {
				return fmt.Errorf("%w: GET %s returned next_offset %q after offset %d", errNoProgress, row.Path, p.Next.Offset, last)
			}
			last = n
		}
		return fn(p)
	})
	return forbidden(row, err)
}

// Get reads the single object r (summary, settings, policies_summary) and returns the
// response object's JSON text (a substring of the answer's, as a record's Raw is). A 403
// gives a *ForbiddenError.
func (c *Client) Get(ctx context.Context, r Resource) (string, error) {
	row := rowOf(r)
	if row == nil || row.Paging == PagingList {
		return "", fmt.Errorf("duo api: %q is not an inventory object", string(r))
	}
	var out string
	err := c.get(ctx, call{lt: row.key(), path: row.Path, params: map[string][]string{}, decode: func(body []byte) error {
		var err error
		out, err = decodeObject(row.Path, body)
		return err
	}})
	if err != nil {
		return "", forbidden(row, err)
	}
	return out, nil
}

// decodeObject returns the response member of body, which must be a JSON object.
func decodeObject(path string, body []byte) (string, error) {
	resp, err := decodeResponse(path, body, '{', false)
	if err != nil {
		return "", err
	}
	return resp.Text(), nil
}
