package web

import (
	"github.com/gin-gonic/gin"
)

// storageFullMessage is the API's message for 507: what happened and
// what to do.
const storageFullMessage = "the server's storage is full, so nothing was saved; tell the administrator and send the same request again once there is room"

// storageFull records a request refused because the vault's or the
// database's disk is full: an error log line the operator acts on, and
// tresor_storage_full_total. The error's text names only the operation
// and the system's answer, never what the caller sent.
func (s *Server) storageFull(c *gin.Context, err error) {
	s.log.Error("storage full: request refused, nothing was saved; make room on the vault's or the database's disk",
		"request_id", st(c).requestID, "route", c.FullPath(), "err", err.Error())
	if s.metrics != nil {
		s.metrics.storageFull.Inc()
	}
}

// storageFullView is the 507 page: the storage is full, nothing was
// saved, whom to tell, and — after a form — that the person's own copy
// of what they sent is untouched.
func storageFullView(v errorView) errorView {
	v.Title, v.Text = "ops.storage_full", "ops.storage_full_text"
	if v.Back != "" {
		v.Detail = "ops.storage_full_kept"
	}
	return v
}
