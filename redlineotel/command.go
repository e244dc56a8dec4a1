package redlineotel

import (
	"context"
	"errors"
	"strings"
	"sync"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/redline-go/redline"
	"github.com/redline-go/redline/resp"
)

// opInfo is what a command name always needs, computed once per name.
type opInfo struct {
	name  string                  // db.operation.name and span name: "GET", "CLUSTER SHARDS", "PIPELINE"
	start []trace.SpanStartOption // kind and the attributes known at start
	batch bool                    // a pipeline or transaction: db.operation.batch.size applies
	kv    attribute.KeyValue      // db.operation.name
	// redirect holds the redirect counter's options for moved [0] and ask [1].
	redirect [2][]metric.AddOption
	ends     sync.Map // endKey → *endInfo
}

// endKey tells apart the attribute sets of a command's ends.
type endKey struct{ node, errType, status string }

// endInfo is what an end with a given node and outcome needs, computed once.
type endInfo struct {
	record []metric.RecordOption
	add    []metric.AddOption
	span   []attribute.KeyValue // network.peer.*, error.type, db.response.status_code
}

// op returns the opInfo for a command name, cached while the cache has room.
func (in *Instrumentation) op(name string) *opInfo {
	if v, ok := in.ops.Load(name); ok {
		return v.(*opInfo)
	}
	op := in.newOp(name)
	if in.cached.Add(1) > in.limit {
		in.cached.Add(-1)
		return op
	}
	v, loaded := in.ops.LoadOrStore(name, op)
	if loaded {
		in.cached.Add(-1)
	}
	return v.(*opInfo)
}

func (in *Instrumentation) newOp(name string) *opInfo {
	// The command table's spelling: lower case, "|" before a subcommand. The
	// conventions' examples and redis-cli's: upper case, a space.
	upper := strings.ToUpper(strings.ReplaceAll(name, "|", " "))
	op := &opInfo{name: upper, kv: semconv.DBOperationName(upper), batch: name == "pipeline" || name == "multi"}
	attrs := append(append([]attribute.KeyValue(nil), in.spanBase...), op.kv)
	op.start = []trace.SpanStartOption{trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(attrs...)}
	for i, typ := range [2]string{"moved", "ask"} {
		set := attribute.NewSet(append(append([]attribute.KeyValue(nil), in.base...), op.kv, RedirectTypeKey.String(typ))...)
		op.redirect[i] = []metric.AddOption{metric.WithAttributeSet(set)}
	}
	return op
}

// end returns the endInfo for a command's node and outcome, cached while the cache
// has room.
func (in *Instrumentation) end(op *opInfo, node, errType, status string) *endInfo {
	k := endKey{node, errType, status}
	if v, ok := op.ends.Load(k); ok {
		return v.(*endInfo)
	}
	ei := in.newEnd(op, node, errType, status)
	if in.cached.Add(1) > in.limit {
		in.cached.Add(-1)
		return ei
	}
	v, loaded := op.ends.LoadOrStore(k, ei)
	if loaded {
		in.cached.Add(-1)
	}
	return v.(*endInfo)
}

func (in *Instrumentation) newEnd(op *opInfo, node, errType, status string) *endInfo {
	var span []attribute.KeyValue
	span = peerAttrs(span, node)
	if errType != "" {
		span = append(span, semconv.ErrorTypeKey.String(errType))
	}
	if status != "" {
		span = append(span, semconv.DBResponseStatusCode(status))
	}
	m := append(append(append([]attribute.KeyValue(nil), in.spanBase...), op.kv), span...)
	set := metric.WithAttributeSet(attribute.NewSet(m...))
	return &endInfo{record: []metric.RecordOption{set}, add: []metric.AddOption{set}, span: span}
}

// beforeCommand starts the call's span, a child of the caller's.
func (in *Instrumentation) beforeCommand(ctx context.Context, cs redline.CommandStart) context.Context {
	op := in.op(cs.Name)
	opts := op.start
	if op.batch && cs.Commands != 1 {
		opts = append(opts[:len(opts):len(opts)], trace.WithAttributes(semconv.DBOperationBatchSize(cs.Commands)))
	}
	ctx, _ = in.tracer.Start(ctx, op.name, opts...)
	return ctx
}

