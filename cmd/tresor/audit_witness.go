package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/tresor-evidence/tresor/incident/audit"
)

func (c *cli) cmdAuditWitnessKeygen(_ context.Context, args []string) error {
	fs := c.flags("audit witness-keygen", "audit witness-keygen -o FILE [--name NAME]\n\n"+
		"Creates the data-protection officer's witness key: writes the private key to FILE (mode 0600,\n"+
		"never on the server) and prints the verifier key, which goes, one a line, into the file named\n"+
		"by TRESOR_AUDIT_WITNESS_KEYS_FILE on the server.")
	out := fs.String("o", "", "write the private key to FILE (must not exist)")
	name := fs.String("name", "tresor-witness", "key name shown in the cosigned notes")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *out == "" {
		return usageError("-o FILE is required")
	}
	skey, vkey, err := audit.GenerateKey(rand.Reader, *name)
	if err != nil {
		return err
	}
	if err := writeNew(*out, []byte(skey+"\n"), 0o600); err != nil {
		return err
	}
	fmt.Fprintf(c.stderr, "wrote the witness key to %s; keep it off the server. Its verifier key:\n", *out)
	_, err = fmt.Fprintln(c.stdout, vkey)
	return err
}

func (c *cli) cmdAuditCosign(ctx context.Context, args []string) error {
	fs := c.flags("audit cosign", "audit cosign --key FILE --server URL --server-key FILE [--token-file FILE] [--state FILE]\n\n"+
		"Runs on the witness's machine. Fetches the server's latest checkpoint, checks the server's\n"+
		"signature and that the tree extends the one cosigned last (a consistency proof), adds the\n"+
		"witness's signature and posts it back. Refuses, and changes nothing, if the log was rewritten\n"+
		"or truncated. The API token (an auditor's) is read from --token-file or standard input.\n"+
		"The state file keeps the last cosigned checkpoint; 'tresor audit verify --checkpoint' takes it.")
	keyFile := fs.String("key", "", "the witness's private key (from 'tresor audit witness-keygen')")
	server := fs.String("server", "", "the Tresor server's URL, e.g. https://tresor.example.org")
	serverKey := fs.String("server-key", "", "the server's audit verifier key (audit-signing.key.pub)")
	tokenFile := fs.String("token-file", "", "read the API token from FILE instead of standard input")
	state := fs.String("state", "", "last cosigned checkpoint (default: the key file + .state)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *keyFile == "" || *server == "" || *serverKey == "" {
		return usageError("--key, --server and --server-key are required")
	}
	if *state == "" {
		*state = *keyFile + ".state"
	}
	base, err := url.Parse(strings.TrimRight(*server, "/"))
	if err != nil || (base.Scheme != "https" && base.Scheme != "http") || base.Host == "" {
		return usageError("--server must be an http(s) URL, not %q", *server)
	}
	skey, err := os.ReadFile(*keyFile)
	if err != nil {
		return fmt.Errorf("failed to read witness key: %w", err)
	}
	signer, err := audit.NewSigner(string(skey))
	if err != nil {
		return err
	}
	verifier, err := readVerifier(*serverKey)
	if err != nil {
		return err
	}
	token, err := c.readSecret(*tokenFile, "API token")
	if errors.Is(err, errUsage) {
		return usageError("no API token given: pipe it on standard input or use --token-file")
	} else if err != nil {
		return err
	}
	w := witnessRun{api: apiClient{base: base.String(), token: token, http: c.httpClient()}, server: verifier, signer: signer, state: *state}
	res, err := w.cosign(ctx)
	if err != nil {
		return err
	}
	if res.unchanged {
		fmt.Fprintf(c.stdout, "checkpoint of %d entries was cosigned before; nothing new\n", res.tree.N)
		return nil
	}
	fmt.Fprintf(c.stdout, "cosigned checkpoint of %d entries, root %s (extends the %d entries cosigned before)\n", res.tree.N, res.tree.Hash, res.last.N)
	return nil
}

// httpClient is the client for commands that talk to a server.
func (c *cli) httpClient() *http.Client {
	if c.client != nil {
		return c.client
	}
	return &http.Client{Timeout: 2 * time.Minute}
}

// witnessRun is one run of 'tresor audit cosign'.
type witnessRun struct {
	api    apiClient
	server note.Verifier
	signer note.Signer
	state  string
}

type cosignResult struct {
	last, tree tlog.Tree
	unchanged  bool
}

