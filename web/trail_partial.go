package web

// trailPartial is the data of the "trail_list" fragment.
type trailPartial struct {
	L    *localizer
	Rows []trailRow
}

// Trail wraps trail rows for the "trail_list" fragment.
func (v view) Trail(rows []trailRow) trailPartial { return trailPartial{L: v.L, Rows: rows} }
