// Copyright The otelcol-duo Authors
// SPDX-License-Identifier: Apache-2.0

package duoapi

import (
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestReadBodySizeHint: a body of unknown length is read into a buffer of the last size
// read, not one grown by doubling; an announced length wins; a failed read leaves the
// hint alone.
func TestReadBodySizeHint(t *testing.T) {
	const n = 1_100_000 // about a full authentication page
	body := strings.Repeat("x", n)
	unknown := func() *http.Response {
		// io.MultiReader hides the strings.Reader, so nothing can tell the size.
		return &http.Response{ContentLength: -1, Body: io.NopCloser(io.MultiReader(strings.NewReader(body)))}
	}
	var hint atomic.Int64
	first, err := readBody(unknown(), &hint)
	require.NoError(t, err)
	require.Len(t, first, n)
	assert.EqualValues(t, n, hint.Load())

	// A page a little larger than the last fits the buffer started at the last size: no
	// doubling (which would take a 1.1 MB page to a 2 MiB buffer).
	larger := strings.Repeat("y", n+n/50)
	second, err := readBody(&http.Response{ContentLength: -1, Body: io.NopCloser(io.MultiReader(strings.NewReader(larger)))}, &hint)
	require.NoError(t, err)
	require.Equal(t, larger, string(second))
	assert.Less(t, cap(second), n+n/8, "the buffer was not sized from the last read")
	assert.EqualValues(t, len(larger), hint.Load())

	small := &http.Response{ContentLength: 3, Body: io.NopCloser(strings.NewReader("abc"))}
	got, err := readBody(small, &hint)
	require.NoError(t, err)
	assert.Equal(t, "abc", string(got))
	assert.Less(t, cap(got), 4096, "an announced length must win over the hint")
	assert.EqualValues(t, 3, hint.Load())

	tooLarge := &http.Response{ContentLength: -1, Body: io.NopCloser(io.LimitReader(zeros{}, maxBody+2))}
	_, err = readBody(tooLarge, &hint)
	require.ErrorIs(t, err, errTooLarge)
	assert.EqualValues(t, 3, hint.Load())

	// No hint at all (requests that read no log stream).
	got, err = readBody(unknown(), nil)
	require.NoError(t, err)
	assert.Len(t, got, n)
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}