func (w witnessRun) cosign(ctx context.Context) (cosignResult, error) {
	last, err := w.readState()
	if err != nil {
		return cosignResult{}, err
	}
	var cp apiCheckpointJSON
	if err := w.api.do(ctx, http.MethodGet, "/api/v1/audit/checkpoint", nil, &cp); err != nil {
		return cosignResult{}, fmt.Errorf("failed to fetch the latest checkpoint: %w", err)
	}
	tree, err := audit.OpenCheckpoint([]byte(cp.Note), w.server)
	if err != nil {
		return cosignResult{}, fmt.Errorf("REFUSING TO COSIGN: the server's checkpoint is not signed with its audit key: %w", err)
	}
	var proof tlog.TreeProof
	if last.N > 0 && tree.N > last.N {
		var p apiConsistencyJSON
		path := "/api/v1/audit/consistency?old=" + strconv.FormatInt(last.N, 10) + "&size=" + strconv.FormatInt(tree.N, 10)
		if err := w.api.do(ctx, http.MethodGet, path, nil, &p); err != nil {
			return cosignResult{}, fmt.Errorf("failed to fetch the consistency proof: %w", err)
		}
		if proof, err = p.treeProof(); err != nil {
			return cosignResult{}, err
		}
	}
	cosigned, tree, err := audit.Cosign([]byte(cp.Note), w.server, w.signer, last, proof)
	if errors.Is(err, audit.ErrNotExtending) {
		return cosignResult{}, fmt.Errorf("REFUSING TO COSIGN: THE AUDIT LOG WAS REWRITTEN OR TRUNCATED since the checkpoint of %d entries cosigned last; keep %s and report this: %w", last.N, w.state, err)
	} else if err != nil {
		return cosignResult{}, err
	}
	res := cosignResult{last: last, tree: tree, unchanged: tree == last}
	if res.unchanged {
		return res, nil
	}
	err = w.api.do(ctx, http.MethodPost, "/api/v1/audit/cosignatures", apiCosignJSON{Note: string(cosigned)}, nil)
	var he *httpError
	if errors.As(err, &he) && he.status == http.StatusConflict {
		err = nil // stored by an earlier run whose state was not saved
	}
	if err != nil {
		return cosignResult{}, fmt.Errorf("failed to post the cosigned checkpoint: %w", err)
	}
	return res, w.writeState(cosigned)
}

// readState returns the tree cosigned last, the zero tree if none. The
// state file holds that cosigned note itself.
func (w witnessRun) readState() (tlog.Tree, error) {
	b, err := os.ReadFile(w.state)
	if errors.Is(err, os.ErrNotExist) {
		return tlog.Tree{}, nil
	} else if err != nil {
		return tlog.Tree{}, fmt.Errorf("failed to read cosign state: %w", err)
	}
	t, err := audit.OpenCheckpoint(b, w.server)
	if err != nil {
		return tlog.Tree{}, fmt.Errorf("cosign state %s: %w", w.state, err)
	}
	return t, nil
}

// writeState replaces the state file atomically (write, sync, rename).
func (w witnessRun) writeState(cosigned []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(w.state), ".cosign-state-*")
	if err != nil {
		return fmt.Errorf("failed to save cosign state: %w", err)
	}
	_, err = tmp.Write(cosigned)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), w.state)
	}
	if err != nil {
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("failed to save cosign state: %w", err)
	}
	return nil
}

// The JSON of the audit checkpoint API (see web/openapi.yaml).
type apiCheckpointJSON struct {
	Size int64  `json:"size"`
	Root string `json:"root"`
	Note string `json:"note"`
}

type apiConsistencyJSON struct {
	Old   int64    `json:"old"`
	Size  int64    `json:"size"`
	Proof []string `json:"proof"`
}

type apiCosignJSON struct {
	Note string `json:"note"`
}

func (p apiConsistencyJSON) treeProof() (tlog.TreeProof, error) {
	out := make(tlog.TreeProof, len(p.Proof))
	for i, s := range p.Proof {
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil || len(b) != tlog.HashSize {
			return nil, fmt.Errorf("consistency proof: hash %d is not %d bytes in base64", i+1, tlog.HashSize)
		}
		copy(out[i][:], b)
	}
	return out, nil
}

// apiClient calls Tresor's JSON API with a bearer token.
type apiClient struct {
	base  string
	token string
	http  *http.Client
}

type httpError struct {
	status int
	body   string
}

func (e *httpError) Error() string {
	return fmt.Sprintf("server answered %d: %s", e.status, e.body)
}

// do sends in (as JSON, when not nil) and decodes the answer into out
// (when not nil). An answer other than 2xx is an *httpError.
func (a apiClient) do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, a.base+path, body)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+a.token)
	req.Header.Set("Accept", "application/json")
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := a.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("failed to read the server's answer: %w", err)
	}
	if resp.StatusCode/100 != 2 {
		return &httpError{status: resp.StatusCode, body: strings.TrimSpace(string(b))}
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("failed to decode the server's answer: %w", err)
	}
	return nil
}
