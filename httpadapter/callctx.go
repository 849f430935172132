package httpadapter

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// callContext is the context of one call: the request's context with the
// handler's deadline, as context.WithDeadline makes it, except that the
// deadline's timer and the registration with the request's context are
// made only when something asks for Done. A call that never waits (a
// cached Cognito token and a local signer, the common case) then costs
// neither: about a tenth of the handler's own CPU time.
//
// Until Done is called, Err compares the clock with the deadline, and the
// first error it reports stays; once Done is called on a context without
// an error, every method answers from the context.WithDeadline it made, so
// children, context.AfterFunc and context.Cause behave as with one. Two
// answers differ where no timer recorded which came first: when the
// parent has ended and the deadline has passed before anyone asked, Err
// is the parent's error; and once Err has reported an error without Done,
// context.Cause reports the cause of a parent canceled later.
type callContext struct {
	parent   context.Context
	deadline time.Time

	mu     sync.Mutex
	ctx    context.Context // context.WithDeadline(parent, deadline), made by Done while err is nil
	cancel context.CancelFunc
	err    error // the error reported while ctx is nil; it never changes once set
}

func newCallContext(parent context.Context, deadline time.Time) *callContext {
	return &callContext{parent: parent, deadline: deadline}
}

// Deadline is the earlier of the parent's deadline and the handler's.
func (c *callContext) Deadline() (time.Time, bool) {
	if d, ok := c.parent.Deadline(); ok && d.Before(c.deadline) {
		return d, true
	}
	return c.deadline, true
}

// Done makes the context.WithDeadline this context stands for, once; a
// context that has already reported an error answers a closed channel.
func (c *callContext) Done() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ctx != nil {
		return c.ctx.Done()
	}
	if c.err != nil {
		return closedChan
	}
	c.ctx, c.cancel = context.WithDeadline(c.parent, c.deadline)
	return c.ctx.Done()
}

var closedChan = func() chan struct{} {
	ch := make(chan struct{})
	close(ch)
	return ch
}()

func (c *callContext) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.err != nil:
		return c.err
	case c.ctx != nil:
		return c.ctx.Err()
	}
	c.err = c.errNow()
	return c.err
}

// errNow is the error of a context that was never asked for Done: the
// parent's error first, as context.WithDeadline has it, then the
// deadline's.
func (c *callContext) errNow() error {
	if err := c.parent.Err(); err != nil {
		return err
	}
	if !time.Now().Before(c.deadline) {
		return context.DeadlineExceeded
	}
	return nil
}

func (c *callContext) Value(key any) any {
	c.mu.Lock()
	ctx := c.ctx
	c.mu.Unlock()
	if ctx != nil {
		return ctx.Value(key) // the timer context's own cancelCtx, for children and Cause
	}
	return c.parent.Value(key)
}

// String names the context as context.WithDeadline's String does, without
// reading its state: printing it is safe while the call runs.
func (c *callContext) String() string {
	parent := fmt.Sprintf("%T", c.parent)
	if s, ok := c.parent.(fmt.Stringer); ok {
		parent = s.String()
	}
	return parent + ".WithDeadline(" + c.deadline.String() + ")"
}

// release ends the context when the call returns, as the CancelFunc of
// context.WithDeadline does: Err is context.Canceled from then on unless
// it already reported an error.
func (c *callContext) release() {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.ctx != nil:
		c.cancel()
	case c.err == nil:
		if c.err = c.errNow(); c.err == nil {
			c.err = context.Canceled
		}
	}
}
