package metrics

import (
	"context"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Server serves a registry's metrics on /metrics.
type Server struct {
	srv *http.Server
	ln  net.Listener
}

// Listen takes addr (host:port; port 0 picks a free one) for the set's metrics; Start serves them.
// Until then, a scrape waits.
func (s *Set) Listen(addr string) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(s.Gatherer(), promhttp.HandlerOpts{Registry: s.reg, ErrorHandling: promhttp.ContinueOnError}))
	return &Server{srv: &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}, ln: ln}, nil
}

// Start serves /metrics until Close.
func (s *Server) Start() {
	go func() { _ = s.srv.Serve(s.ln) }()
}

// Addr is the address the server listens on.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Close stops serving, letting a scrape under way finish for a moment.
func (s *Server) Close() {
	_ = s.ln.Close() // in case Start was never called
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = s.srv.Shutdown(ctx)
}
