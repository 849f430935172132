package httpadapter

import (
	"context"
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
// Until Done is called, Err compares the clock with the deadline; once it
// is, every method answers from the context.WithDeadline it made, so
// children, context.AfterFunc and context.Cause behave as with one. Two
// answers differ without Done, where no timer recorded which came first:
// when the parent has ended and the deadline has passed, Err is the
// parent's error; and after release, context.Cause reports the cause of a
// parent canceled later.
type callContext struct {
	parent   context.Context
	deadline time.Time

	mu       sync.Mutex
	ctx      context.Context // context.WithDeadline(parent, deadline), made by the first Done
	cancel   context.CancelFunc
	released bool  // release was called
	err      error // Err at release, when ctx was never made
}

func newCallContext(parent context.Context, timeout time.Duration) *callContext {
	return &callContext{parent: parent, deadline: time.Now().Add(timeout)}
}

// Deadline is the earlier of the parent's deadline and the handler's.
func (c *callContext) Deadline() (time.Time, bool) {
	if d, ok := c.parent.Deadline(); ok && d.Before(c.deadline) {
		return d, true
	}
	return c.deadline, true
}

// Done makes the context.WithDeadline this context stands for, once.
func (c *callContext) Done() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ctx == nil {
		c.ctx, c.cancel = context.WithDeadline(c.parent, c.deadline)
		if c.released {
			c.cancel()
		}
	}
	return c.ctx.Done()
}

func (c *callContext) Err() error {
	c.mu.Lock()
	ctx, released, err := c.ctx, c.released, c.err
	c.mu.Unlock()
	switch {
	case ctx != nil:
		return ctx.Err()
	case released:
		return err
	}
	return c.errNow()
}

// errNow is Err of a context that was never asked for Done: the parent's
// error first, as context.WithDeadline does, then the deadline's.
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

// release ends the context when the call returns, as the CancelFunc of
// context.WithDeadline does: Err is context.Canceled from then on unless
// it already reported an error.
func (c *callContext) release() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.released {
		return
	}
	c.released = true
	if c.cancel != nil {
		c.cancel()
		return
	}
	if c.err = c.errNow(); c.err == nil {
		c.err = context.Canceled
	}
}