// afterCommand records the call's metrics and ends its span.
func (in *Instrumentation) afterCommand(ctx context.Context, ce redline.CommandEnd) {
	op := in.op(ce.Name)
	errType, status := classify(ce.Err)
	ei := in.end(op, ce.Node, errType, status)
	in.duration.Record(ctx, ce.Elapsed.Seconds(), ei.record...)
	if errType != "" {
		in.opErrors.Add(ctx, 1, ei.add...)
	}
	if moved := ce.Redirects - ce.Asks; moved > 0 {
		in.redirects.Add(ctx, int64(moved), op.redirect[0]...)
	}
	if ce.Asks > 0 {
		in.redirects.Add(ctx, int64(ce.Asks), op.redirect[1]...)
	}
	span := trace.SpanFromContext(ctx)
	if span.IsRecording() {
		var buf [8]attribute.KeyValue
		a := append(buf[:0], ei.span...)
		if ce.Slot >= 0 {
			a = append(a, SlotKey.Int(ce.Slot))
		}
		a = append(a, AttemptsKey.Int(ce.Attempts))
		if ce.Redirects > 0 {
			a = append(a, RedirectsKey.Int(ce.Redirects))
		}
		span.SetAttributes(a...)
		if ce.Err != nil {
			span.SetStatus(codes.Error, ce.Err.Error())
		}
	}
	span.End()
}

// The error.type values redline reports besides server error prefixes.
const (
	ErrTypeTimeout   = "timeout"   // the call's deadline passed (*redline.DeadlineError)
	ErrTypeCanceled  = "canceled"  // the call's context was canceled
	ErrTypeClosed    = "closed"    // the client was closed (redline.ErrClosed)
	ErrTypeNodeDown  = "node_down" // failed fast: the node is known down (NodeError.Down)
	ErrTypeDial      = "dial"      // NodeError in the dial phase (TCP connect)
	ErrTypeTLS       = "tls"       // NodeError in the TLS handshake
	ErrTypeHandshake = "handshake" // NodeError in HELLO / AUTH / READONLY
	ErrTypeWrite     = "write"     // NodeError while sending
	ErrTypeRead      = "read"      // NodeError while waiting for or reading a reply
	ErrTypeRedirect  = "redirect"  // NodeError following MOVED / ASK
	ErrTypeOther     = "_OTHER"    // anything else, and a server error without an upper-case prefix
)

// classify returns a call error's error.type and db.response.status_code (see the
// package doc). It allocates nothing for the errors redline returns unwrapped.
func classify(err error) (errType, status string) {
	if err == nil {
		return "", ""
	}
	switch e := err.(type) {
	case *resp.Error:
		return serverError(e)
	case *redline.DeadlineError:
		return deadlineType(e), ""
	case *redline.NodeError:
		return nodeError(e)
	}
	var de *redline.DeadlineError
	if errors.As(err, &de) {
		return deadlineType(de), ""
	}
	var ne *redline.NodeError
	if errors.As(err, &ne) {
		return nodeError(ne)
	}
	var re *resp.Error
	if errors.As(err, &re) {
		return serverError(re)
	}
	switch {
	case errors.Is(err, redline.ErrClosed):
		return ErrTypeClosed, ""
	case errors.Is(err, context.DeadlineExceeded):
		return ErrTypeTimeout, ""
	case errors.Is(err, context.Canceled):
		return ErrTypeCanceled, ""
	}
	return ErrTypeOther, ""
}

func serverError(e *resp.Error) (string, string) {
	if e.Code == "" {
		return ErrTypeOther, ""
	}
	return e.Code, e.Code
}

func deadlineType(e *redline.DeadlineError) string {
	if e.Timeout() {
		return ErrTypeTimeout
	}
	return ErrTypeCanceled
}

func nodeError(e *redline.NodeError) (string, string) {
	var status string
	var re *resp.Error
	if errors.As(e.Err, &re) { // e.g. WRONGPASS in the handshake
		status = re.Code
	}
	switch {
	case errors.Is(e.Err, redline.ErrClosed):
		return ErrTypeClosed, status
	case e.Down:
		return ErrTypeNodeDown, status
	}
	return phaseType(e.Phase), status
}

// phaseType maps a phase to its error.type constant (no allocation).
func phaseType(p redline.Phase) string {
	switch p {
	case redline.PhaseDial:
		return ErrTypeDial
	case redline.PhaseTLS:
		return ErrTypeTLS
	case redline.PhaseHandshake:
		return ErrTypeHandshake
	case redline.PhaseWrite:
		return ErrTypeWrite
	case redline.PhaseRead:
		return ErrTypeRead
	case redline.PhaseRedirect:
		return ErrTypeRedirect
	}
	return ErrTypeOther
}
