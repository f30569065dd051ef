package web

import (
	"regexp"
	"strings"

	"github.com/tresor-evidence/tresor/incident"
)

// InitialPasswordCheck reports where the file with the first admin's
// password lies (the one the first `tresor serve` writes into the data
// folder) and whether it still exists. The web server asks on every admin
// page and reminds the admins to delete the file until it is gone.
type InitialPasswordCheck func() (path string, exists bool, err error)

// initialPasswordView is the reminder on admin pages.
type initialPasswordView struct {
	Path    string // absolute path of the file on the server
	Command string // a shell command that deletes it
}

// initialPasswordNotice returns the reminder for an admin page, or nil
// once the file is gone. The reminder is a hint: when the check fails,
// the failure is logged and the page shows without it.
func (s *Server) initialPasswordNotice(requestID string) *initialPasswordView {
	if s.initialPassword == nil {
		return nil
	}
	path, exists, err := s.initialPassword()
	if err != nil {
		s.log.Error("initial password check", "request_id", requestID, "err", incident.ErrorClass(err))
		return nil
	}
	if !exists {
		return nil
	}
	return &initialPasswordView{Path: path, Command: "rm -- " + shellQuote(path)}
}

var shellSafe = regexp.MustCompile(`^[A-Za-z0-9/._+-]+$`)

// shellQuote quotes a path for a POSIX shell where it needs quoting.
func shellQuote(p string) string {
	if shellSafe.MatchString(p) {
		return p
	}
	return "'" + strings.ReplaceAll(p, "'", `'\''`) + "'"
}
