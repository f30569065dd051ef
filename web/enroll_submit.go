package web

import (
	"context"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/tresor-evidence/tresor/incident"
)

// enrollSubmit confirms a new second factor with a code from the app,
// stores the secret encrypted, and shows the recovery codes once.
func (s *Server) enrollSubmit(c *gin.Context) {
	var f enrollForm
	if err := bind(c, &f); err != nil {
		s.fail(c, err)
		return
	}
	ctx := c.Request.Context()
	rs := st(c)
	u := rs.user
	key, err := s.box.open(f.Sealed, purposeEnroll, u.ID)
	if err != nil {
		s.fail(c, err)
		return
	}
	step, ok := verifyTOTP(key, f.Code, s.now())
	if !ok {
		v, err := s.setupView(u, key)
		if err != nil {
			s.fail(c, err)
			return
		}
		v.Error = "second_factor.wrong"
		s.renderSetup(c, http.StatusBadRequest, v)
		return
	}
	sealed, err := s.box.seal(key, purposeTOTP, u.ID)
	if err != nil {
		s.fail(c, err)
		return
	}
	codes, hashes, err := s.newRecoveryCodes()
	if err != nil {
		s.fail(c, err)
		return
	}
	factor := incident.SecondFactor{UserID: u.ID, SecretSealed: sealed, LastStep: step, EnabledAt: s.now()}
	err = s.svc.RecordAuthChange(ctx, u.Actor(), incident.AuthSecondFactorEnabled, u.ID, func(ctx context.Context) error {
		return s.sessions.EnableSecondFactor(ctx, factor, hashes)
	})
	if err != nil {
		s.fail(c, err)
		return
	}
	if rs.session.Stage != incident.StageActive {
		if err := s.startSession(c, u, incident.StageActive); err != nil {
			s.fail(c, err)
			return
		}
	}
	s.renderSetup(c, http.StatusOK, enrollView{Enabled: true, EnabledAt: s.now(), RecoveryLeft: len(codes), RecoveryCodes: codes})
}
