package accounttest

import (
	"context"
	"crypto/sha256"
	"sync"
	"testing"
	"time"

	"github.com/tresor-evidence/tresor/account"
)

// Authenticator is an authenticator app for tests of code that needs
// step-up codes: it enrols users with real TOTP secrets sealed by
// Factors and hands out codes the verifier accepts now, each once.
type Authenticator struct {
	Factors *account.Factors
	Store   account.Store
	Now     func() time.Time

	mu   sync.Mutex
	keys map[string][]byte
	used map[string]int64
}

// Enroll gives the user a second factor, directly in the store.
func (a *Authenticator) Enroll(t testing.TB, userID string) {
	t.Helper()
	sum := sha256.Sum256([]byte("totp " + userID))
	key := sum[:account.TOTPKeySize]
	sealed, err := a.Factors.Seal(key, account.PurposeTOTP, userID)
	if err != nil {
		t.Fatal(err)
	}
	f := account.SecondFactor{UserID: userID, SecretSealed: sealed, EnabledAt: a.Now()}
	if err := a.Store.EnableSecondFactor(context.Background(), f, nil); err != nil {
		t.Fatal(err)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.keys == nil {
		a.keys, a.used = map[string][]byte{}, map[string]int64{}
	}
	a.keys[userID] = key
}

// codeMargin is how long a handed-out code stays accepted at least.
const codeMargin = 10 * time.Second

// Code returns a code of the enrolled user for a time step not handed
// out before. The verifier accepts TOTPSkew steps around now, so a test
// gets 2*TOTPSkew+1 codes per period; it fails when they are used up.
func (a *Authenticator) Code(t testing.TB, userID string) string {
	t.Helper()
	a.mu.Lock()
	defer a.mu.Unlock()
	key, ok := a.keys[userID]
	if !ok {
		t.Fatalf("user %s is not enrolled", userID)
	}
	now := a.Now()
	cur := account.TOTPStep(now)
	// The oldest accepted step stops being accepted when the current one
	// ends; near that end it is skipped, so that a code handed out now
	// is still good when a loaded machine checks it a few seconds later.
	lo := cur - account.TOTPSkew
	if end := time.Unix((cur+1)*account.TOTPPeriod, 0); end.Sub(now) < codeMargin {
		lo++
	}
	next := max(a.used[userID]+1, lo)
	if next > cur+account.TOTPSkew {
		t.Fatalf("all codes of user %s for now are used: advance the clock", userID)
	}
	a.used[userID] = next
	return account.TOTPCode(key, next)
}
