package incident_test

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/tresor-evidence/tresor/incident"
	"github.com/tresor-evidence/tresor/policies"
)

// stepUpWorld puts the world under an oidc policy with extra settings and
// returns a supervisor signed in through the provider (subject "lead").
func stepUpWorld(w *world, extra string) incident.User {
	w.t.Helper()
	pol, err := policies.Parse("oidc.yaml", []byte(oidcPolicy+extra))
	if err != nil {
		w.t.Fatal(err)
	}
	w.pol = pol
	w.svc = w.service(w.store)
	u, err := w.svc.SignInExternal(w.ctx, incident.ExternalSignIn{Issuer: issuer, Subject: "lead", ClaimValues: []string{"tresor-leitung"}, PreferredUsername: "lea"})
	if err != nil {
		w.t.Fatal(err)
	}
	return u
}

// reauth is a verified re-authentication of the "lead" person just now.
func reauth(w *world) incident.ExternalSignIn {
	return incident.ExternalSignIn{Issuer: issuer, Subject: "lead", ClaimValues: []string{"tresor-leitung"}, AuthTime: w.clock.Now()}
}

// TestStepUpByReauthenticationRules: what of the provider's answer makes
// a step-up, per policy (the adapter has checked signature, issuer,
// audience, expiry and nonce already).
func TestStepUpByReauthenticationRules(t *testing.T) {
	const keycloak = "  step_up: provider\n  step_up_max_age: 5m\n  step_up_acr: [gold]\n  step_up_amr: [otp, hwk]\n"
	const entra = "  step_up: provider\n"
	type tc struct {
		name   string
		policy string
		change func(w *world, in *incident.ExternalSignIn, asked *time.Time)
		want   incident.StepUpRefusal // "" confirms
	}
	keycloakOK := func(_ *world, in *incident.ExternalSignIn, _ *time.Time) {
		in.ACR, in.AMR = "gold", []string{"pwd", "otp"}
	}
	tests := []tc{
		{"entra: fresh auth_time alone", entra, nil, ""},
		{"entra: no amr needed, acr ignored", entra, func(_ *world, in *incident.ExternalSignIn, _ *time.Time) { in.ACR = "1" }, ""},
		{"keycloak: acr and an amr", keycloak, keycloakOK, ""},
		{"missing auth_time", entra, func(_ *world, in *incident.ExternalSignIn, _ *time.Time) { in.AuthTime = time.Time{} }, incident.RefusalNoAuthTime},
		{"auth_time too old", entra, func(_ *world, in *incident.ExternalSignIn, asked *time.Time) {
			*asked = in.AuthTime.Add(-6 * time.Minute)
			in.AuthTime = in.AuthTime.Add(-5*time.Minute - time.Second)
		}, incident.RefusalTooOld},
		{"auth_time at the age limit", entra, func(_ *world, in *incident.ExternalSignIn, asked *time.Time) {
			*asked = in.AuthTime.Add(-6 * time.Minute)
			in.AuthTime = in.AuthTime.Add(-5 * time.Minute)
		}, incident.RefusalTooOld},
		{"auth_time just within the age", entra, func(_ *world, in *incident.ExternalSignIn, asked *time.Time) {
			*asked = in.AuthTime.Add(-6 * time.Minute)
			in.AuthTime = in.AuthTime.Add(-5*time.Minute + time.Second)
		}, ""},
		{"auth_time before the flow started", entra, func(_ *world, in *incident.ExternalSignIn, asked *time.Time) {
			*asked = in.AuthTime
			in.AuthTime = in.AuthTime.Add(-incident.StepUpClockSkew - time.Second)
		}, incident.RefusalBeforeFlow},
		{"auth_time within the skew before the flow", entra, func(_ *world, in *incident.ExternalSignIn, asked *time.Time) {
			*asked = in.AuthTime
			in.AuthTime = in.AuthTime.Add(-incident.StepUpClockSkew)
		}, ""},
		{"auth_time in the future", entra, func(_ *world, in *incident.ExternalSignIn, _ *time.Time) { in.AuthTime = in.AuthTime.Add(time.Hour) }, incident.RefusalFuture},
		{"wrong acr", keycloak, func(w *world, in *incident.ExternalSignIn, a *time.Time) { keycloakOK(w, in, a); in.ACR = "silver" }, incident.RefusalACR},
		{"no acr", keycloak, func(w *world, in *incident.ExternalSignIn, a *time.Time) { keycloakOK(w, in, a); in.ACR = "" }, incident.RefusalACR},
		{"missing required amr", keycloak, func(w *world, in *incident.ExternalSignIn, a *time.Time) {
			keycloakOK(w, in, a)
			in.AMR = []string{"pwd"}
		}, incident.RefusalAMR},
		{"no amr at all", keycloak, func(w *world, in *incident.ExternalSignIn, a *time.Time) { keycloakOK(w, in, a); in.AMR = nil }, incident.RefusalAMR},
		{"another subject", entra, func(_ *world, in *incident.ExternalSignIn, _ *time.Time) { in.Subject = "someone-else" }, incident.RefusalOtherPerson},
		{"another issuer", entra, func(_ *world, in *incident.ExternalSignIn, _ *time.Time) { in.Issuer = "https://other.example.org" }, incident.RefusalOtherPerson},
		{"policy keeps totp", "  step_up: totp\n", nil, incident.RefusalNotEnabled},
	}
	eachDB(t, func(t *testing.T, w *world) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				lead := stepUpWorld(w, tt.policy)
				w.clock.Advance(incident.StepUpLockout) // no count from the case before
				in, asked := reauth(w), w.clock.Now().Add(-time.Minute)
				if tt.change != nil {
					tt.change(w, &in, &asked)
				}
				from := trailLen(w)
				until, err := w.svc.ConfirmStepUpExternal(w.ctx, lead.ID, asked, in)
				st, serr := w.svc.StepUpStatusOf(w.ctx, lead.Actor())
				if serr != nil {
					t.Fatal(serr)
				}
				if tt.want == "" {
					if err != nil {
						t.Fatalf("refused: %v", err)
					}
					if want := in.AuthTime.Add(w.pol.OIDC.StepUpAge()); !until.Equal(want) || !st.ConfirmedUntil.Equal(want) || !st.AtProvider {
						t.Errorf("confirmed until %v, status %+v; want %v", until, st, want)
					}
					if got := trailSince(w, from); !slices.Equal(got, []string{string(incident.ActionStepUpConfirmed)}) {
						t.Errorf("trail %q", got)
					}
					return
				}
				if !errors.Is(err, incident.ErrStepUpFailed) || incident.RefusalOf(err) != tt.want {
					t.Fatalf("err = %v (refusal %q), want ErrStepUpFailed for %q", err, incident.RefusalOf(err), tt.want)
				}
				if !st.ConfirmedUntil.IsZero() {
					t.Errorf("refused re-authentication left a step-up until %v", st.ConfirmedUntil)
				}
				if got := trailSince(w, from); !slices.Equal(got, []string{string(incident.AuthStepUpFailed) + " reason=" + string(tt.want)}) {
					t.Errorf("trail %q", got)
				}
			})
		}
		w.verify()
	})
}

