package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/net/netutil"
	"golang.org/x/time/rate"
)

// Defaults of Options.
const (
	DefaultRate     = 20   // requests per second per client IP
	DefaultBurst    = 40   // bucket size per client
	DefaultMaxConns = 2048 // connections served at once; more wait in the backlog
	maxClients      = 1 << 16
	maxQuery        = 512 // bytes of query string
)

// ErrListen: the address could not be bound.
var ErrListen = errors.New("api: cannot listen")

// ListenAddr turns a bare port ("8080" or ":8080") into 127.0.0.1:PORT;
// anything with a host is returned as it is.
func ListenAddr(s string) string {
	s = strings.TrimSpace(s)
	if _, err := strconv.ParseUint(strings.TrimPrefix(s, ":"), 10, 16); err == nil {
		return "127.0.0.1:" + strings.TrimPrefix(s, ":")
	}
	return s
}

// Server is a running HTTP listener.
type Server struct {
	ln       net.Listener
	srv      *http.Server
	done     chan error
	once     sync.Once
	shutdown error
}

// Listen binds addr (see ListenAddr) and serves h with timeouts and a
// connection cap until Shutdown.
func Listen(addr string, h http.Handler, maxConns int) (*Server, error) {
	if maxConns <= 0 {
		maxConns = DefaultMaxConns
	}
	ln, err := net.Listen("tcp", ListenAddr(addr))
	if err != nil {
		return nil, fmt.Errorf("%w on %q: %w", ErrListen, addr, err)
	}
	s := &Server{ln: netutil.LimitListener(ln, maxConns), done: make(chan error, 1), srv: &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      30 * time.Second, // a full snapshot is a few MB
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    8 << 10,
	}}
	go func() { s.done <- s.srv.Serve(s.ln) }()
	return s, nil
}

// Addr is the bound address.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Shutdown stops accepting, waits for requests under way until ctx ends,
// then closes what is left. Later calls return the first's result.
func (s *Server) Shutdown(ctx context.Context) error {
	s.once.Do(func() {
		err := s.srv.Shutdown(ctx)
		if err != nil {
			err = errors.Join(err, s.srv.Close())
		}
		if serr := <-s.done; !errors.Is(serr, http.ErrServerClosed) {
			err = errors.Join(err, serr)
		}
		s.shutdown = err
	})
	return s.shutdown
}

// limiter is a token bucket per client IP, forgotten wholesale when more
// than maxClients are tracked (a flood of sources cannot grow it unbounded).
type limiter struct {
	mu      sync.Mutex
	r       rate.Limit
	burst   int
	clients map[string]*rate.Limiter
}

func newLimiter(r float64, burst int) *limiter {
	if r == 0 {
		r = DefaultRate
	}
	if burst <= 0 {
		burst = DefaultBurst
	}
	return &limiter{r: rate.Limit(r), burst: burst, clients: map[string]*rate.Limiter{}}
}

func (l *limiter) allow(remote string) bool {
	if l.r < 0 {
		return true
	}
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		host = remote
	}
	l.mu.Lock()
	lim := l.clients[host]
	if lim == nil {
		if len(l.clients) >= maxClients {
			clear(l.clients)
		}
		lim = rate.NewLimiter(l.r, l.burst)
		l.clients[host] = lim
	}
	l.mu.Unlock()
	return lim.Allow()
}

// apiError is the JSON body of every error (the shape Django REST
// framework, which bitnodes runs on, uses).
type apiError struct {
	Detail string `json:"detail"`
}

func writeError(w http.ResponseWriter, status int, format string, args ...any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(apiError{Detail: fmt.Sprintf(format, args...)})
}

func writeJSON(w http.ResponseWriter, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		writeError(w, http.StatusInternalServerError, "encoding the response: %v", err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	_, _ = w.Write(append(b, '\n'))
}

// guard applies what every request passes through: method, query size,
// the rate limit.
func guard(l *limiter, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			writeError(w, http.StatusMethodNotAllowed, "method %s not allowed: the API is read-only", r.Method)
			return
		}
		if len(r.URL.RawQuery) > maxQuery {
			writeError(w, http.StatusRequestURITooLong, "query string over %d bytes", maxQuery)
			return
		}
		if !l.allow(r.RemoteAddr) {
			w.Header().Set("Retry-After", "1")
			writeError(w, http.StatusTooManyRequests, "request rate over %g/s for this client", float64(l.r))
			return
		}
		h.ServeHTTP(w, r)
	})
}
