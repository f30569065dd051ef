package threshold

import (
	"bytes"
	"crypto/rand"
	"errors"
	"math/bits"
	"testing"
)

// TestGFMulFIPS197 checks the field against the worked examples of
// FIPS-197 (AES), section 4.2: {57}•{83} = {c1}, and section 4.2.1:
// {57}•{13} = {fe}, {57}•{02} = {ae}, {57}•{04} = {47}, {57}•{08} = {8e},
// {57}•{10} = {07}.
func TestGFMulFIPS197(t *testing.T) {
	for _, tc := range []struct{ a, b, want byte }{
		{0x57, 0x83, 0xc1}, {0x57, 0x13, 0xfe}, {0x57, 0x02, 0xae},
		{0x57, 0x04, 0x47}, {0x57, 0x08, 0x8e}, {0x57, 0x10, 0x07},
		{0x83, 0x57, 0xc1}, {0x00, 0x57, 0x00}, {0x01, 0x57, 0x57},
	} {
		if got := gfMul(tc.a, tc.b); got != tc.want {
			t.Errorf("gfMul(%#x, %#x) = %#x, want %#x", tc.a, tc.b, got, tc.want)
		}
	}
}

// aesSbox is the AES S-box of FIPS-197, Figure 7 (copied from Go's
// crypto/internal/fips140/aes/const.go, BSD licence). S(a) is the affine
// transform of the multiplicative inverse of a in this very field, so it
// checks gfInv for all 256 values against a published table.
var aesSbox = [256]byte{
	0x63, 0x7c, 0x77, 0x7b, 0xf2, 0x6b, 0x6f, 0xc5, 0x30, 0x01, 0x67, 0x2b, 0xfe, 0xd7, 0xab, 0x76,
	0xca, 0x82, 0xc9, 0x7d, 0xfa, 0x59, 0x47, 0xf0, 0xad, 0xd4, 0xa2, 0xaf, 0x9c, 0xa4, 0x72, 0xc0,
	0xb7, 0xfd, 0x93, 0x26, 0x36, 0x3f, 0xf7, 0xcc, 0x34, 0xa5, 0xe5, 0xf1, 0x71, 0xd8, 0x31, 0x15,
	0x04, 0xc7, 0x23, 0xc3, 0x18, 0x96, 0x05, 0x9a, 0x07, 0x12, 0x80, 0xe2, 0xeb, 0x27, 0xb2, 0x75,
	0x09, 0x83, 0x2c, 0x1a, 0x1b, 0x6e, 0x5a, 0xa0, 0x52, 0x3b, 0xd6, 0xb3, 0x29, 0xe3, 0x2f, 0x84,
	0x53, 0xd1, 0x00, 0xed, 0x20, 0xfc, 0xb1, 0x5b, 0x6a, 0xcb, 0xbe, 0x39, 0x4a, 0x4c, 0x58, 0xcf,
	0xd0, 0xef, 0xaa, 0xfb, 0x43, 0x4d, 0x33, 0x85, 0x45, 0xf9, 0x02, 0x7f, 0x50, 0x3c, 0x9f, 0xa8,
	0x51, 0xa3, 0x40, 0x8f, 0x92, 0x9d, 0x38, 0xf5, 0xbc, 0xb6, 0xda, 0x21, 0x10, 0xff, 0xf3, 0xd2,
	0xcd, 0x0c, 0x13, 0xec, 0x5f, 0x97, 0x44, 0x17, 0xc4, 0xa7, 0x7e, 0x3d, 0x64, 0x5d, 0x19, 0x73,
	0x60, 0x81, 0x4f, 0xdc, 0x22, 0x2a, 0x90, 0x88, 0x46, 0xee, 0xb8, 0x14, 0xde, 0x5e, 0x0b, 0xdb,
	0xe0, 0x32, 0x3a, 0x0a, 0x49, 0x06, 0x24, 0x5c, 0xc2, 0xd3, 0xac, 0x62, 0x91, 0x95, 0xe4, 0x79,
	0xe7, 0xc8, 0x37, 0x6d, 0x8d, 0xd5, 0x4e, 0xa9, 0x6c, 0x56, 0xf4, 0xea, 0x65, 0x7a, 0xae, 0x08,
	0xba, 0x78, 0x25, 0x2e, 0x1c, 0xa6, 0xb4, 0xc6, 0xe8, 0xdd, 0x74, 0x1f, 0x4b, 0xbd, 0x8b, 0x8a,
	0x70, 0x3e, 0xb5, 0x66, 0x48, 0x03, 0xf6, 0x0e, 0x61, 0x35, 0x57, 0xb9, 0x86, 0xc1, 0x1d, 0x9e,
	0xe1, 0xf8, 0x98, 0x11, 0x69, 0xd9, 0x8e, 0x94, 0x9b, 0x1e, 0x87, 0xe9, 0xce, 0x55, 0x28, 0xdf,
	0x8c, 0xa1, 0x89, 0x0d, 0xbf, 0xe6, 0x42, 0x68, 0x41, 0x99, 0x2d, 0x0f, 0xb0, 0x54, 0xbb, 0x16,
}