// TestStepUpByReauthenticationIsOneTime: a confirmation serves one
// decision, and none after it ends; then the page says to confirm again.
// A local supervisor keeps TOTP, and so does a linked one that types a
// code (the API).
func TestStepUpByReauthenticationIsOneTime(t *testing.T) {
	eachDB(t, func(t *testing.T, w *world) {
		lead := stepUpWorld(w, "  step_up: provider\n  step_up_max_age: 2m\n")
		a := lead.Actor()
		first := w.pendingRequest(w.flag("3A0000000000000SU1", "violence").ID, incident.RequestSecure)
		second := w.pendingRequest(w.flag("3A0000000000000SU2", "violence").ID, incident.RequestSecure)

		// Without a confirmation: confirm again; nothing decided, nothing counted.
		if _, err := w.svc.Decide(w.ctx, a, first.ID, true, "sichern", ""); !errors.Is(err, incident.ErrStepUpFailed) || !errors.Is(err, incident.ErrStepUpConfirmAgain) {
			t.Fatalf("no confirmation: %v, want ErrStepUpConfirmAgain", err)
		}
		if _, err := w.svc.ConfirmStepUpExternal(w.ctx, lead.ID, w.clock.Now(), reauth(w)); err != nil {
			t.Fatal(err)
		}
		if _, err := w.svc.Decide(w.ctx, a, first.ID, true, "sichern", ""); err != nil {
			t.Fatalf("confirmed: %v", err)
		}
		if _, err := w.svc.Decide(w.ctx, a, second.ID, true, "sichern", ""); !errors.Is(err, incident.ErrStepUpConfirmAgain) {
			t.Fatalf("second decision with one confirmation: %v, want ErrStepUpConfirmAgain", err)
		}
		// Expired: two minutes after auth_time, it serves no more.
		if _, err := w.svc.ConfirmStepUpExternal(w.ctx, lead.ID, w.clock.Now(), reauth(w)); err != nil {
			t.Fatal(err)
		}
		w.clock.Advance(2 * time.Minute)
		if st, err := w.svc.StepUpStatusOf(w.ctx, a); err != nil || !st.ConfirmedUntil.IsZero() || !st.AtProvider {
			t.Errorf("status after expiry = %+v, %v", st, err)
		}
		if _, err := w.svc.Decide(w.ctx, a, second.ID, true, "sichern", ""); !errors.Is(err, incident.ErrStepUpConfirmAgain) {
			t.Fatalf("expired confirmation: %v, want ErrStepUpConfirmAgain", err)
		}
		if r := w.pendingRequest(second.IncidentID, incident.RequestSecure); len(r.Decisions) != 0 {
			t.Fatal("decided without a valid step-up")
		}
		// A linked supervisor with TOTP (the API) still decides by code.
		w.enroll(lead.ID)
		if _, err := w.svc.Decide(w.ctx, a, second.ID, true, "sichern", w.code(a)); err != nil {
			t.Fatalf("code of a linked supervisor: %v", err)
		}
		// A local supervisor: TOTP as before, never a confirmation.
		third := w.pendingRequest(w.flag("3A0000000000000SU3", "violence").ID, incident.RequestSecure)
		if _, err := w.svc.ConfirmStepUpExternal(w.ctx, w.sup1.ID, w.clock.Now(), reauth(w)); incident.RefusalOf(err) != incident.RefusalNotLinked {
			t.Errorf("local account confirmed at the provider: %v", err)
		}
		if _, err := w.svc.Decide(w.ctx, w.sup1, third.ID, true, "sichern", ""); !errors.Is(err, incident.ErrStepUpFailed) || errors.Is(err, incident.ErrStepUpConfirmAgain) {
			t.Errorf("local supervisor without code: %v, want a wrong code", err)
		}
		if _, err := w.svc.Decide(w.ctx, w.sup1, third.ID, true, "sichern", w.code(w.sup1)); err != nil {
			t.Errorf("local supervisor with code: %v", err)
		}
		w.verify()
	})
}

