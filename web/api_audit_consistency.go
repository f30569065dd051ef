package web

import (
	"fmt"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/tresor-evidence/tresor/incident"
)

// apiConsistency is a consistency proof between two trees of the log.
type apiConsistency struct {
	Old   int64    `json:"old"`
	Size  int64    `json:"size"`
	Root  string   `json:"root"`
	Proof []string `json:"proof"` // tlog.TreeProof, hashes in base64
}

// apiAuditConsistency proves that the saved checkpoint of size "size" (the
// latest when absent) extends the tree of the first "old" entries.
func (s *Server) apiAuditConsistency(c *gin.Context) {
	old, err := treeSizeParam(c, "old", -1)
	if err != nil {
		s.failJSON(c, err)
		return
	}
	size, err := treeSizeParam(c, "size", 0)
	if err != nil {
		s.failJSON(c, err)
		return
	}
	cp, proof, err := s.svc.AuditConsistency(c.Request.Context(), actor(c), old, size)
	if err != nil {
		s.failJSON(c, err)
		return
	}
	out := apiConsistency{Old: old, Size: cp.Size, Root: cp.Root, Proof: make([]string, len(proof))}
	for i, h := range proof {
		out.Proof[i] = h.String()
	}
	respond(c, http.StatusOK, out)
}

// treeSizeParam reads a non-negative query parameter; def < 0 makes it
// required.
func treeSizeParam(c *gin.Context, name string, def int64) (int64, error) {
	v, ok := c.GetQuery(name)
	if !ok {
		if def < 0 {
			return 0, fmt.Errorf("%w: query parameter %q is required", incident.ErrInvalidInput, name)
		}
		return def, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%w: query parameter %q must be a tree size (a whole number, 0 or more)", incident.ErrInvalidInput, name)
	}
	return n, nil
}
