package web

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/tresor-evidence/tresor/incident"
)

// apiCheckpoint is the JSON of a saved checkpoint.
type apiCheckpoint struct {
	Size      int64     `json:"size"`
	Root      string    `json:"root"`
	Note      string    `json:"note"`
	CreatedAt time.Time `json:"created_at"`
}

func toAPICheckpoint(cp incident.Checkpoint) apiCheckpoint {
	return apiCheckpoint{Size: cp.Size, Root: cp.Root, Note: cp.Note, CreatedAt: cp.CreatedAt}
}

// apiAuditCheckpoint gives the server's latest signed checkpoint, which a
// witness checks and cosigns ('tresor audit cosign').
func (s *Server) apiAuditCheckpoint(c *gin.Context) {
	cp, err := s.svc.LatestCheckpoint(c.Request.Context(), actor(c))
	if err != nil {
		s.failJSON(c, err)
		return
	}
	respond(c, http.StatusOK, toAPICheckpoint(cp))
}
