package incident_test

import (
	"bytes"
	"crypto/rand"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tresor-evidence/tresor/account"
	"github.com/tresor-evidence/tresor/incident"
	"github.com/tresor-evidence/tresor/policies"
)

const oidcPolicy = `oidc:
  claim: groups
  roles:
    tresor-leitung: supervisor
    tresor-fachkraft: worker
    tresor-it: admin
`

const issuer = "https://sso.example.org/realms/traeger"

// oidcService is the world's service under a policy with an oidc section.
func oidcService(w *world) *incident.Service {
	w.t.Helper()
	pol, err := policies.Parse("oidc.yaml", []byte(oidcPolicy))
	if err != nil {
		w.t.Fatal(err)
	}
	w.pol = pol
	return w.service(w.store)
}

// providerActions lists the actions of the trail recorded after from
// (entry count), with their user_id and role details.
func trailSince(w *world, from int) []string {
	w.t.Helper()
	es, err := w.svc.Trail(w.ctx, w.audit, incident.AuditFilter{})
	if err != nil {
		w.t.Fatal(err)
	}
	var out []string
	for _, e := range es[from:] {
		s := e.Action
		for _, k := range []string{"from", "to", "role", "reason"} {
			if v, ok := e.Details[k]; ok {
				s += " " + k + "=" + v
			}
		}
		out = append(out, s)
	}
	return out
}

func trailLen(w *world) int {
	w.t.Helper()
	es, err := w.svc.Trail(w.ctx, w.audit, incident.AuditFilter{})
	if err != nil {
		w.t.Fatal(err)
	}
	return len(es)
}

func TestSignInExternal(t *testing.T) {
	eachDB(t, func(t *testing.T, w *world) {
		svc := oidcService(w)
		w.svc = svc
		type step struct {
			name    string
			sub     string
			groups  []string
			disable bool // disable the account first (by an admin)
			wantErr error
			role    incident.Role
			trail   []string
		}
		steps := []step{
			{name: "unmapped value creates nothing", sub: "p-1", groups: []string{"alle-mitarbeitenden"}, wantErr: incident.ErrNotMapped},
			{name: "no claim creates nothing", sub: "p-1", wantErr: incident.ErrNotMapped},
			{name: "first sign-in creates the account", sub: "p-1", groups: []string{"alle-mitarbeitenden", "tresor-fachkraft"}, role: incident.RoleWorker,
				trail: []string{"user.created_by_provider role=worker", "auth.provider_signed_in"}},
			{name: "same role again", sub: "p-1", groups: []string{"tresor-fachkraft"}, role: incident.RoleWorker,
				trail: []string{"auth.provider_signed_in"}},
			{name: "role changed at the provider", sub: "p-1", groups: []string{"tresor-fachkraft", "tresor-leitung"}, role: incident.RoleSupervisor,
				trail: []string{"user.role_changed_by_provider from=worker to=supervisor", "auth.provider_signed_in"}},
			{name: "no longer mapped is refused", sub: "p-1", groups: []string{"ehemalige"}, wantErr: incident.ErrNotMapped,
				trail: []string{"auth.provider_refused reason=not_mapped"}},
			{name: "disabled account is refused", sub: "p-1", groups: []string{"tresor-leitung"}, disable: true, wantErr: incident.ErrAccountDisabled,
				trail: []string{"user.disabled", "auth.provider_refused reason=disabled"}},
			{name: "another subject is another account", sub: "p-2", groups: []string{"tresor-it"}, role: incident.RoleAdmin,
				trail: []string{"user.created_by_provider role=admin", "auth.provider_signed_in"}},
		}
		var first incident.User
		for _, st := range steps {
			from := trailLen(w)
			if st.disable {
				if _, err := svc.SetUserDisabled(w.ctx, w.admin, first.Username, true); err != nil {
					t.Fatal(err)
				}
			}
			u, err := svc.SignInExternal(w.ctx, incident.ExternalSignIn{Issuer: issuer, Subject: st.sub, ClaimValues: st.groups,
				PreferredUsername: "Wanda.Weber@Traeger.example.org", DisplayName: "Wanda Weber", Email: "wanda.weber@traeger.example.org"})
			if st.wantErr != nil {
				if !errors.Is(err, st.wantErr) {
					t.Fatalf("%s: err = %v, want %v", st.name, err, st.wantErr)
				}
			} else if err != nil {
				t.Fatalf("%s: %v", st.name, err)
			} else if u.Role != st.role {
				t.Errorf("%s: role %q, want %q", st.name, u.Role, st.role)
			}
			if got := trailSince(w, from); !slices.Equal(got, st.trail) {
				t.Errorf("%s: trail %q, want %q", st.name, got, st.trail)
			}
			if st.sub == "p-1" && err == nil {
				if first.ID != "" && u.ID != first.ID {
					t.Errorf("%s: signed in as %s, want the same account %s", st.name, u.ID, first.ID)
				}
				first = u
			}
		}
		if first.Username != "wanda.weber" || first.DisplayName != "Wanda Weber" || first.Email != "wanda.weber@traeger.example.org" {
			t.Errorf("created account = %+v", first)
		}
		// The second person asked for the same user name and got another.
		u2, err := svc.SignInExternal(w.ctx, incident.ExternalSignIn{Issuer: issuer, Subject: "p-2", ClaimValues: []string{"tresor-it"}})
		if err != nil || u2.Username != "wanda.weber-2" {
			t.Errorf("second account = %q, %v; want wanda.weber-2", u2.Username, err)
		}
		// The same subject at another issuer is not the same person.
		if _, err := svc.SignInExternal(w.ctx, incident.ExternalSignIn{Issuer: "https://other.example.org", Subject: "p-2"}); !errors.Is(err, incident.ErrNotMapped) {
			t.Errorf("other issuer: %v, want ErrNotMapped", err)
		}
		// An account made by the provider has no password to sign in with.
		if _, err := svc.Authenticate(w.ctx, "wanda.weber-2", ""); !errors.Is(err, incident.ErrBadCredentials) {
			t.Errorf("password sign-in of a provider account: %v, want ErrBadCredentials", err)
		}
		w.verify()
	})
}

