// Copyright The otelcol-duo Authors
// SPDX-License-Identifier: Apache-2.0

package duoapi

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// signingVector is one entry of testdata/signing-vectors.json (docs/duo-api.md §2.4).
type signingVector struct {
	ID                      string              `json:"id"`
	Kind                    string              `json:"kind"`
	Digest                  string              `json:"digest"`
	IKey                    string              `json:"ikey"`
	SKey                    string              `json:"skey"`
	Date                    string              `json:"date"`
	Method                  string              `json:"method"`
	Host                    string              `json:"host"`
	Path                    string              `json:"path"`
	Params                  map[string][]string `json:"params"`
	Body                    *string             `json:"body"`
	XDuoHeaders             map[string]string   `json:"x_duo_headers"`
	XDuoHeadersSigned       map[string]string   `json:"x_duo_headers_signed"`
	Input                   string              `json:"input"`
	ExpectedCanonicalParams *string             `json:"expected_canonical_params"`
	ExpectedCanonical       string              `json:"expected_canonical"`
	ExpectedCanonicalLines  map[string]string   `json:"expected_canonical_lines"`
	ExpectedSignatureHex    string              `json:"expected_signature_hex"`
	ExpectedAuthorization   string              `json:"expected_authorization"`
	ExpectedXDuoSHA512      string              `json:"expected_x_duo_headers_sha512"`
	ExpectedSHA512Hex       string              `json:"expected_sha512_hex"`
}

func (v signingVector) request() request {
	r := request{date: v.Date, method: v.Method, host: v.Host, path: v.Path, params: v.Params, xDuo: v.XDuoHeaders}
	if v.XDuoHeadersSigned != nil {
		r.xDuo = v.XDuoHeadersSigned
	}
	if v.Body != nil {
		r.body = []byte(*v.Body)
	}
	return r
}

func loadVectors(t *testing.T) []signingVector {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "signing-vectors.json"))
	require.NoError(t, err)
	var vs []signingVector
	require.NoError(t, json.Unmarshal(data, &vs))
	return vs
}

// TestSigningVectors checks every vector of every kind and fails if a kind is missing or
// unknown, so no vector is silently skipped.
func TestSigningVectors(t *testing.T) {
	vectors := loadVectors(t)
	checked := map[string]int{}
	for _, v := range vectors {
		t.Run(v.ID, func(t *testing.T) {
			r := v.request()
			switch v.Kind {
			case "canonical_params":
				require.NotNil(t, v.ExpectedCanonicalParams)
				assert.Equal(t, *v.ExpectedCanonicalParams, canonParams(v.Params))
			case "v2_canonical":
				got, _, err := SigningV2SHA1.canonical(r)
				require.NoError(t, err)
				if v.ExpectedCanonical != "" {
					assert.Equal(t, v.ExpectedCanonical, got)
				} else {
					require.Len(t, v.ExpectedCanonicalLines, 5)
					want := strings.Join([]string{
						v.ExpectedCanonicalLines["line1_date"], v.ExpectedCanonicalLines["line2_method"],
						v.ExpectedCanonicalLines["line3_host"], v.ExpectedCanonicalLines["line4_path"],
						v.ExpectedCanonicalLines["line5_params"],
					}, "\n")
					assert.Equal(t, want, got)
				}
			case "v2_signature", "v2_canonical_hmac_sha512_signature":
				s := SigningV2SHA512
				if v.Digest == "HMAC-SHA1" {
					s = SigningV2SHA1
				}
				require.Contains(t, []string{"HMAC-SHA1", "HMAC-SHA512"}, v.Digest)
				checkSignature(t, s, v, r)
			case "v5_canonical":
				got, _, err := SigningV5.canonical(r)
				require.NoError(t, err)
				assert.Equal(t, v.ExpectedCanonical, got)
				if v.ExpectedXDuoSHA512 != "" {
					h, err := canonXDuoHeaders(v.XDuoHeaders)
					require.NoError(t, err)
					assert.Equal(t, v.ExpectedXDuoSHA512, h)
				}
			case "v5_signature":
				require.Equal(t, "HMAC-SHA512", v.Digest)
				checkSignature(t, SigningV5, v, r)
			case "sha512_hex":
				assert.Equal(t, v.ExpectedSHA512Hex, sha512Hex([]byte(v.Input)))
			case "x_duo_headers_sha512":
				h, err := canonXDuoHeaders(v.XDuoHeaders)
				require.NoError(t, err)
				assert.Equal(t, v.ExpectedSHA512Hex, h)
			default:
				t.Fatalf("vector kind %q is not checked", v.Kind)
			}
		})
		checked[v.Kind]++
	}
	kinds := []string{
		"canonical_params", "v2_canonical", "v2_signature", "v2_canonical_hmac_sha512_signature",
		"v5_canonical", "v5_signature", "sha512_hex", "x_duo_headers_sha512",
	}
	total := 0
	for _, k := range kinds {
		assert.Positive(t, checked[k], "no vector of kind %s was checked", k)
		total += checked[k]
	}
	assert.Equal(t, len(vectors), total, "every vector is of a known kind")
	assert.Equal(t, 34, total, "docs/duo-api.md §2.4 lists 34 vectors")
	t.Logf("checked %d vectors: %v", total, checked)
}

func checkSignature(t *testing.T, s Signing, v signingVector, r request) {
	t.Helper()
	require.NotEmpty(t, v.ExpectedAuthorization)
	if v.ExpectedCanonical != "" {
		got, _, err := s.canonical(r)
		require.NoError(t, err)
		assert.Equal(t, v.ExpectedCanonical, got)
	}
	if v.ExpectedSignatureHex != "" {
		sig, err := s.signature(v.SKey, r)
		require.NoError(t, err)
		assert.Equal(t, v.ExpectedSignatureHex, sig)
	}
	auth, err := s.authorization(v.IKey, v.SKey, r)
	require.NoError(t, err)
	assert.Equal(t, v.ExpectedAuthorization, auth)
}

func TestCanonXDuoHeadersRejects(t *testing.T) {
	tests := []struct {
		name    string
		headers map[string]string
	}{
		{"not an x-duo header", map[string]string{"X-Other": "v"}},
		{"NUL in value", map[string]string{"X-Duo-A": "a\x00b"}},
		{"NUL in name", map[string]string{"X-Duo-\x00": "a"}},
		{"same name twice", map[string]string{"X-Duo-A": "1", "x-duo-a": "2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := canonXDuoHeaders(tt.headers)
			assert.Error(t, err)
		})
	}
}

func TestSigningValidate(t *testing.T) {
	for _, s := range []Signing{"", SigningV5, SigningV2SHA512, SigningV2SHA1} {
		assert.NoError(t, s.Validate(), string(s))
	}
	assert.Error(t, Signing("v4").Validate())
	_, err := SigningV2SHA1.signature("k", request{xDuo: map[string]string{"x-duo-a": "b"}})
	assert.ErrorIs(t, err, errXDuoV2)
	assert.Equal(t, SigningV5, DefaultSigning)
}
