package serve

import (
	"crypto/tls"
	"net"
	"net/http"
	"sync"
	"time"
)

// connLimiter caps a listener's open connections. At the cap, a new
// connection takes the place of the connection that has waited longest
// without a request in progress (idle keep-alive, or new and silent);
// when every connection has a request in progress, the new one is closed
// at once. So idle connections, however many a client opens, never hold
// more than max file descriptors, and a client with a request to make
// gets through.
type connLimiter struct {
	net.Listener
	max   int
	met   *metrics
	proto string

	mu   sync.Mutex
	open map[*limitedConn]struct{}
}

type limitedConn struct {
	net.Conn
	l    *connLimiter
	once sync.Once
	// Under l.mu:
	busy  bool      // a request in progress (http.StateActive); gRPC connections always are
	since time.Time // when the connection last became idle, or opened
}

func newConnLimiter(ln net.Listener, max int, met *metrics, proto string) *connLimiter {
	return &connLimiter{Listener: ln, max: max, met: met, proto: proto, open: map[*limitedConn]struct{}{}}
}

func (l *connLimiter) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		lc := &limitedConn{Conn: c, l: l, since: time.Now(), busy: l.proto == "grpc"}
		l.mu.Lock()
		var victim *limitedConn
		if len(l.open) >= l.max {
			for o := range l.open {
				if !o.busy && (victim == nil || o.since.Before(victim.since)) {
					victim = o
				}
			}
			if victim == nil {
				l.mu.Unlock()
				c.Close()
				l.met.connRefused.WithLabelValues(l.proto).Inc()
				continue
			}
			delete(l.open, victim)
		}
		l.open[lc] = struct{}{}
		l.met.connOpen.WithLabelValues(l.proto).Set(float64(len(l.open)))
		l.mu.Unlock()
		if victim != nil {
			victim.Conn.Close() // its server sees the close and forgets it
			l.met.connEvicted.WithLabelValues(l.proto).Inc()
		}
		return lc, nil
	}
}

func (c *limitedConn) Close() error {
	c.once.Do(func() {
		c.l.mu.Lock()
		delete(c.l.open, c)
		c.l.met.connOpen.WithLabelValues(c.l.proto).Set(float64(len(c.l.open)))
		c.l.mu.Unlock()
	})
	return c.Conn.Close()
}

// track is the HTTP server's ConnState hook: it tells the limiter which
// connections have a request in progress.
func (l *connLimiter) track(c net.Conn, st http.ConnState) {
	if tc, ok := c.(*tls.Conn); ok {
		c = tc.NetConn()
	}
	lc, ok := c.(*limitedConn)
	if !ok {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	switch st {
	case http.StateActive, http.StateHijacked:
		lc.busy = true
	case http.StateIdle:
		lc.busy, lc.since = false, time.Now()
	}
}
