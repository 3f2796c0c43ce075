package e2e

import (
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// tcpProxy forwards TCP connections to a server (MinIO, in these tests) and
// passes its answers on as its policy says: slowly (slowProxy), or only as
// far as the test lets them (gatedProxy). Requests pass freely.
type tcpProxy struct {
	URL    string
	target string // host:port
	ln     net.Listener
	wg     sync.WaitGroup
	mu     sync.Mutex
	conns  []net.Conn
	// pass is given the size of a piece of an answer; it waits as long as
	// the policy wants and returns how much of it may go now, 0 to end the
	// connection.
	pass func(n int) int
}

func startTCPProxy(t *testing.T, targetURL string, pass func(n int) int) *tcpProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	p := &tcpProxy{URL: "http://" + ln.Addr().String(), target: strings.TrimPrefix(targetURL, "http://"), ln: ln, pass: pass}
	p.wg.Add(1)
	go p.serve()
	return p
}

func (p *tcpProxy) serve() {
	defer p.wg.Done()
	for {
		client, err := p.ln.Accept()
		if err != nil {
			return
		}
		upstream, err := net.Dial("tcp", p.target)
		if err != nil {
			client.Close()
			continue
		}
		p.mu.Lock()
		p.conns = append(p.conns, client, upstream)
		p.mu.Unlock()
		p.wg.Add(2)
		go func() {
			defer p.wg.Done()
			_, _ = io.Copy(upstream, client)
			upstream.Close()
		}()
		go func() {
			defer p.wg.Done()
			p.answer(client, upstream)
			client.Close()
		}()
	}
}

// answer copies the server's answers to the client as pass allows.
func (p *tcpProxy) answer(dst io.Writer, src io.Reader) {
	buf := make([]byte, 16<<10)
	for {
		n, err := src.Read(buf)
		for off := 0; off < n; {
			k := p.pass(n - off)
			if k == 0 {
				return
			}
			if _, werr := dst.Write(buf[off : off+k]); werr != nil {
				return
			}
			off += k
		}
		if err != nil {
			return
		}
	}
}

// close stops listening, ends every connection and waits for the copies.
func (p *tcpProxy) close() {
	p.ln.Close()
	p.mu.Lock()
	for _, c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
}

// slowProxy passes answers at bytesPerSec per connection (0: full speed):
// a slow network, so that a copy is still under way when a test acts.
type slowProxy struct {
	*tcpProxy
	bytesPerSec atomic.Int64
}

func startSlowProxy(t *testing.T, targetURL string, bytesPerSec int) *slowProxy {
	t.Helper()
	p := &slowProxy{}
	p.bytesPerSec.Store(int64(bytesPerSec))
	p.tcpProxy = startTCPProxy(t, targetURL, func(n int) int {
		if rate := p.bytesPerSec.Load(); rate > 0 {
			time.Sleep(time.Duration(n) * time.Second / time.Duration(rate))
		}
		return n
	})
	t.Cleanup(p.close)
	return p
}

// gatedProxy passes answers freely when open, else within a budget of bytes
// the test adds to: a job reading through it advances exactly as far as the
// test allows, whatever the machine's speed.
type gatedProxy struct {
	*tcpProxy
	mu     sync.Mutex
	cond   *sync.Cond
	open   bool
	budget int64
	closed bool
}

func startGatedProxy(t *testing.T, targetURL string) *gatedProxy {
	t.Helper()
	p := &gatedProxy{open: true}
	p.cond = sync.NewCond(&p.mu)
	p.tcpProxy = startTCPProxy(t, targetURL, p.take)
	t.Cleanup(p.close)
	return p
}

// take waits until some bytes may pass and returns how many (at most max;
// 0 once the proxy is closed).
func (p *gatedProxy) take(max int) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	for !p.open && p.budget == 0 && !p.closed {
		p.cond.Wait()
	}
	switch {
	case p.closed:
		return 0
	case p.open:
		return max
	}
	n := int(min(int64(max), p.budget))
	p.budget -= int64(n)
	return n
}

// hold stops the answers: from now on only what allow gives passes.
func (p *gatedProxy) hold() {
	p.mu.Lock()
	p.open, p.budget = false, 0
	p.mu.Unlock()
}

// allow lets n more bytes of answers pass.
func (p *gatedProxy) allow(n int64) {
	p.mu.Lock()
	p.budget += n
	p.cond.Broadcast()
	p.mu.Unlock()
}

// release lets everything pass again.
func (p *gatedProxy) release() {
	p.mu.Lock()
	p.open = true
	p.cond.Broadcast()
	p.mu.Unlock()
}

func (p *gatedProxy) close() {
	p.mu.Lock()
	p.closed = true
	p.cond.Broadcast()
	p.mu.Unlock()
	p.tcpProxy.close()
}
