package redline

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// Tests of the hash-field expiration methods (Redis 7.4+) and HGETEX, HSETEX, HGETDEL
// (Redis 8.0+). The servers the tests run (Redis 7.0.15, Valkey 8.0.1, Redis 6.0) have
// none of these commands: the decoders are unit-tested here, and the round trip checks
// what each method sends from the server's "unknown command" error, which quotes the
// arguments.

func TestDecodeFieldTTLs(t *testing.T) {
	for _, unit := range []time.Duration{time.Second, time.Millisecond} {
		ds, err := decodeFieldTTLs(res(vArr(vInt(5), vInt(-1), vInt(-2), vInt(0))), unit)
		if err != nil || !slices.Equal(ds, []time.Duration{5 * unit, NoExpiry, NoSuchField, 0}) {
			t.Fatalf("decodeFieldTTLs(unit %v) = %v %v", unit, ds, err)
		}
	}
	if _, err := decodeFieldTTLs(res(vNull), time.Second); err == nil {
		t.Fatal("a null reply decoded without an error")
	}
	if _, err := decodeFieldTTLs(res(vArr(vBulk("x"))), time.Second); err == nil {
		t.Fatal("a non-integer element decoded without an error")
	}
	if _, err := decodeFieldTTLs(res(vInt(3)), time.Second); err == nil {
		t.Fatal("an integer reply decoded without an error")
	}
}

func TestHSetExOptionsArgs(t *testing.T) {
	at := time.Unix(1700000000, 0)
	for _, tc := range []struct {
		o    *HSetExOptions
		want string
	}{
		{nil, "[]"},
		{&HSetExOptions{}, "[]"},
		{&HSetExOptions{FNX: true, TTL: 10 * time.Second}, "[FNX EX 10]"},
		{&HSetExOptions{FXX: true, TTL: 1500 * time.Millisecond}, "[FXX PX 1500]"},
		{&HSetExOptions{ExpireAt: at}, "[EXAT 1700000000]"},
		{&HSetExOptions{ExpireAt: at.Add(time.Millisecond)}, "[PXAT 1700000000001]"},
		{&HSetExOptions{KeepTTL: true}, "[KEEPTTL]"},
	} {
		if got := fmt.Sprint(tc.o.appendArgs(nil)); got != tc.want {
			t.Errorf("%+v: %s, want %s", tc.o, got, tc.want)
		}
	}
	if got := fmt.Sprint(appendNumStrings(nil, []string{"a", "b"})); got != "[2 a b]" {
		t.Errorf("appendNumStrings = %s", got)
	}
	if got := fmt.Sprint(appendNumFieldValues(nil, map[string]any{"f": 1})); got != "[1 f 1]" {
		t.Errorf("appendNumFieldValues = %s", got)
	}
}

// TestTypedHashFieldExpirySent: each method sends its command as Redis 7.4/8.0 define
// it, to the key's node: a Redis 7.0 server does not know it and quotes what it got.
func TestTypedHashFieldExpirySent(t *testing.T) {
	t.Parallel()
	c := newTestClient(t, plain(t), Options{})
	ctx := t.Context()
	k := "hfe:{" + t.Name() + "}"
	at := time.Unix(1900000000, 0)
	for _, tc := range []struct {
		name string
		err  error
		want string
	}{
		{"HExpire", err1(c.HExpire(ctx, k, 10*time.Second, "a", "b")), "'HEXPIRE', with args beginning with: '" + k + "' '10' 'FIELDS' '2' 'a' 'b'"},
		{"HExpire ms", err1(c.HExpire(ctx, k, 1500*time.Millisecond, "a")), "'HPEXPIRE', with args beginning with: '" + k + "' '1500' 'FIELDS' '1' 'a'"},
		{"HExpireWithCondition", err1(c.HExpireWithCondition(ctx, k, 10*time.Second, ExpireIfGreater, "a")), "'HEXPIRE', with args beginning with: '" + k + "' '10' 'GT' 'FIELDS' '1' 'a'"},
		{"HExpireWithCondition none", err1(c.HExpireWithCondition(ctx, k, 10*time.Second, "", "a")), "'HEXPIRE', with args beginning with: '" + k + "' '10' 'FIELDS' '1' 'a'"},
		{"HPExpire", err1(c.HPExpire(ctx, k, 2*time.Second, "a")), "'HPEXPIRE', with args beginning with: '" + k + "' '2000' 'FIELDS' '1' 'a'"},
		{"HExpireAt", err1(c.HExpireAt(ctx, k, at, "a")), "'HEXPIREAT', with args beginning with: '" + k + "' '1900000000' 'FIELDS' '1' 'a'"},
		{"HPExpireAt", err1(c.HPExpireAt(ctx, k, at, "a")), "'HPEXPIREAT', with args beginning with: '" + k + "' '1900000000000' 'FIELDS' '1' 'a'"},
		{"HTTL", err1(c.HTTL(ctx, k, "a")), "'HTTL', with args beginning with: '" + k + "' 'FIELDS' '1' 'a'"},
		{"HPTTL", err1(c.HPTTL(ctx, k, "a")), "'HPTTL', with args beginning with: '" + k + "' 'FIELDS' '1' 'a'"},
		{"HExpireTime", err1(c.HExpireTime(ctx, k, "a")), "'HEXPIRETIME', with args beginning with: '" + k + "' 'FIELDS' '1' 'a'"},
		{"HPExpireTime", err1(c.HPExpireTime(ctx, k, "a")), "'HPEXPIRETIME', with args beginning with: '" + k + "' 'FIELDS' '1' 'a'"},
		{"HPersist", err1(c.HPersist(ctx, k, "a")), "'HPERSIST', with args beginning with: '" + k + "' 'FIELDS' '1' 'a'"},
		{"HGetEx", err1(c.HGetEx(ctx, k, &GetExOptions{TTL: time.Minute}, "a")), "'HGETEX', with args beginning with: '" + k + "' 'EX' '60' 'FIELDS' '1' 'a'"},
		{"HGetEx nil", err1(c.HGetEx(ctx, k, nil, "a")), "'HGETEX', with args beginning with: '" + k + "' 'FIELDS' '1' 'a'"},
		{"HSetEx", err1(c.HSetEx(ctx, k, &HSetExOptions{FNX: true, TTL: time.Minute}, map[string]any{"a": 1})), "'HSETEX', with args beginning with: '" + k + "' 'FNX' 'EX' '60' 'FIELDS' '1' 'a' '1'"},
		{"HGetDel", err1(c.HGetDel(ctx, k, "a", "b")), "'HGETDEL', with args beginning with: '" + k + "' 'FIELDS' '2' 'a' 'b'"},
	} {
		if tc.err == nil || !strings.Contains(tc.err.Error(), "unknown command "+tc.want) {
			t.Errorf("%s: error %v; want Redis 7.0's unknown command %s", tc.name, tc.err, tc.want)
		}
	}
}

// err1 returns the error of a method's two results.
func err1[T any](_ T, err error) error { return err }
