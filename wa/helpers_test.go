package wa

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"go.mau.fi/whatsmeow"
	"go.mau.fi/whatsmeow/appstate"
	"go.mau.fi/whatsmeow/proto/waE2E"
	"go.mau.fi/whatsmeow/store"
	wastore "go.mau.fi/whatsmeow/store/sqlstore"
	"go.mau.fi/whatsmeow/types"

	"github.com/tresor-evidence/tresor/account"
	"github.com/tresor-evidence/tresor/account/accounttest"
	"github.com/tresor-evidence/tresor/incident"
	"github.com/tresor-evidence/tresor/incident/password"
	"github.com/tresor-evidence/tresor/incident/sqlstore"
	"github.com/tresor-evidence/tresor/incident/sqlstore/sqltest"
	"github.com/tresor-evidence/tresor/internal/testclock"
	"github.com/tresor-evidence/tresor/policies"
)

// Addresses used throughout: the worker's account, a young person (with
// phone-number and LID form) and a group.
var (
	ownPN    = types.NewJID("4915110000001", types.DefaultUserServer)
	ownLID   = types.NewJID("100000000000001", types.HiddenUserServer)
	ownDev   = types.NewADJID("4915110000001", 0, 7) // Tresor's companion device
	youthPN  = types.NewJID("4917012345678", types.DefaultUserServer)
	youthLID = types.NewJID("200000000000002", types.HiddenUserServer)
	groupJID = types.NewJID("120363000000000001", types.GroupServer)
	t0       = time.Date(2026, 11, 27, 9, 30, 0, 0, time.UTC)
)

// sent records what the adapter asked WhatsApp to do.
type sent struct {
	to  types.JID
	msg *waE2E.Message
}

// netClient is a real *whatsmeow.Client (its builders and DownloadToFile
// run for real) whose network-sending methods are replaced.
type netClient struct {
	*whatsmeow.Client
	mu         sync.Mutex
	messages   []sent
	patches    []appstate.PatchInfo
	sendErr    error
	patchErr   error
	groupInfo  *types.GroupInfo
	groupErr   error
	groupCalls int
	// mediaHosts is the fake media connection (see DownloadToFile).
	mediaHosts []string
	fetches    []fetchCall      // FetchAppState calls
	peer       []*waE2E.Message // SendPeerMessage calls
}

// DownloadToFile is whatsmeow's DownloadToFile with a fake media
// connection. The real one asks WhatsApp for its media hosts over the
// websocket (a media_conn IQ, mediaconn.go), which tests cannot reach;
// everything after that runs whatsmeow's own code: the URL as
// DownloadMediaWithPathToFile builds it from host and direct path, the
// HTTP request through the client's media HTTP client (answered by a
// local TLS server), the status errors (403, 404, 410), the encrypted
// hash, HMAC, decryption and file hash checks
// (downloadAndDecryptToFile), and the same stop-or-next-host rule.
func (c *netClient) DownloadToFile(ctx context.Context, msg whatsmeow.DownloadableMessage, file whatsmeow.File) error {
	mediaType := whatsmeow.GetMediaType(msg)
	if mediaType == "" {
		return fmt.Errorf("%w %T", whatsmeow.ErrUnknownMediaType, msg)
	}
	if len(msg.GetDirectPath()) == 0 {
		return whatsmeow.ErrNoURLPresent
	}
	c.mu.Lock()
	hosts := slices.Clone(c.mediaHosts)
	c.mu.Unlock()
	if len(hosts) == 0 {
		return errors.New("test has no media server")
	}
	var err error
	for _, host := range hosts {
		url := fmt.Sprintf("https://%s%s&hash=%s&mms-type=%s&__wa-mms=", host, msg.GetDirectPath(),
			base64.URLEncoding.EncodeToString(msg.GetFileEncSHA256()), mmsTypes[mediaType])
		//lint:ignore SA1019 the one way to run whatsmeow's download without its websocket
		err = c.DangerousInternals().DownloadAndDecryptToFile(ctx, url, msg.GetMediaKey(), mediaType, msg.GetFileEncSHA256(), msg.GetFileSHA256(), file)
		if err == nil || errors.Is(err, whatsmeow.ErrInvalidMediaSHA256) || errors.Is(err, whatsmeow.ErrMediaDownloadFailedWith403) ||
			errors.Is(err, whatsmeow.ErrMediaDownloadFailedWith404) || errors.Is(err, whatsmeow.ErrMediaDownloadFailedWith410) {
			return err
		}
	}
	return fmt.Errorf("failed to download media from last host: %w", err)
}

// mmsTypes is whatsmeow's (unexported) mediaTypeToMMSType for the kinds
// the tests download.
var mmsTypes = map[whatsmeow.MediaType]string{
	whatsmeow.MediaImage: "image", whatsmeow.MediaVideo: "video", whatsmeow.MediaAudio: "audio", whatsmeow.MediaDocument: "document",
}

type fetchCall struct {
	name     appstate.WAPatchName
	fullSync bool
}

func (c *netClient) FetchAppState(ctx context.Context, name appstate.WAPatchName, fullSync, onlyIfNotSynced bool) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.fetches = append(c.fetches, fetchCall{name, fullSync})
	return errors.New("the full sync failed as well")
}

