package web

import (
	"errors"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/tresor-evidence/tresor/incident"
)

// checkpointView is what the auditor page shows of the signed checkpoints:
// the latest one (its note to copy for a witness) and the largest one a
// witness cosigned.
type checkpointView struct {
	Latest      *incident.Checkpoint
	Witnessed   int64 // entries covered by the newest cosigned checkpoint, 0: none
	WitnessedAt time.Time
}

// checkpoints reads the checkpoint block of the auditor page.
func (s *Server) checkpoints(c *gin.Context) (checkpointView, error) {
	ctx := c.Request.Context()
	var v checkpointView
	cp, err := s.svc.LatestCheckpoint(ctx, actor(c))
	switch {
	case errors.Is(err, incident.ErrNotFound):
		return v, nil
	case err != nil:
		return v, err
	}
	v.Latest = &cp
	cs, err := s.svc.Cosignatures(ctx, actor(c))
	if err != nil {
		return v, err
	}
	for _, x := range cs {
		if x.Size >= v.Witnessed {
			v.Witnessed, v.WitnessedAt = x.Size, x.CreatedAt
		}
	}
	return v, nil
}
