package web

import (
	"fmt"
	"strconv"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
)

// requestMetrics counts requests by route pattern and status class.
// Labels never hold a raw path, an id or a name: the route is gin's
// pattern ("/incidents/:id"), "(unmatched)" when none matched.
type requestMetrics struct {
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	// storageFull counts requests refused because storage was full.
	storageFull prometheus.Counter
}

// registerMetrics adds the web server's metrics to reg: requests,
// latency and the admission queue.
func (s *Server) registerMetrics(reg prometheus.Registerer) error {
	m := &requestMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tresor_http_requests_total",
			Help: "HTTP requests answered, by method, route pattern and status class.",
		}, []string{"method", "route", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "tresor_http_request_duration_seconds",
			Help:    "Time to answer HTTP requests, by method, route pattern and status class.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"method", "route", "status"}),
		storageFull: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "tresor_storage_full_total",
			Help: "Requests answered 507 because the vault's or the database's storage was full.",
		}),
	}
	a := s.admission
	collectors := []prometheus.Collector{m.requests, m.latency, m.storageFull,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "tresor_admission_waiting",
			Help: "Requests waiting in the admission queue for a slot.",
		}, func() float64 { return float64(a.waiting.Load()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "tresor_admission_in_flight",
			Help: "Requests holding an admission slot.",
		}, func() float64 { return float64(len(a.slots)) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "tresor_admission_slots",
			Help: "Admission slots: requests worked on at once.",
		}, func() float64 { return float64(cap(a.slots)) }),
	}
	for _, c := range collectors {
		if err := reg.Register(c); err != nil {
			return fmt.Errorf("web: metrics: %w", err)
		}
	}
	s.metrics = m
	return nil
}

// observe is the outermost middleware: it sees the status the recovery
// and every other middleware settled on.
func (s *Server) observe(c *gin.Context) {
	if s.metrics == nil {
		c.Next()
		return
	}
	start := s.now()
	c.Next()
	route := c.FullPath()
	if route == "" {
		route = "(unmatched)"
	}
	method := c.Request.Method
	if !knownMethod(method) {
		method = "other" // the method is caller text
	}
	status := strconv.Itoa(c.Writer.Status()/100) + "xx"
	s.metrics.requests.WithLabelValues(method, route, status).Inc()
	s.metrics.latency.WithLabelValues(method, route, status).Observe(s.now().Sub(start).Seconds())
}

func knownMethod(m string) bool {
	switch m {
	case "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS":
		return true
	}
	return false
}
