package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"slices"
	"time"
)

// rawConn is the load clients' HTTP/1.1 client: one keep-alive connection
// that sends the same request bytes every time and reads the answer with
// as little work as HTTP/1.1 allows. It is not a general client: it speaks
// to the two servers of this tool only. The clients share the CPU with
// the server they drive, so every microsecond they spend is one the server
// does not get; net/http's client costs several times more per request
// (-client net/http measures with it).
//
// A rawConn is used by one goroutine. After any error its connection is
// closed and the next request dials again.
type rawConn struct {
	addr    string        // host:port
	request []byte        // the whole request: line, headers and body
	timeout time.Duration // bound of one request, dial included

	conn net.Conn
	stop func() bool // stops the AfterFunc that ends conn's I/O with the caller's ctx
	br   *bufio.Reader
	body []byte // the last answer's body, reused
}

// newRawConn returns a client of addr that sends request (a complete
// HTTP/1.1 request that keeps the connection alive).
func newRawConn(addr string, request []byte, timeout time.Duration) *rawConn {
	return &rawConn{addr: addr, request: request, timeout: timeout}
}

// rawRequest is the bytes of a POST of body to path on host with header,
// in the order net/http's client would write them.
func rawRequest(host, path string, header http.Header, body []byte) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Length: %d\r\n", path, host, len(body))
	_ = header.Write(&b)
	b.WriteString("\r\n")
	b.Write(body)
	return b.Bytes()
}

// Bounds of an answer: its status line and each header line, and its body.
const (
	maxAnswerLine = 8 << 10
	maxAnswerBody = 64 << 10
)

// do sends the request once and returns the answer's status and body; the
// body is valid until the next call. The request is bounded by the
// timeout, dialing included, and by ctx: when ctx ends, the request in
// flight fails at once.
func (c *rawConn) do(ctx context.Context) (status int, body []byte, err error) {
	deadline := time.Now().Add(c.timeout)
	if c.conn == nil {
		conn, err := (&net.Dialer{Deadline: deadline}).DialContext(ctx, "tcp", c.addr)
		if err != nil {
			return 0, nil, err
		}
		c.conn = conn
		c.stop = context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
		if c.br == nil {
			c.br = bufio.NewReaderSize(conn, maxAnswerLine)
		} else {
			c.br.Reset(conn)
		}
	}
	status, body, keep, err := c.roundTrip(ctx, deadline)
	if err != nil || !keep {
		c.close()
	}
	return status, body, err
}

func (c *rawConn) roundTrip(ctx context.Context, deadline time.Time) (status int, body []byte, keep bool, err error) {
	if err := c.conn.SetDeadline(deadline); err != nil {
		return 0, nil, false, err
	}
	if err := ctx.Err(); err != nil { // ended before the deadline above replaced the AfterFunc's
		return 0, nil, false, err
	}
	if _, err := c.conn.Write(c.request); err != nil {
		return 0, nil, false, fmt.Errorf("writing the request: %w", err)
	}
	status, length, chunked, keep, err := c.readHead()
	switch {
	case err != nil:
		return 0, nil, false, err
	case status < 200: // the request asks for no interim answer
		return 0, nil, false, fmt.Errorf("unexpected interim answer %d", status)
	}
	switch {
	case status == http.StatusNoContent || status == http.StatusNotModified:
		c.body = c.body[:0] // no body, whatever the headers say
	case chunked:
		if c.body, err = readAllLimited(c.body[:0], httputil.NewChunkedReader(c.br)); err == nil {
			err = c.skipTrailer()
		}
	case length >= 0:
		if length > maxAnswerBody {
			return status, nil, false, fmt.Errorf("answer body of %d bytes, over %d", length, maxAnswerBody)
		}
		c.body = slices.Grow(c.body[:0], length)[:length]
		_, err = io.ReadFull(c.br, c.body)
	default: // delimited by the end of the connection
		c.body, err = readAllLimited(c.body[:0], c.br)
		keep = false
	}
	if err != nil {
		return status, nil, false, fmt.Errorf("reading the answer: %w", err)
	}
	return status, c.body, keep, nil
}

// readHead reads the status line and the header lines of an answer.
// length is -1 when the answer gives no Content-Length.
func (c *rawConn) readHead() (status, length int, chunked, keep bool, err error) {
	line, err := c.readLine()
	if err != nil {
		return 0, 0, false, false, fmt.Errorf("reading the status line: %w", err)
	}
	// "HTTP/1.1 200 OK"
	proto, rest, _ := bytes.Cut(line, []byte(" "))
	code, _, _ := bytes.Cut(rest, []byte(" "))
	status, ok := number(code)
	if !bytes.HasPrefix(proto, []byte("HTTP/1.")) || !ok || len(code) != 3 {
		return 0, 0, false, false, fmt.Errorf("malformed status line %.100q", line)
	}
	length, keep = -1, string(proto) == "HTTP/1.1"
	for {
		line, err := c.readLine()
		if err != nil {
			return 0, 0, false, false, fmt.Errorf("reading the headers: %w", err)
		}
		if len(line) == 0 {
			return status, length, chunked, keep, nil
		}
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			return 0, 0, false, false, fmt.Errorf("malformed header line %.100q", line)
		}
		value = bytes.TrimSpace(value)
		switch {
		case bytes.EqualFold(name, []byte("Content-Length")):
			n, ok := number(value)
			if !ok || length >= 0 && n != length {
				return 0, 0, false, false, fmt.Errorf("bad Content-Length %.100q", value)
			}
			length = n
		case bytes.EqualFold(name, []byte("Transfer-Encoding")):
			chunked = bytes.EqualFold(value, []byte("chunked"))
			if !chunked {
				return 0, 0, false, false, fmt.Errorf("unsupported Transfer-Encoding %.100q", value)
			}
		case bytes.EqualFold(name, []byte("Connection")):
			for opt := range bytes.SplitSeq(value, []byte(",")) {
				if bytes.EqualFold(bytes.TrimSpace(opt), []byte("close")) {
					keep = false
				}
			}
		}
	}
}

// skipTrailer reads the trailer lines of a chunked answer, up to the
// empty line that ends it.
func (c *rawConn) skipTrailer() error {
	for {
		line, err := c.readLine()
		if err != nil || len(line) == 0 {
			return err
		}
	}
}

// number parses b as a decimal of 1 to 9 digits, nothing else.
func number(b []byte) (int, bool) {
	if len(b) == 0 || len(b) > 9 {
		return 0, false
	}
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

// readLine reads one CRLF-terminated line, without its end.
func (c *rawConn) readLine() ([]byte, error) {
	line, err := c.br.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		return nil, fmt.Errorf("line longer than %d bytes", maxAnswerLine)
	}
	if err != nil {
		return nil, err
	}
	line, ok := bytes.CutSuffix(line, []byte("\r\n"))
	if !ok {
		return nil, errors.New("line not ended by CRLF")
	}
	return line, nil
}

// readAllLimited appends r to b, at most maxAnswerBody bytes.
func readAllLimited(b []byte, r io.Reader) ([]byte, error) {
	buf := bytes.NewBuffer(b)
	n, err := buf.ReadFrom(io.LimitReader(r, maxAnswerBody+1))
	if err == nil && n > maxAnswerBody {
		err = fmt.Errorf("answer body over %d bytes", maxAnswerBody)
	}
	return buf.Bytes(), err
}

// close closes the connection, if any.
func (c *rawConn) close() {
	if c.conn != nil {
		c.stop()
		c.conn.Close()
		c.conn = nil
	}
}
