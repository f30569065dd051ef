package incident

import (
	"fmt"
	"strings"
)

// knownID returns ErrNotFound for an id in a form Tresor never issues
// (see newID: 32 lowercase hex digits), so that whatever a caller puts
// in a path or a field ends here and reaches no query, no log line and
// no audit entry. Such an id cannot name anything that exists.
func knownID(kind, id string) error {
	if len(id) != 32 {
		return fmt.Errorf("%w: %s", ErrNotFound, kind)
	}
	for i := range len(id) {
		if c := id[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return fmt.Errorf("%w: %s", ErrNotFound, kind)
		}
	}
	return nil
}

// knownUsername returns ErrNotFound for a name no account can have
// (names are compared in lower case, as AddUser stores them).
func knownUsername(name string) error {
	if !usernamePattern.MatchString(strings.ToLower(strings.TrimSpace(name))) {
		return fmt.Errorf("%w: user", ErrNotFound)
	}
	return nil
}
