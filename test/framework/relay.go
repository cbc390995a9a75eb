package framework

import (
	"io"
	"net"
	"sync"
	"sync/atomic"
)

// Relay forwards TCP connections from a loopback port to a target, so that a test can lose the
// answers a process was waiting for when it dies: WithholdAnswers stops delivering the target's
// answers on the connections open at that moment and keeps the target's side of them open even
// once their client has gone. The target then carries out what it was asked to the end, as it
// would if the client had died after its request had left and before the answer came back; had
// the connection closed instead, a gRPC server would cancel the call.
type Relay struct {
	// Address is where clients connect, 127.0.0.1:<port>.
	Address  string
	target   string
	listener net.Listener

	mu     sync.Mutex
	open   map[*relayedConn]bool
	closed bool
}

type relayedConn struct {
	client, target net.Conn
	withheld       atomic.Bool
}

// StartRelay listens on a free loopback port and relays every connection to target.
func StartRelay(target string) (*Relay, error) {
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	r := &Relay{Address: listener.Addr().String(), target: target, listener: listener, open: map[*relayedConn]bool{}}
	go r.accept()
	return r, nil
}

func (r *Relay) accept() {
	for {
		client, err := r.listener.Accept()
		if err != nil {
			return // closed
		}
		target, err := net.Dial("tcp", r.target)
		if err != nil {
			client.Close()
			continue
		}
		c := &relayedConn{client: client, target: target}
		r.mu.Lock()
		if r.closed {
			r.mu.Unlock()
			c.close()
			return
		}
		r.open[c] = true
		r.mu.Unlock()
		go r.toTarget(c)
		go r.toClient(c)
	}
}

// toTarget copies the client's requests. A withheld connection whose client has gone stays open
// towards the target, so that the target does not take the client's end for a cancellation.
func (r *Relay) toTarget(c *relayedConn) {
	_, _ = io.Copy(c.target, c.client)
	if !c.withheld.Load() {
		r.drop(c)
	}
}

// toClient copies the target's answers, and reads and drops them once the connection is
// withheld, so that the target is never blocked writing them.
func (r *Relay) toClient(c *relayedConn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := c.target.Read(buf)
		if n > 0 && !c.withheld.Load() {
			if _, werr := c.client.Write(buf[:n]); werr != nil && !c.withheld.Load() {
				r.drop(c)
				return
			}
		}
		if err != nil {
			r.drop(c)
			return
		}
	}
}

func (r *Relay) drop(c *relayedConn) {
	r.mu.Lock()
	delete(r.open, c)
	r.mu.Unlock()
	c.close()
}

func (c *relayedConn) close() {
	c.client.Close()
	c.target.Close()
}

// WithholdAnswers withholds from now on the answers of every connection open now, and returns
// how many were not withheld yet; connections made later are relayed as before.
func (r *Relay) WithholdAnswers() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	withheld := 0
	for c := range r.open {
		if !c.withheld.Swap(true) {
			withheld++
		}
	}
	return withheld
}

// DropConnections closes every connection open now, both ways, as the death of their client
// would: the target sees its client gone (a gRPC server cancels the calls under way on it).
// Connections made later are relayed as before.
func (r *Relay) DropConnections() int {
	r.mu.Lock()
	open := r.open
	r.open = map[*relayedConn]bool{}
	r.mu.Unlock()
	for c := range open {
		c.close()
	}
	return len(open)
}

// Close stops listening and closes every connection, withheld ones too.
func (r *Relay) Close() {
	r.mu.Lock()
	r.closed = true
	r.mu.Unlock()
	r.listener.Close()
	r.DropConnections()
}