func TestSignInExternalInput(t *testing.T) {
	w := newWorld(t, "sqlite")
	svc := oidcService(w)
	for name, in := range map[string]incident.ExternalSignIn{
		"no issuer":        {Subject: "p", ClaimValues: []string{"tresor-it"}},
		"no subject":       {Issuer: issuer, ClaimValues: []string{"tresor-it"}},
		"control in sub":   {Issuer: issuer, Subject: "p\n1", ClaimValues: []string{"tresor-it"}},
		"subject too long": {Issuer: issuer, Subject: string(make([]byte, 300)), ClaimValues: []string{"tresor-it"}},
	} {
		if _, err := svc.SignInExternal(w.ctx, in); !errors.Is(err, incident.ErrInvalidInput) {
			t.Errorf("%s: %v, want ErrInvalidInput", name, err)
		}
	}
	// Without an oidc section nobody is mapped.
	def, err := policies.Default()
	if err != nil {
		t.Fatal(err)
	}
	w.pol = def
	if _, err := w.service(w.store).SignInExternal(w.ctx, incident.ExternalSignIn{Issuer: issuer, Subject: "p", ClaimValues: []string{"tresor-it"}}); !errors.Is(err, incident.ErrNotMapped) {
		t.Errorf("default policy: %v, want ErrNotMapped", err)
	}
}

// TestOIDCRolesAreRoles keeps the policy loader's list of roles an oidc
// mapping may name equal to the domain's roles.
func TestOIDCRolesAreRoles(t *testing.T) {
	var roles []string
	for _, r := range incident.Roles {
		roles = append(roles, string(r))
	}
	if !slices.Equal(roles, policies.OIDCRoles) {
		t.Errorf("policies.OIDCRoles = %q, incident.Roles = %q", policies.OIDCRoles, roles)
	}
}

// TestRequireProviderSignIn: with require_oidc_for_all_but_local_admins
// only admins sign in with a password.
func TestRequireProviderSignIn(t *testing.T) {
	w := newWorld(t, "sqlite")
	pol, err := policies.Parse("oidc.yaml", []byte(oidcPolicy+"  require_oidc_for_all_but_local_admins: true\n"))
	if err != nil {
		t.Fatal(err)
	}
	w.pol = pol
	svc := w.service(w.store)
	for _, tt := range []struct {
		name string
		ok   bool
	}{{"wanda", false}, {"susi", false}, {"anna", false}, {"adam", true}} {
		_, err := svc.Authenticate(w.ctx, tt.name, "correct horse "+tt.name)
		if tt.ok && err != nil {
			t.Errorf("%s: %v, want signed in", tt.name, err)
		}
		if !tt.ok && !errors.Is(err, incident.ErrBadCredentials) {
			t.Errorf("%s: %v, want ErrBadCredentials", tt.name, err)
		}
	}
}

