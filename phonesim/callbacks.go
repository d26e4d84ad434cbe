package phonesim

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"time"
)

// callback is a request Twilio makes some time after the event that caused
// it (recording status, transcription, message status).
type callback struct {
	kind   string // "recording", "transcription", "message-status"
	method string
	url    string
	form   url.Values
	before func() // runs just before delivery (e.g. updates a message's status)
}

func (e *Emulator) enqueue(cbs ...*callback) {
	if len(cbs) == 0 {
		return
	}
	e.mu.Lock()
	e.pending = append(e.pending, cbs...)
	e.mu.Unlock()
	if d := e.cfg.CallbackDelay; d > 0 {
		e.flushing.Add(1)
		go func() {
			defer e.flushing.Done()
			time.Sleep(d)
			if err := e.deliverPending(context.Background()); err != nil {
				e.mu.Lock()
				e.asyncErrs = append(e.asyncErrs, err)
				e.mu.Unlock()
			}
		}()
	}
}

// PendingCallbacks returns how many callbacks are waiting for delivery.
func (e *Emulator) PendingCallbacks() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.pending)
}

// FlushCallbacks delivers, in order, every queued callback (recording
// status, transcription, message status), including ones queued while
// flushing. It returns the failures (transport errors and non-2xx answers),
// together with those of earlier background deliveries.
func (e *Emulator) FlushCallbacks(ctx context.Context) error {
	err := e.deliverPending(ctx)
	e.mu.Lock()
	errs := append(e.asyncErrs, err)
	e.asyncErrs = nil
	e.mu.Unlock()
	return errors.Join(errs...)
}

func (e *Emulator) deliverPending(ctx context.Context) error {
	e.flushMu.Lock()
	defer e.flushMu.Unlock()
	var errs []error
	for {
		e.mu.Lock()
		if len(e.pending) == 0 {
			e.mu.Unlock()
			return errors.Join(errs...)
		}
		cb := e.pending[0]
		e.pending = e.pending[1:]
		e.mu.Unlock()
		if cb.before != nil {
			cb.before()
		}
		if cb.url == "" {
			continue
		}
		resp, err := e.send(ctx, cb.method, cb.url, cb.form, e.cfg.AuthToken)
		if err != nil {
			errs = append(errs, fmt.Errorf("phonesim: %s callback to %s: %w", cb.kind, cb.url, err))
			if ctx.Err() != nil {
				return errors.Join(errs...)
			}
			continue
		}
		if resp.StatusCode < 200 || resp.StatusCode > 299 {
			errs = append(errs, fmt.Errorf("phonesim: %s callback: %w", cb.kind,
				&StatusError{URL: cb.url, StatusCode: resp.StatusCode, Body: string(resp.Body)}))
		}
	}
}
