package httpadapter

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// deadlineContext is what callContext stands for: context.WithDeadline, or
// callContext itself, behind one interface so that every case runs on
// both and their answers are compared.
type deadlineContext interface {
	context.Context
	end() // the CancelFunc, or release
}

type stdDeadline struct {
	context.Context
	cancel context.CancelFunc
}

func (s stdDeadline) end() { s.cancel() }

type lazyDeadline struct{ *callContext }

func (l lazyDeadline) end() { l.release() }

var errCause = errors.New("the caller went away")

type ctxKey struct{}

// TestCallContextMatchesWithDeadline runs each case on
// context.WithDeadline and on callContext and wants the same Err, Cause,
// Deadline, Value and Done after each step.
func TestCallContextMatchesWithDeadline(t *testing.T) {
	const long, past = time.Hour, -time.Second
	type step func(t *testing.T, parentCancel context.CancelCauseFunc, c deadlineContext)
	var (
		askDone     step = func(t *testing.T, _ context.CancelCauseFunc, c deadlineContext) { c.Done() }
		cancelCause step = func(t *testing.T, cancel context.CancelCauseFunc, _ deadlineContext) { cancel(errCause) }
		end         step = func(t *testing.T, _ context.CancelCauseFunc, c deadlineContext) { c.end() }
		waitDone    step = func(t *testing.T, _ context.CancelCauseFunc, c deadlineContext) {
			select {
			case <-c.Done():
			case <-time.After(10 * time.Second):
				t.Fatal("Done not closed")
			}
		}
		child step = func(t *testing.T, _ context.CancelCauseFunc, c deadlineContext) {
			ctx, cancel := context.WithCancel(c)
			defer cancel()
			stop := context.AfterFunc(c, func() {})
			defer stop()
			if c.Err() != nil {
				<-ctx.Done() // a child of an ended context ends at once
			}
		}
	)
	cases := []struct {
		name           string
		timeout        time.Duration
		parentDeadline time.Duration // 0: none
		steps          []step
		wantErr        error
		differs        bool // callContext documents a different answer: compare wantErr only
	}{
		{"running", long, 0, nil, nil, false},
		{"running, Done asked", long, 0, []step{askDone}, nil, false},
		{"running, with a child", long, 0, []step{child}, nil, false},
		{"deadline passed", past, 0, nil, context.DeadlineExceeded, false},
		{"deadline passed, Done asked", past, 0, []step{askDone, waitDone}, context.DeadlineExceeded, false},
		{"deadline passed, then a child", past, 0, []step{child}, context.DeadlineExceeded, false},
		{"deadline passes while waiting", 20 * time.Millisecond, 0, []step{waitDone}, context.DeadlineExceeded, false},
		{"parent canceled", long, 0, []step{cancelCause}, context.Canceled, false},
		{"parent canceled, then Done", long, 0, []step{cancelCause, waitDone}, context.Canceled, false},
		{"Done, then parent canceled", long, 0, []step{askDone, cancelCause, waitDone}, context.Canceled, false},
		// Without Done there is no timer to say which came first: the
		// parent's error wins, and a parent canceled after an error was
		// reported lends Cause its cause.
		{"parent canceled after the deadline, Done not asked", past, 0, []step{cancelCause}, context.Canceled, true},
		{"parent canceled after the deadline and Done", past, 0, []step{askDone, cancelCause}, context.DeadlineExceeded, false},
		{"parent's earlier deadline", long, time.Minute, nil, nil, false},
		{"parent's deadline passed", long, past, nil, context.DeadlineExceeded, false},
		{"ended", long, 0, []step{end}, context.Canceled, false},
		{"ended, then Done", long, 0, []step{end, waitDone}, context.Canceled, false},
		{"ended twice", long, 0, []step{end, end}, context.Canceled, false},
		{"Done, then ended", long, 0, []step{askDone, end, waitDone}, context.Canceled, false},
		{"deadline passed, then ended", past, 0, []step{end, waitDone}, context.DeadlineExceeded, false},
		{"ended, then parent canceled", long, 0, []step{end, cancelCause}, context.Canceled, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			type answer struct {
				err, cause error
				deadline   time.Time
				value      any
				closed     bool // Done closed once Err reported an error
			}
			base := time.Now()
			run := func(make func(parent context.Context, deadline time.Time) deadlineContext) answer {
				parent, cancel := context.WithCancelCause(context.WithValue(context.Background(), ctxKey{}, "v"))
				defer cancel(nil)
				if tc.parentDeadline != 0 {
					var stop context.CancelFunc
					parent, stop = context.WithDeadline(parent, base.Add(tc.parentDeadline))
					defer stop()
				}
				c := make(parent, base.Add(tc.timeout))
				defer c.end()
				for _, s := range tc.steps {
					s(t, cancel, c)
				}
				a := answer{err: c.Err(), cause: context.Cause(c), value: c.Value(ctxKey{})}
				a.deadline, _ = c.Deadline()
				if a.err != nil {
					select {
					case <-c.Done():
						a.closed = true
					case <-time.After(10 * time.Second):
					}
				}
				return a
			}
			want := run(func(parent context.Context, d time.Time) deadlineContext {
				ctx, cancel := context.WithDeadline(parent, d)
				return stdDeadline{ctx, cancel}
			})
			got := run(func(parent context.Context, d time.Time) deadlineContext {
				return lazyDeadline{&callContext{parent: parent, deadline: d}}
			})
			if !tc.differs {
				assert.Equal(t, want, got)
			}
			assert.ErrorIs(t, got.err, tc.wantErr)
			if tc.wantErr == nil {
				assert.NoError(t, got.err)
			} else {
				assert.True(t, got.closed, "Done closed once Err is set")
			}
			assert.Equal(t, "v", got.value)
		})
	}
}

