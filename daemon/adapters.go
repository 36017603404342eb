package daemon

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/switchtap/switchtap/sip"
	"github.com/switchtap/switchtap/storage"
	"github.com/switchtap/switchtap/web"
)

// storeCalls gives the web the store's records, with the store's errors
// mapped onto web's.
type storeCalls struct{ s *storage.Store }

func (c storeCalls) Calls(ctx context.Context, from, to time.Time, fn func(sip.Call) error) error {
	return c.s.Calls(ctx, from, to, fn)
}

func (c storeCalls) Call(ctx context.Context, id string) (sip.Call, error) {
	call, err := c.s.Call(ctx, id)
	return call, mapStoreErr(err)
}

func (c storeCalls) Messages(ctx context.Context, id string) ([]sip.LegMessage, error) {
	ms, err := c.s.Messages(ctx, id)
	return ms, mapStoreErr(err)
}

func (c storeCalls) CallByCallID(ctx context.Context, callID string) (sip.Call, error) {
	call, err := c.s.CallByCallID(ctx, callID)
	return call, mapStoreErr(err)
}

func mapStoreErr(err error) error {
	if errors.Is(err, storage.ErrNotFound) || errors.Is(err, storage.ErrID) {
		return fmt.Errorf("%w: %w", web.ErrNotFound, err)
	}
	return err
}
