package incident

// CountVerifications makes s count its password verifications into n, so
// that a test can see the same argon2id work on every sign-in path
// without timing anything.
func CountVerifications(s *Service, n *int) {
	inner := s.verify
	s.verify = func(pw, hash string) error {
		*n++
		return inner(pw, hash)
	}
}