// A call that never asks for Done registers nothing with the request's
// context: ending the request does not touch it, and it holds no timer.
func TestCallContextIsLazy(t *testing.T) {
	parent, cancel := context.WithCancel(context.Background())
	defer cancel()
	c := newCallContext(parent, time.Now().Add(time.Hour))
	assert.NoError(t, c.Err())
	d, ok := c.Deadline()
	assert.True(t, ok)
	assert.WithinDuration(t, time.Now().Add(time.Hour), d, time.Minute)
	c.mu.Lock()
	assert.Nil(t, c.ctx, "no context.WithDeadline made")
	c.mu.Unlock()
	c.release()
	assert.ErrorIs(t, c.Err(), context.Canceled)
	assert.NoError(t, parent.Err())
}

// Done, Err, Value and release from many goroutines at once (run with
// -race): every Done is the same channel, and it is closed after release.
func TestCallContextConcurrent(t *testing.T) {
	c := newCallContext(context.Background(), time.Now().Add(time.Hour))
	first := c.Done()
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Go(func() {
			assert.Equal(t, first, c.Done())
			_ = c.Err()
			_ = c.Value(ctxKey{})
			if i == 8 {
				c.release()
			}
		})
	}
	wg.Wait()
	select {
	case <-first:
	case <-time.After(10 * time.Second):
		require.Fail(t, "Done not closed after release")
	}
	assert.ErrorIs(t, c.Err(), context.Canceled)
}

// The first error a context reports stays, whatever happens after: the
// clock passing the deadline (simulated by moving the deadline), the
// parent ending, release, or Done asked late.
func TestCallContextErrNeverChanges(t *testing.T) {
	type step func(c *callContext, cancelParent context.CancelFunc)
	var (
		deadlinePasses step = func(c *callContext, _ context.CancelFunc) { c.deadline = time.Now().Add(-time.Second) }
		parentEnds     step = func(_ *callContext, cancel context.CancelFunc) { cancel() }
		release        step = func(c *callContext, _ context.CancelFunc) { c.release() }
		askDone        step = func(c *callContext, _ context.CancelFunc) { c.Done() }
	)
	for _, tc := range []struct {
		name  string
		first step
		then  []step
		want  error
	}{
		{"released, then the deadline passes and Done is asked", release, []step{deadlinePasses, askDone}, context.Canceled},
		{"released, then the parent ends", release, []step{parentEnds, askDone}, context.Canceled},
		{"deadline reported, then the parent ends", deadlinePasses, []step{parentEnds, askDone, release}, context.DeadlineExceeded},
		{"parent's end reported, then the deadline passes", parentEnds, []step{deadlinePasses, askDone, release}, context.Canceled},
	} {
		t.Run(tc.name, func(t *testing.T) {
			parent, cancel := context.WithCancel(context.Background())
			defer cancel()
			c := newCallContext(parent, time.Now().Add(time.Hour))
			tc.first(c, cancel)
			require.ErrorIs(t, c.Err(), tc.want)
			for _, s := range tc.then {
				s(c, cancel)
				require.ErrorIs(t, c.Err(), tc.want)
			}
			select {
			case <-c.Done():
			default:
				t.Fatal("Done not closed though Err reported an error")
			}
			c.mu.Lock()
			assert.Nil(t, c.ctx, "no timer made for a context that had ended")
			c.mu.Unlock()
		})
	}
}

// Printing the context while the call runs reads none of its state (run
// with -race).
func TestCallContextString(t *testing.T) {
	c := newCallContext(context.Background(), time.Now().Add(time.Hour))
	var wg sync.WaitGroup
	wg.Go(func() { c.Done(); _ = c.Err(); c.release() })
	s := fmt.Sprint(c)
	wg.Wait()
	assert.Contains(t, s, "context.Background.WithDeadline(")
}