func (c *netClient) SendPeerMessage(ctx context.Context, msg *waE2E.Message) (whatsmeow.SendResponse, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.peer = append(c.peer, msg)
	return whatsmeow.SendResponse{ID: "3EB0RECOVERY01", Timestamp: t0}, nil
}

func (c *netClient) SendMessage(ctx context.Context, to types.JID, msg *waE2E.Message, extra ...whatsmeow.SendRequestExtra) (whatsmeow.SendResponse, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.sendErr != nil {
		return whatsmeow.SendResponse{}, c.sendErr
	}
	c.messages = append(c.messages, sent{to, msg})
	return whatsmeow.SendResponse{ID: "3EB0REVOKE0001", Timestamp: t0.Add(time.Hour)}, nil
}

func (c *netClient) SendAppState(ctx context.Context, patch appstate.PatchInfo) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.patchErr != nil {
		return c.patchErr
	}
	c.patches = append(c.patches, patch)
	return nil
}

func (c *netClient) GetGroupInfo(ctx context.Context, jid types.JID) (*types.GroupInfo, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.groupCalls++
	return c.groupInfo, c.groupErr
}

// env is a real incident.Service over SQLite with whatsmeow's device
// store in the same database, and one worker's adapter.
type env struct {
	t       *testing.T
	store   *sqlstore.Store
	svc     *incident.Service
	pol     *policies.Policy
	clock   *testclock.Clock
	worker  incident.User
	devices *wastore.Container
	dev     *store.Device
	cli     *netClient
	ad      *Adapter
	tempDir string
	vault   *memVault
	sleeps  []time.Duration // the handler's retry back-offs, in order
}

func newEnv(t *testing.T, tune ...func(p *policies.Policy)) *env {
	t.Helper()
	return newEnvOn(t, sqlstore.SQLite, tune...)
}

// newEnvOn is newEnv on the given database.
func newEnvOn(t *testing.T, d sqlstore.Dialect, tune ...func(p *policies.Policy)) *env {
	t.Helper()
	ctx := context.Background()
	st := sqltest.Open(t, d)
	pol, err := policies.Default()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range tune {
		f(pol)
	}
	e := &env{t: t, store: st, pol: pol, clock: testclock.New(t0), tempDir: t.TempDir(), vault: &memVault{}}
	e.svc = incident.NewService(st, pol, e.vault, nil, incident.WithClock(e.clock.Now),
		incident.WithPasswordParams(password.Params{Memory: 64, Time: 1, Threads: 1}))
	e.worker, err = e.svc.AddUser(ctx, incident.System, incident.NewUser{Username: "fachkraft", Role: incident.RoleWorker, Password: "a long enough password 1"})
	if err != nil {
		t.Fatal(err)
	}
	db, err := st.SQLDB()
	if err != nil {
		t.Fatal(err)
	}
	e.devices = openDevices(t, db, string(d))
	e.dev = e.devices.NewDevice()
	own := ownDev
	e.dev.ID, e.dev.LID = &own, ownLID
	e.dev.LIDs = e.devices.LIDMap // what the container sets once a paired device is saved
	e.cli = &netClient{Client: whatsmeow.NewClient(e.dev, nil)}
	key := make([]byte, SealerKeySize)
	if _, err := rand.Read(key); err != nil {
		t.Fatal(err)
	}
	sealer, err := NewSealer(key)
	if err != nil {
		t.Fatal(err)
	}
	// Back-off waits move the test clock instead of sleeping.
	sleep := func(ctx context.Context, d time.Duration) error {
		e.sleeps = append(e.sleeps, d)
		e.clock.Advance(d)
		return nil
	}
	e.ad, err = NewAdapter(e.worker.ID, e.cli, e.dev, st, e.svc, sealer, Options{TempDir: e.tempDir, Clock: e.clock.Now, Sleep: sleep})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// incidents lists the worker's incidents.
func (e *env) incidents() []incident.Incident {
	e.t.Helper()
	list, err := e.svc.Incidents(context.Background(), e.worker.Actor(), incident.IncidentFilter{})
	if err != nil {
		e.t.Fatal(err)
	}
	return list
}

func (e *env) device() incident.LinkedDevice {
	e.t.Helper()
	d, err := e.store.Device(context.Background(), e.worker.ID)
	if err != nil {
		e.t.Fatal(err)
	}
	return d
}

// handle feeds an event and fails the test unless the handler succeeds.
func (e *env) handle(evt any) {
	e.t.Helper()
	if !e.ad.Handle(evt) {
		e.t.Fatalf("Handle(%T) = false", evt)
	}
}

// openDevices migrates whatsmeow's tables as `tresor migrate` does and
// opens the device store as serve does.
func openDevices(t *testing.T, db *sql.DB, dialect string) *wastore.Container {
	t.Helper()
	ctx := context.Background()
	if _, _, err := MigrateDeviceStore(ctx, db, dialect); err != nil {
		t.Fatal(err)
	}
	c, err := OpenDeviceStore(ctx, db, dialect)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// newAuthenticator enrols supervisors and hands out their step-up codes.
func newAuthenticator(t *testing.T, e *env) *accounttest.Authenticator {
	t.Helper()
	f, err := account.NewFactors(bytes.Repeat([]byte{7}, 32), rand.Reader, e.clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	return &accounttest.Authenticator{Factors: f, Store: e.store.Accounts(), Now: e.clock.Now}
}
