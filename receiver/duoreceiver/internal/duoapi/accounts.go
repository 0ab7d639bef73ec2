// Copyright The otelcol-duo Authors
// SPDX-License-Identifier: Apache-2.0

package duoapi

import (
	"context"
	"encoding/json"
	"fmt"
)

// accountListPath lists a parent's child accounts (docs/duo-api.md §3.9). It is the only
// POST the client sends.
const accountListPath = "/accounts/v1/account/list"

// Account is a child account as the Accounts API lists it.
type Account struct {
	// ID is the account_id (20 characters), the parameter that reads the child.
	ID string `json:"account_id"`
	// Name is the child's name.
	Name string `json:"name"`
	// APIHostname is the child's API hostname, where its requests go and what they are
	// signed for. Duo staff say it never changes (docs/duo-inventory.md §2).
	APIHostname string `json:"api_hostname"`
}

// ListAccounts lists the parent's child accounts: POST /accounts/v1/account/list on the
// parent's host with the Accounts API application's keys, no parameters, not paged
// (docs/duo-inventory.md §2). Under v5 signing the parameters go in a JSON body (here
// "{}", what duo_client_python sends) bound by line 6; under v2 in an empty form body
// (docs/duo-api.md §1.2, §2.2). It counts against the budget of requests that read no
// log stream.
func (c *Client) ListAccounts(ctx context.Context) ([]Account, error) {
	pb := &postBody{body: []byte("{}"), contentType: "application/json"}
	if c.signing != SigningV5 {
		pb = &postBody{contentType: "application/x-www-form-urlencoded", signParams: true}
	}
	var out []Account
	err := c.get(ctx, call{lt: "", path: accountListPath, params: map[string][]string{}, post: pb,
		decode: func(body []byte) error {
			var err error
			out, err = decodeAccounts(body)
			return err
		}})
	return out, err
}

func decodeAccounts(body []byte) ([]Account, error) {
	resp, err := decodeResponse(accountListPath, body, '[', false)
	if err != nil {
		return nil, err
	}
	var out []Account
	if err := json.Unmarshal([]byte(resp.Text()), &out); err != nil {
		return nil, &decodeError{path: accountListPath, msg: fmt.Sprintf("child list: %v", err)}
	}
	for i, a := range out {
		if a.ID == "" || a.APIHostname == "" {
			return nil, &decodeError{path: accountListPath, msg: fmt.Sprintf("child %d has no account_id or api_hostname", i)}
		}
	}
	return out, nil
}
