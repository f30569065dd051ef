package web

import (
	"context"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/tresor-evidence/tresor/account"
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
	key, err := s.factors.Open(f.Sealed, account.PurposeEnroll, u.ID)
	if err != nil {
		s.fail(c, err)
		return
	}
	step, ok := account.VerifyTOTP(key, f.Code, s.now())
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
	sealed, err := s.factors.Seal(key, account.PurposeTOTP, u.ID)
	if err != nil {
		s.fail(c, err)
		return
	}
	codes, hashes, err := s.factors.NewRecoveryCodes()
	if err != nil {
		s.fail(c, err)
		return
	}
	factor := account.SecondFactor{UserID: u.ID, SecretSealed: sealed, LastStep: step, EnabledAt: s.now()}
	err = s.svc.RecordAuthChange(ctx, u.Actor(), incident.AuthSecondFactorEnabled, u.ID, func(ctx context.Context, acc account.Store) error {
		return acc.EnableSecondFactor(ctx, factor, hashes)
	})
	if err != nil {
		s.fail(c, err)
		return
	}
	if rs.session.Stage != account.StageActive {
		if err := s.startSession(c, u, account.StageActive); err != nil {
			s.fail(c, err)
			return
		}
	}
	s.renderSetup(c, http.StatusOK, enrollView{Enabled: true, EnabledAt: s.now(), RecoveryLeft: len(codes), RecoveryCodes: codes})
}
