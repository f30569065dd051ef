package threshold

import (
	"errors"
	"fmt"
	"io"
)

// Shamir's secret sharing over GF(2^8) with the AES (Rijndael) reduction
// polynomial x^8 + x^4 + x^3 + x + 1 (0x11b), byte by byte: byte i of the
// secret is the constant term of its own random polynomial of degree k−1,
// and share j holds that polynomial evaluated at x = j (1…255). Any k
// shares determine the polynomial (Lagrange interpolation at 0); k−1
// shares are consistent with every secret, each equally likely, because
// the coefficients are uniformly random.
//
// The arithmetic uses no lookup tables: gfMul is a shift-and-add with
// masks instead of branches on secret bits, and gfInv is a^254 by square
// and multiply, so running time does not depend on the secret bytes.

// Errors callers branch on.
var (
	// ErrShares reports shares that cannot be combined: too few, duplicate
	// or zero x coordinates, different lengths.
	ErrShares = errors.New("invalid shares")
)

// gfMul multiplies in GF(2^8) modulo 0x11b without branches on a or b.
func gfMul(a, b byte) byte {
	var p byte
	for i := 0; i < 8; i++ {
		// mask is 0xff when the lowest bit of b is set, else 0.
		p ^= a & -(b & 1)
		// Multiply a by x, reducing by 0x1b when the high bit falls off.
		a = a<<1 ^ 0x1b&-(a>>7)
		b >>= 1
	}
	return p
}

// gfInv returns the multiplicative inverse a^254 (and 0 for 0).
func gfInv(a byte) byte {
	// 254 = 0b11111110: a^2 · a^4 · … · a^128.
	var r byte = 1
	s := a
	for i := 0; i < 7; i++ {
		s = gfMul(s, s) // a^(2^(i+1))
		r = gfMul(r, s)
	}
	return r
}

// share is one point per secret byte: y[i] = f_i(x).
type share struct {
	x byte
	y []byte
}

// split splits secret into n shares, any k of which reconstruct it, with
// x coordinates 1…n. rand supplies the polynomial coefficients.
func split(secret []byte, k, n int, rand io.Reader) ([]share, error) {
	if k < 2 || n < k || n > 255 {
		return nil, fmt.Errorf("threshold %d of %d: want 2 ≤ threshold ≤ holders ≤ 255", k, n)
	}
	if len(secret) == 0 {
		return nil, fmt.Errorf("empty secret")
	}
	// coeffs[i] holds the k−1 random coefficients of byte i's polynomial.
	coeffs := make([]byte, len(secret)*(k-1))
	if _, err := io.ReadFull(rand, coeffs); err != nil {
		return nil, fmt.Errorf("failed to read randomness: %w", err)
	}
	defer clear(coeffs)
	shares := make([]share, n)
	for j := range shares {
		x := byte(j + 1)
		y := make([]byte, len(secret))
		for i, s := range secret {
			c := coeffs[i*(k-1) : (i+1)*(k-1)]
			// Horner: ((c[k-2]·x + c[k-3])·x + … + c[0])·x + s.
			var acc byte
			for d := len(c) - 1; d >= 0; d-- {
				acc = gfMul(acc, x) ^ c[d]
			}
			y[i] = gfMul(acc, x) ^ s
		}
		shares[j] = share{x: x, y: y}
	}
	return shares, nil
}

// interpolate evaluates at x the polynomials through the given points
// (Lagrange). With x = 0 it reconstructs the secret.
func interpolate(shares []share, x byte) ([]byte, error) {
	if len(shares) == 0 {
		return nil, fmt.Errorf("%w: no shares", ErrShares)
	}
	size := len(shares[0].y)
	seen := make(map[byte]bool, len(shares))
	for _, s := range shares {
		if s.x == 0 || seen[s.x] {
			return nil, fmt.Errorf("%w: share number %d is zero or repeated", ErrShares, s.x)
		}
		seen[s.x] = true
		if len(s.y) != size {
			return nil, fmt.Errorf("%w: shares differ in length", ErrShares)
		}
	}
	out := make([]byte, size)
	for i, si := range shares {
		// basis = Π_{j≠i} (x − x_j) / (x_i − x_j); minus is xor.
		var num, den byte = 1, 1
		for j, sj := range shares {
			if i == j {
				continue
			}
			num = gfMul(num, x^sj.x)
			den = gfMul(den, si.x^sj.x)
		}
		basis := gfMul(num, gfInv(den))
		for b := range out {
			out[b] ^= gfMul(si.y[b], basis)
		}
	}
	return out, nil
}

// combine reconstructs the secret from k shares. When more than k are
// given, it checks that every extra share lies on the polynomial the
// first k define, so that a substituted share is noticed.
func combine(shares []share, k int) ([]byte, error) {
	if k < 2 || len(shares) < k {
		return nil, fmt.Errorf("%w: %d shares, need %d", ErrShares, len(shares), k)
	}
	seen := make(map[byte]bool, len(shares))
	for _, s := range shares {
		if s.x == 0 || seen[s.x] {
			return nil, fmt.Errorf("%w: share number %d is zero or repeated", ErrShares, s.x)
		}
		seen[s.x] = true
	}
	secret, err := interpolate(shares[:k], 0)
	if err != nil {
		return nil, err
	}
	for _, extra := range shares[k:] {
		y, err := interpolate(shares[:k], extra.x)
		if err != nil {
			clear(secret)
			return nil, err
		}
		if !equal(y, extra.y) {
			clear(secret)
			return nil, fmt.Errorf("%w: the shares do not fit together, one of them was substituted", ErrShares)
		}
	}
	return secret, nil
}

func equal(a, b []byte) bool {
	if len(a) != len(b) {
		return false
	}
	var d byte
	for i := range a {
		d |= a[i] ^ b[i]
	}
	return d == 0
}