// TestStepUpByReauthenticationLock: refused re-authentications count
// toward the step-up lock, which then holds for confirmations, for
// their use and for codes alike.
func TestStepUpByReauthenticationLock(t *testing.T) {
	eachDB(t, func(t *testing.T, w *world) {
		lead := stepUpWorld(w, "  step_up: provider\n")
		req := w.pendingRequest(w.flag("3A0000000000000SL1", "violence").ID, incident.RequestSecure)
		if _, err := w.svc.ConfirmStepUpExternal(w.ctx, lead.ID, w.clock.Now(), reauth(w)); err != nil {
			t.Fatal(err)
		}
		stale := reauth(w)
		stale.AuthTime = stale.AuthTime.Add(-time.Hour)
		for i := range incident.StepUpMaxFailures {
			if _, err := w.svc.ConfirmStepUpExternal(w.ctx, lead.ID, w.clock.Now().Add(-2*time.Hour), stale); incident.RefusalOf(err) != incident.RefusalTooOld {
				t.Fatalf("refusal %d: %v", i+1, err)
			}
		}
		if _, err := w.svc.ConfirmStepUpExternal(w.ctx, lead.ID, w.clock.Now(), reauth(w)); !errors.Is(err, incident.ErrStepUpLocked) {
			t.Errorf("confirmation while locked: %v, want ErrStepUpLocked", err)
		}
		if _, err := w.svc.Decide(w.ctx, lead.Actor(), req.ID, true, "sichern", ""); !errors.Is(err, incident.ErrStepUpLocked) {
			t.Errorf("earlier confirmation used while locked: %v, want ErrStepUpLocked", err)
		}
		if n := count(w.actions(""), string(incident.AuthStepUpLocked)); n != 1 {
			t.Errorf("%d locks audited, want 1", n)
		}
		// Another person's token, or a local account named by the flow,
		// cannot lock anyone's approvals (the flow cookie is the browser's).
		w.clock.Advance(incident.StepUpLockout)
		other := reauth(w)
		other.Subject = "someone-else"
		for range incident.StepUpMaxFailures + 1 {
			if _, err := w.svc.ConfirmStepUpExternal(w.ctx, lead.ID, w.clock.Now(), other); incident.RefusalOf(err) != incident.RefusalOtherPerson {
				t.Fatalf("other person: %v", err)
			}
			if _, err := w.svc.ConfirmStepUpExternal(w.ctx, w.sup1.ID, w.clock.Now(), reauth(w)); incident.RefusalOf(err) != incident.RefusalNotLinked {
				t.Fatalf("local account: %v", err)
			}
		}
		if err := w.svc.StepUp(w.ctx, w.sup1, w.code(w.sup1)); err != nil {
			t.Errorf("the local supervisor's TOTP after refused confirmations in their name: %v", err)
		}
		if _, err := w.svc.ConfirmStepUpExternal(w.ctx, lead.ID, w.clock.Now(), reauth(w)); err != nil {
			t.Errorf("after the lock, and refusals of other people: %v", err)
		}
	})
}
