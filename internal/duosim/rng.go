// Copyright The otelcol-duo Authors
// SPDX-License-Identifier: Apache-2.0

package duosim

// rng is a small deterministic generator (splitmix64). Records are rendered
// from an rng seeded by (simulator seed, log type, event identity), so the
// same event always renders to the same bytes.
type rng struct{ s uint64 }

func newRNG(seed, stream uint64) rng {
	return rng{s: mix64(seed ^ mix64(stream+0x632be59bd9b4e019))}
}

func mix64(z uint64) uint64 {
	z += 0x9e3779b97f4a7c15
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}

func (r *rng) next() uint64 {
	r.s += 0x9e3779b97f4a7c15
	z := r.s
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}

// intn returns a number in [0, n).
func (r *rng) intn(n int) int { return int(r.next() % uint64(n)) }

// float returns a number in [0, 1).
func (r *rng) float() float64 { return float64(r.next()>>11) / (1 << 53) }

// chance is true with probability p.
func (r *rng) chance(p float64) bool { return r.float() < p }

func pick[T any](r *rng, xs []T) T { return xs[r.intn(len(xs))] }

// key returns a Duo-style 20-character key: prefix + upper-case alphanumerics.
func (r *rng) key(prefix string) string {
	const alpha = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	b := make([]byte, 0, 20)
	b = append(b, prefix...)
	for len(b) < 20 {
		b = append(b, alpha[r.intn(len(alpha))])
	}
	return string(b)
}
