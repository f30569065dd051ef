package incident

import (
	"errors"
	"fmt"
	"testing"

	"github.com/tresor-evidence/tresor/policies"
)

// TestProviderCheckRule: what the provider's answer at the periodic check
// means for an account's sessions and tokens.
func TestProviderCheckRule(t *testing.T) {
	pol, err := policies.Parse("p.yaml", []byte("oidc:\n  claim: groups\n  roles:\n    leitung: supervisor\n    fachkraft: worker\n"))
	if err != nil {
		t.Fatal(err)
	}
	s := &Service{policy: pol}
	other := errors.New("the ID token's signature does not verify")
	for _, tc := range []struct {
		name    string
		current Role
		values  []string
		err     error
		want    verdict
	}{
		{"still accepted, same role", RoleWorker, []string{"alle", "fachkraft"}, nil, verdict{}},
		{"first mapping wins, same role", RoleSupervisor, []string{"fachkraft", "leitung"}, nil, verdict{}},
		{"moved to another mapped group", RoleWorker, []string{"leitung"}, nil, verdict{end: true, reason: CheckRoleChanged}},
		{"no longer in a mapped group", RoleWorker, []string{"alle"}, nil, verdict{end: true, reason: CheckNotMapped}},
		{"claim gone", RoleWorker, nil, nil, verdict{end: true, reason: CheckNotMapped}},
		{"refresh token refused (invalid_grant)", RoleWorker, nil, fmt.Errorf("x: %w", ErrRefreshRefused), verdict{end: true, reason: CheckRefreshRefused, dropRefresh: true}},
		{"userinfo refused", RoleWorker, nil, fmt.Errorf("x: %w", ErrProviderRefused), verdict{end: true, reason: CheckRefused, dropRefresh: true}},
		{"unreachable or 5xx", RoleWorker, nil, fmt.Errorf("x: %w", ErrUnavailable), verdict{retry: true}},
		{"an answer that does not pass the checks", RoleWorker, []string{"fachkraft"}, other, verdict{end: true, reason: CheckUnconfirmed, dropRefresh: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := s.decide(tc.current, ProviderAnswer{ClaimValues: tc.values}, tc.err); got != tc.want {
				t.Errorf("decide = %+v, want %+v", got, tc.want)
			}
		})
	}
}
