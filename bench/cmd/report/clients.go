package main

import benchkv "github.com/redline-go/redline/bench/internal/kv"

// The report's names for the clients it compares (bench/internal/kv builds them).
type (
	kv         = benchkv.KV
	clientSpec = benchkv.Spec
)

const (
	nameRedline = benchkv.Redline
	nameGoRedis = benchkv.GoRedis
	nameRueidis = benchkv.Rueidis
)

// clients are the three libraries in the order a round runs them.
var clients = benchkv.Clients

// clientByName returns the client called name; it panics for an unknown name.
func clientByName(name string) clientSpec { return benchkv.ByName(name) }