// TestEndExternalAccess: a logout from the identity provider ends the
// sessions and API tokens created before the logout token's iat and moves
// the account's change time to it, with an audit entry; the same token
// again is refused, and a sign-in after the iat survives any token; used
// token ids are forgotten once expired; an unknown person is no error and
// changes nothing.
func TestEndExternalAccess(t *testing.T) {
	eachDB(t, func(t *testing.T, w *world) {
		svc := oidcService(w)
		w.svc = svc
		u, err := svc.SignInExternal(w.ctx, incident.ExternalSignIn{Issuer: issuer, Subject: "p-1", ClaimValues: []string{"tresor-fachkraft"}})
		if err != nil {
			t.Fatal(err)
		}
		acc := w.store.Accounts()
		open := func(name string) {
			t.Helper()
			now := w.clock.Now()
			if err := acc.CreateSession(w.ctx, account.Session{TokenHash: "s-" + name, UserID: u.ID, Stage: account.StageActive, CSRF: "c", CreatedAt: now, LastSeenAt: now}); err != nil {
				t.Fatal(err)
			}
			if err := acc.CreateAPIToken(w.ctx, account.APIToken{ID: "t-" + name, UserID: u.ID, Name: name, TokenHash: "h-" + name, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
				t.Fatal(err)
			}
		}
		alive := func(name string) bool {
			t.Helper()
			_, serr := acc.Session(w.ctx, "s-"+name)
			tok, terr := acc.APITokenByHash(w.ctx, "h-"+name)
			if terr != nil || (serr == nil) != tok.Active(w.clock.Now()) {
				t.Fatalf("%s: session %v, token %+v %v: not both alive or both ended", name, serr, tok, terr)
			}
			return serr == nil
		}
		user := func() incident.User {
			t.Helper()
			x, err := svc.User(w.ctx, w.admin, u.ID)
			if err != nil {
				t.Fatal(err)
			}
			return x
		}

		logout := func(jti, subject string, iat time.Time) incident.ExternalLogout {
			return incident.ExternalLogout{Issuer: issuer, Subject: subject, TokenID: jti, IssuedAt: iat, ExpiresAt: iat.Add(2 * time.Minute)}
		}

		open("before")
		w.clock.Advance(10 * time.Second)
		issued := w.clock.Now() // the provider's iat: whole seconds
		w.clock.Advance(50 * time.Second)
		from := trailLen(w)
		found, err := svc.EndExternalAccess(w.ctx, logout("jti-1", "p-1", issued))
		if err != nil || !found {
			t.Fatalf("EndExternalAccess = %v, %v", found, err)
		}
		after := user()
		if want := issued.Add(time.Second); !after.UpdatedAt.Equal(want) || after.Disabled || after.Role != u.Role {
			t.Errorf("account after logout = %+v, want only its change time moved to %v", after, want)
		}
		if alive("before") {
			t.Errorf("the sign-in before the logout survived it")
		}
		if got := trailSince(w, from); !slices.Equal(got, []string{"auth.provider_logged_out"}) {
			t.Errorf("trail = %q", got)
		}

		// The person signs in again. The same token, replayed before its
		// exp, is refused and changes nothing; another token issued as
		// long ago ends nothing of the new sign-in either, nor moves the
		// change time back.
		w.clock.Advance(5 * time.Second)
		open("again")
		w.clock.Advance(20 * time.Second)
		from = trailLen(w)
		if _, err := svc.EndExternalAccess(w.ctx, logout("jti-1", "p-1", issued)); !errors.Is(err, incident.ErrLogoutReplayed) {
			t.Errorf("replayed token: %v, want ErrLogoutReplayed", err)
		}
		if got := trailSince(w, from); len(got) != 0 {
			t.Errorf("a replayed token left entries %q", got)
		}
		if _, err := svc.EndExternalAccess(w.ctx, logout("jti-2", "p-1", issued)); err != nil {
			t.Fatal(err)
		}
		if !alive("again") {
			t.Errorf("a logout token issued before the sign-in ended it")
		}
		if got := user().UpdatedAt; !got.Equal(after.UpdatedAt) {
			t.Errorf("an old token moved the change time to %v", got)
		}

		// An iat ahead of the clock (the adapter refuses more than its
		// skew) ends no more than what exists now.
		if _, err := svc.EndExternalAccess(w.ctx, logout("jti-3", "p-1", w.clock.Now().Add(30*time.Second))); err != nil {
			t.Fatal(err)
		}
		if alive("again") || !user().UpdatedAt.Equal(w.clock.Now()) {
			t.Errorf("a logout issued now left the sign-in before it, or set the change time to %v", user().UpdatedAt)
		}

		// Used tokens are forgotten once expired (the adapter refuses
		// them then), at the next logout.
		w.clock.Advance(3 * time.Minute)
		if _, err := svc.EndExternalAccess(w.ctx, logout("jti-4", "p-1", w.clock.Now())); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.EndExternalAccess(w.ctx, logout("jti-1", "p-1", issued)); err != nil {
			t.Errorf("an expired token's id is still kept: %v", err)
		}

		for name, bad := range map[string]incident.ExternalLogout{
			"no iat":       {Issuer: issuer, Subject: "p-1", TokenID: "x", ExpiresAt: issued},
			"no exp":       {Issuer: issuer, Subject: "p-1", TokenID: "x", IssuedAt: issued},
			"no jti":       {Issuer: issuer, Subject: "p-1", IssuedAt: issued, ExpiresAt: issued},
			"jti too long": logout(strings.Repeat("j", 256), "p-1", issued),
		} {
			if _, err := svc.EndExternalAccess(w.ctx, bad); !errors.Is(err, incident.ErrInvalidInput) {
				t.Errorf("%s: %v, want ErrInvalidInput", name, err)
			}
		}
		from = trailLen(w)
		if found, err := svc.EndExternalAccess(w.ctx, logout("jti-5", "nobody", w.clock.Now())); err != nil || found {
			t.Errorf("unknown person: %v, %v; want false, nil", found, err)
		}
		if got := trailSince(w, from); len(got) != 0 {
			t.Errorf("unknown person left entries %q", got)
		}
	})
}

// TestSignOut: signing out ends the session with its audit entry; the
// person goes on to the identity provider exactly when the account is
// linked to one, with the kept ID token as hint when there is one.
func TestSignOut(t *testing.T) {
	eachDB(t, func(t *testing.T, w *world) {
		oidcService(w)
		sealer, err := account.NewSealer(bytes.Repeat([]byte{9}, 32), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		svc := incident.NewService(w.store, w.pol, w.vault, w.msgr, incident.WithClock(w.clock.Now), incident.WithTokenSealer(sealer))
		w.svc = svc
		linked, err := svc.SignInExternal(w.ctx, incident.ExternalSignIn{Issuer: issuer, Subject: "p-1", ClaimValues: []string{"tresor-fachkraft"},
			IDToken: "header.claims-of-p-1.signature"})
		if err != nil {
			t.Fatal(err)
		}
		noToken, err := svc.SignInExternal(w.ctx, incident.ExternalSignIn{Issuer: issuer, Subject: "p-2", ClaimValues: []string{"tresor-fachkraft"}})
		if err != nil {
			t.Fatal(err)
		}
		local, err := svc.User(w.ctx, w.admin, w.worker.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			name string
			u    incident.User
			want incident.SignedOut
		}{
			{"local account", local, incident.SignedOut{}},
			{"linked account", linked, incident.SignedOut{AtProvider: true, Issuer: issuer, IDTokenHint: "header.claims-of-p-1.signature"}},
			{"linked account without a kept ID token", noToken, incident.SignedOut{AtProvider: true, Issuer: issuer}},
		} {
			now := w.clock.Now()
			hash := "s-" + tc.u.ID
			if err := w.store.Accounts().CreateSession(w.ctx, account.Session{TokenHash: hash, UserID: tc.u.ID, Stage: account.StageActive, CSRF: "c", CreatedAt: now, LastSeenAt: now}); err != nil {
				t.Fatal(err)
			}
			from := trailLen(w)
			got, err := svc.SignOut(w.ctx, tc.u, hash)
			if err != nil || got != tc.want {
				t.Errorf("%s: SignOut = %+v, %v; want %+v", tc.name, got, err, tc.want)
			}
			if _, err := w.store.Accounts().Session(w.ctx, hash); !errors.Is(err, incident.ErrNotFound) {
				t.Errorf("%s: session after sign-out: %v", tc.name, err)
			}
			if got := trailSince(w, from); !slices.Equal(got, []string{"auth.signed_out"}) {
				t.Errorf("%s: trail = %q", tc.name, got)
			}
		}
	})
}
