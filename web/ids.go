package web

import "regexp"

// idPattern matches the domain's identifiers (lowercase hex); anything
// else cannot name an incident.
var idPattern = regexp.MustCompile(`^[0-9a-f]{1,64}$`)
