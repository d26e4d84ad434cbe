package privacy

import (
	"context"
	"log/slog"

	"github.com/haveyoursay/haveyoursay/store"
)

// MaskNumbers wraps a log handler so that no phone number reaches the log
// in clear (rule 7): in the message, in any string or error attribute
// (an error from Twilio names the number it refused), in groups too.
// Numbers are masked as staff see them: +44 ••••••• 123.
func MaskNumbers(h slog.Handler) slog.Handler { return maskHandler{h} }

type maskHandler struct{ h slog.Handler }

func (m maskHandler) Enabled(ctx context.Context, l slog.Level) bool { return m.h.Enabled(ctx, l) }

func (m maskHandler) Handle(ctx context.Context, r slog.Record) error {
	out := slog.NewRecord(r.Time, r.Level, store.MaskNumbers(r.Message), r.PC)
	r.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(maskAttr(a))
		return true
	})
	return m.h.Handle(ctx, out)
}

func (m maskHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	masked := make([]slog.Attr, len(attrs))
	for i, a := range attrs {
		masked[i] = maskAttr(a)
	}
	return maskHandler{m.h.WithAttrs(masked)}
}

func (m maskHandler) WithGroup(name string) slog.Handler { return maskHandler{m.h.WithGroup(name)} }

func maskAttr(a slog.Attr) slog.Attr {
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindString:
		return slog.String(a.Key, store.MaskNumbers(v.String()))
	case slog.KindGroup:
		g := v.Group()
		out := make([]any, len(g))
		for i, x := range g {
			out[i] = maskAttr(x)
		}
		return slog.Group(a.Key, out...)
	case slog.KindAny:
		switch x := v.Any().(type) {
		case error:
			return slog.String(a.Key, store.MaskNumbers(x.Error()))
		case interface{ String() string }:
			return slog.String(a.Key, store.MaskNumbers(x.String()))
		}
	}
	return slog.Attr{Key: a.Key, Value: v}
}
