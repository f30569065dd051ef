package web

import (
	"fmt"

	"github.com/gin-gonic/gin"
	"github.com/gin-gonic/gin/binding"

	"github.com/tresor-evidence/tresor/incident"
)

// bind reads a posted form into f. A malformed body is invalid input.
func bind(c *gin.Context, f any) error {
	if err := c.ShouldBindWith(f, binding.Form); err != nil {
		if statusOf(err) == 413 {
			return err
		}
		return fmt.Errorf("%w: malformed form", incident.ErrInvalidInput)
	}
	return checkText(f)
}
