// Package ordered writes a stream of records, one line (or a few) each, as
// NDJSON or any other line format, encoding them on one worker per CPU and
// writing them in the order they were given. It is for streams where
// encoding costs more than reading: the caller reads on its own goroutine
// and hands each record to [Writer.Write], which copies it into a batch;
// full batches are encoded by the workers and written in order. Memory is
// bounded by the batches in flight (a few MiB each).
//
// A Writer is used from one goroutine.
package ordered

import (
	"errors"
	"io"
	"runtime"
	"sync"
	"sync/atomic"
)

// Options say how to copy and encode a record.
type Options[T any] struct {
	// Copy copies src into dst so that it stays valid after the caller
	// reuses src, appending the bytes dst must own to arena; it returns
	// arena. dst stays in place (the batch's slice is never grown).
	Copy func(dst, src *T, arena []byte) []byte
	// Encode appends the encoding of rec to b: nothing leaves it out.
	Encode func(b []byte, rec *T) []byte
}

const (
	batchRecords    = 256
	batchArenaBytes = 512 << 10
)

// A batch is a run of records copied out of the caller's, encoded by one
// worker and written in order.
type batch[T any] struct {
	recs  []T // fixed length
	n     int
	arena []byte
	out   []byte
	done  chan struct{}
}

// A Writer encodes records in parallel and writes them in order.
type Writer[T any] struct {
	opts     Options[T]
	free     chan *batch[T]
	work     chan *batch[T]
	ordered  chan *batch[T]
	wg       sync.WaitGroup
	stop     atomic.Bool
	writeErr chan error
	cur      *batch[T]
}

// NewWriter starts the workers and the writer of out.
func NewWriter[T any](out io.Writer, opts Options[T]) *Writer[T] {
	workers := max(1, runtime.GOMAXPROCS(0))
	inFlight := workers + 2
	w := &Writer[T]{
		opts:     opts,
		free:     make(chan *batch[T], inFlight),
		work:     make(chan *batch[T], inFlight),
		ordered:  make(chan *batch[T], inFlight),
		writeErr: make(chan error, 1),
	}
	for range inFlight {
		w.free <- &batch[T]{recs: make([]T, batchRecords)}
	}
	for range workers {
		w.wg.Go(w.encode)
	}
	go w.write(out)
	w.cur = w.next()
	return w
}

func (w *Writer[T]) encode() {
	for b := range w.work {
		b.out = b.out[:0]
		for i := range b.n {
			b.out = w.opts.Encode(b.out, &b.recs[i])
		}
		close(b.done)
	}
}

func (w *Writer[T]) write(out io.Writer) {
	var err error
	for b := range w.ordered {
		<-b.done
		if err == nil {
			if _, err = out.Write(b.out); err != nil {
				w.stop.Store(true)
			}
		}
		w.free <- b
	}
	w.writeErr <- err
}

func (w *Writer[T]) next() *batch[T] {
	b := <-w.free
	b.n, b.arena, b.done = 0, b.arena[:0], make(chan struct{})
	return b
}

// Write copies rec into the current batch, and hands the batch on when it
// is full. It returns [ErrStopped] once writing has failed: stop, and call
// Close for the error.
func (w *Writer[T]) Write(rec *T) error {
	if w.stop.Load() {
		return ErrStopped
	}
	b := w.cur
	b.arena = w.opts.Copy(&b.recs[b.n], rec, b.arena)
	b.n++
	if b.n == batchRecords || len(b.arena) >= batchArenaBytes {
		w.work <- b
		w.ordered <- b
		w.cur = w.next()
	}
	return nil
}

// Close encodes and writes what is left, stops the workers and returns the
// first error writing gave.
func (w *Writer[T]) Close() error {
	w.work <- w.cur
	w.ordered <- w.cur
	close(w.work)
	close(w.ordered)
	w.wg.Wait()
	return <-w.writeErr
}

// ErrStopped is returned by [Writer.Write] after writing failed.
var ErrStopped = errors.New("ordered: writing failed")

// WriteAll writes every record next returns through a new Writer, until
// next returns io.EOF, and closes the Writer. It returns the first error:
// next's, else writing's. next's records are its own: each is copied
// before next is called again.
func WriteAll[T any](out io.Writer, next func() (*T, error), opts Options[T]) error {
	w := NewWriter(out, opts)
	for {
		rec, err := next()
		if err == nil {
			err = w.Write(rec)
		}
		if err != nil {
			cerr := w.Close()
			if err == io.EOF || errors.Is(err, ErrStopped) {
				return cerr
			}
			return err
		}
	}
}
