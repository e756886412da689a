package main

import (
	"context"
	"log/slog"
)

// lazyAttrsHandler keeps the attributes given to With and formats them only when a record is
// written. slog's own handlers format them at With: FerretDB's SQL layer calls With for every
// statement, with its arguments, so each 255 KiB chunk inserted was quoted twice for debug
// lines that are never written (half of FerretDB's CPU in an upload).
type lazyAttrsHandler struct {
	next  slog.Handler
	attrs []slog.Attr
}

func (h *lazyAttrsHandler) Enabled(ctx context.Context, level slog.Level) bool {
	return h.next.Enabled(ctx, level)
}

func (h *lazyAttrsHandler) Handle(ctx context.Context, record slog.Record) error {
	next := h.next
	if len(h.attrs) > 0 {
		next = next.WithAttrs(h.attrs)
	}

	return next.Handle(ctx, record)
}

func (h *lazyAttrsHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &lazyAttrsHandler{next: h.next, attrs: append(h.attrs[:len(h.attrs):len(h.attrs)], attrs...)}
}

func (h *lazyAttrsHandler) WithGroup(name string) slog.Handler {
	next := h.next
	if len(h.attrs) > 0 {
		next = next.WithAttrs(h.attrs)
	}

	return &lazyAttrsHandler{next: next.WithGroup(name)}
}
