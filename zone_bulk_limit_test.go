package redline

import (
	"context"
	"testing"
	"time"
)

// TestZoneHandshakeInfoOverBulkLimit: with ReadLocalZone (no NodeZone) the handshake
// sends INFO server in its round trip; its reply (~600 bytes on Redis 7.0, more on
// Valkey) is one bulk string, and a MaxReplyBulkLen below its size (a legitimate guard
// when every reply of the application is small) must not fail the handshake: the
// handshake's reader has limits of its own (at least 64 KiB).
func TestZoneHandshakeInfoOverBulkLimit(t *testing.T) {
	cl := plain(t)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	v, err := cl.Node(0).Do(ctx, "INFO", "server")
	if err != nil {
		t.Fatal(err)
	}
	limit := int64(len(v.Str) - 100)
	t.Logf("INFO server is %d bytes; MaxReplyBulkLen %d", len(v.Str), limit)
	o := Options{Addrs: cl.Addrs(), MaxReplyBulkLen: limit, DialTimeout: time.Second, CommandTimeout: 2 * time.Second}
	plainC, err := NewClient(ctx, o)
	if err != nil {
		t.Fatalf("without ReadLocalZone: %v", err)
	}
	if err := plainC.Do(ctx, "SET", "zone:bulklimit", "v").Err(); err != nil {
		t.Fatalf("without ReadLocalZone: %v", err)
	}
	plainC.Close()
	o.ReadFrom, o.Zone = ReadLocalZone, "az1"
	zc, err := NewClient(ctx, o)
	if err != nil {
		t.Fatalf("with ReadLocalZone the client cannot connect: %v", err)
	}
	defer zc.Close()
	if err := zc.Do(ctx, "GET", "zone:bulklimit").Err(); err != nil {
		t.Fatalf("with ReadLocalZone: GET: %v", err)
	}
}
