package core

import (
	"context"
	"sync"
)

// Pool lends out values that are expensive to make and not safe for
// concurrent use — compiled machines — making at most Cap of them, lazily.
// A borrower that finds none idle and the pool full waits for one to be
// returned (or for its context).
type Pool[T any] struct {
	make func() (T, error)
	idle chan T
	mu   sync.Mutex
	made int
}

// NewPool returns a pool of at most capacity values made by make.
func NewPool[T any](capacity int, newValue func() (T, error)) *Pool[T] {
	return &Pool[T]{make: newValue, idle: make(chan T, capacity)}
}

// Cap is the most values the pool makes.
func (p *Pool[T]) Cap() int { return cap(p.idle) }

// Made is how many values exist, idle or lent out.
func (p *Pool[T]) Made() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.made
}

// Get borrows a value: an idle one, a new one while the pool has room,
// or else the next one returned.
func (p *Pool[T]) Get(ctx context.Context) (T, error) {
	select {
	case v := <-p.idle:
		return v, nil
	default:
	}
	p.mu.Lock()
	if p.made < cap(p.idle) {
		p.made++
		p.mu.Unlock()
		v, err := p.make()
		if err != nil {
			p.mu.Lock()
			p.made--
			p.mu.Unlock()
		}
		return v, err
	}
	p.mu.Unlock()
	select {
	case v := <-p.idle:
		return v, nil
	case <-ctx.Done():
		var zero T
		return zero, ctx.Err()
	}
}

// Put returns a borrowed value.
func (p *Pool[T]) Put(v T) { p.idle <- v }
