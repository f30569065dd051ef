package web

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

// apiCosignBody carries a checkpoint note with a witness's signature added.
type apiCosignBody struct {
	Note string `json:"note"`
}

// apiCosigned is what was stored.
type apiCosigned struct {
	Size      int64    `json:"size"`
	Witnesses []string `json:"witnesses"`
}

// apiAuditCosign stores a cosigned checkpoint ('tresor audit cosign').
func (s *Server) apiAuditCosign(c *gin.Context) {
	var b apiCosignBody
	if err := decodeJSON(c, &b); err != nil {
		s.failJSON(c, err)
		return
	}
	cs, err := s.svc.AddCosignature(c.Request.Context(), actor(c), []byte(b.Note))
	if err != nil {
		s.failJSON(c, err)
		return
	}
	out := apiCosigned{Size: cs[0].Size}
	for _, x := range cs {
		out.Witnesses = append(out.Witnesses, x.Witness)
	}
	respond(c, http.StatusCreated, out)
}
