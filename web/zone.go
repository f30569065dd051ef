package web

import _ "time/tzdata" // the zone below also on hosts without zoneinfo

// defaultZone is the provider's time zone for times people type. The
// audit-trail work (issue 10, point 4) makes it a policy setting.
const defaultZone = "Europe/Berlin"
