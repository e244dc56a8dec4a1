package redlineotel_test

import (
	"context"
	"log"

	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/redline-go/redline"
	"github.com/redline-go/redline/redlineotel"
)

// A client whose calls become spans and metrics. With no providers given, the
// global ones (otel.SetTracerProvider, otel.SetMeterProvider) are used.
func Example() {
	ctx := context.Background()
	tp := sdktrace.NewTracerProvider() // plus an exporter, in a real program
	mp := sdkmetric.NewMeterProvider() // plus a reader
	inst, err := redlineotel.New(
		redlineotel.WithTracerProvider(tp),
		redlineotel.WithMeterProvider(mp),
		redlineotel.WithServerAddress("redis.internal:6379"),
		redlineotel.WithAttributes(attribute.String("redis.cluster", "sessions")),
	)
	if err != nil {
		log.Fatal(err)
	}
	c, err := redline.NewClient(ctx, redline.Options{
		Addrs: []string{"10.0.0.1:6379", "10.0.0.2:6379"},
		Hooks: inst.Hooks(),
	})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	// Optional: connections, requests in flight and latency per node, refreshes.
	reg, err := inst.ObserveStats(c)
	if err != nil {
		log.Fatal(err)
	}
	defer reg.Unregister()
	// A span "GET", child of the span in ctx, and a db.client.operation.duration point.
	_, _ = c.Get(ctx, "user:42")
}
