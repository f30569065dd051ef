package web

import (
	_ "embed"
	"net/http"

	"github.com/gin-gonic/gin"
)

// openAPISpec describes the JSON API; TestOpenAPIMatchesRoutes keeps it
// in step with the route table.
//
//go:embed openapi.yaml
var openAPISpec []byte

// apiOpenAPI serves the API description.
func (s *Server) apiOpenAPI(c *gin.Context) {
	c.Data(http.StatusOK, "application/yaml; charset=utf-8", openAPISpec)
}
