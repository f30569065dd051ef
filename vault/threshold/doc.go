// Package threshold implements threshold custody of vault bundles: a
// recipient ("age1tresor1…") that splits an age file key with Shamir's
// secret sharing over GF(2^8) so that any K of N holders, and never fewer,
// can open a bundle, in age's own header format.
//
// Guarantees:
//
//   - Any K holder identities reconstruct the file key; K−1 shares are
//     consistent with every possible file key (information-theoretic
//     secrecy of Shamir's scheme), so K−1 holders learn nothing.
//   - Each share travels in a "tresor-share" stanza, wrapped to one holder
//     with age's own X25519 construction (ephemeral X25519, HKDF-SHA-256,
//     ChaCha20-Poly1305): a changed stanza body or ephemeral key fails that
//     holder's authentication.
//   - A share substituted by someone who knows the holders' public keys
//     (they are public) decrypts, but the reconstructed file key is wrong,
//     and age's header MAC, keyed by the file key, refuses the file. With
//     more than K holders present, shares that do not lie on one
//     polynomial are refused before that.
//   - The recipient carries the label "tresor-threshold": age refuses to
//     mix it with classic X25519, SSH or post-quantum recipients, which
//     would let a single key open what K holders should open together.
package threshold
