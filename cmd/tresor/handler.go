package main

import (
	"net/http"

	"github.com/tresor-evidence/tresor/incident"
	"github.com/tresor-evidence/tresor/incident/sqlstore"
)

// handler builds the HTTP surface. /healthz answers 200 while the
// database answers, else 503, for load balancers and monitoring.
func (c *cli) handler(cfg config, svc *incident.Service, s *sqlstore.Store) (http.Handler, error) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		if err := s.CheckSchema(r.Context()); err != nil {
			http.Error(w, "database unavailable", http.StatusServiceUnavailable)
			return
		}
		w.Write([]byte("ok\n"))
	})
	return mux, nil
}