func TestGFInvAgainstAESSbox(t *testing.T) {
	for a := 0; a < 256; a++ {
		b := gfInv(byte(a))
		// FIPS-197 equation 5.1: the affine transformation.
		s := b ^ bits.RotateLeft8(b, 1) ^ bits.RotateLeft8(b, 2) ^ bits.RotateLeft8(b, 3) ^ bits.RotateLeft8(b, 4) ^ 0x63
		if s != aesSbox[a] {
			t.Fatalf("S(%#x) via gfInv = %#x, FIPS-197 says %#x", a, s, aesSbox[a])
		}
		if a != 0 && gfMul(byte(a), b) != 1 {
			t.Fatalf("%#x · gfInv(%#x) = %#x, want 1", a, a, gfMul(byte(a), b))
		}
	}
}

// TestSplitKnownVector: secret {57}, 2 of 3, the single random coefficient
// {83}; f(x) = {57} + {83}·x gives, with FIPS-197 xtime ({83}·{02} = {1d}):
// f(1) = {d4}, f(2) = {57}^{1d} = {4a}, f(3) = {57}^{1d}^{83} = {c9}.
func TestSplitKnownVector(t *testing.T) {
	shares, err := split([]byte{0x57}, 2, 3, bytes.NewReader([]byte{0x83}))
	if err != nil {
		t.Fatal(err)
	}
	want := []byte{0xd4, 0x4a, 0xc9}
	for i, s := range shares {
		if s.x != byte(i+1) || len(s.y) != 1 || s.y[0] != want[i] {
			t.Errorf("share %d = (%d, %x), want (%d, %x)", i, s.x, s.y, i+1, want[i])
		}
	}
	got, err := combine([]share{shares[2], shares[0]}, 2)
	if err != nil || !bytes.Equal(got, []byte{0x57}) {
		t.Fatalf("combine = %x, %v; want 57", got, err)
	}
}

// subsets calls f with every subset of {0…n-1} as a list of indexes.
func subsets(n int, f func([]int)) {
	for mask := 1; mask < 1<<n; mask++ {
		var idx []int
		for i := 0; i < n; i++ {
			if mask&(1<<i) != 0 {
				idx = append(idx, i)
			}
		}
		f(idx)
	}
}

func TestSplitCombineAllSubsets(t *testing.T) {
	for _, kn := range [][2]int{{2, 3}, {3, 5}, {2, 2}, {5, 5}, {4, 7}} {
		k, n := kn[0], kn[1]
		secret := make([]byte, 16)
		rand.Read(secret)
		shares, err := split(secret, k, n, rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		subsets(n, func(idx []int) {
			var sub []share
			for _, i := range idx {
				sub = append(sub, shares[i])
			}
			got, err := combine(sub, k)
			if len(idx) < k {
				if !errors.Is(err, ErrShares) {
					t.Errorf("%d of %d: %v combined with %d shares: %v", k, n, idx, len(idx), err)
				}
				return
			}
			if err != nil || !bytes.Equal(got, secret) {
				t.Errorf("%d of %d: subset %v: %x, %v", k, n, idx, got, err)
			}
		})
	}
}

// TestFewerSharesFitEverySecret shows what k−1 shares reveal: nothing. For
// every possible value of a secret byte there is exactly one completing
// share at a fixed new x, and distinct secrets need distinct completions,
// so the k−1 shares are equally consistent with all 256 secrets.
func TestFewerSharesFitEverySecret(t *testing.T) {
	for _, kn := range [][2]int{{2, 3}, {3, 5}} {
		k, n := kn[0], kn[1]
		shares, err := split([]byte{0x42}, k, n, rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		known := shares[:k-1]
		completions := make(map[byte]bool)
		for s := 0; s < 256; s++ {
			pts := append(append([]share(nil), known...), share{x: 0, y: []byte{byte(s)}})
			// Bypass the x=0 check: evaluate the polynomial through
			// (0, s) and the known shares at x = n+1.
			y := lagrangeAt(pts, byte(n+1))
			completions[y] = true
			got, err := combine(append(append([]share(nil), known...), share{x: byte(n + 1), y: []byte{y}}), k)
			if err != nil || got[0] != byte(s) {
				t.Fatalf("%d of %d: secret %#x not reached: %x, %v", k, n, s, got, err)
			}
		}
		if len(completions) != 256 {
			t.Fatalf("%d of %d: %d distinct completions, want 256", k, n, len(completions))
		}
	}
}

func lagrangeAt(pts []share, x byte) byte {
	var out byte
	for i, pi := range pts {
		var num, den byte = 1, 1
		for j, pj := range pts {
			if i != j {
				num = gfMul(num, x^pj.x)
				den = gfMul(den, pi.x^pj.x)
			}
		}
		out ^= gfMul(pi.y[0], gfMul(num, gfInv(den)))
	}
	return out
}

func TestCombineDetectsSubstitutedExtraShare(t *testing.T) {
	secret := []byte("sixteen byte key")
	shares, err := split(secret, 2, 3, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	bad := share{x: shares[2].x, y: bytes.Clone(shares[2].y)}
	bad.y[0] ^= 1
	if _, err := combine([]share{shares[0], shares[1], bad}, 2); !errors.Is(err, ErrShares) {
		t.Fatalf("substituted third share accepted: %v", err)
	}
	if _, err := combine([]share{shares[0], shares[0]}, 2); !errors.Is(err, ErrShares) {
		t.Fatalf("repeated share accepted: %v", err)
	}
}

func TestSplitRejectsBadParameters(t *testing.T) {
	for _, kn := range [][2]int{{1, 3}, {4, 3}, {2, 256}, {0, 0}} {
		if _, err := split([]byte{1}, kn[0], kn[1], rand.Reader); err == nil {
			t.Errorf("split %d of %d accepted", kn[0], kn[1])
		}
	}
}
