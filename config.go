package redline

import (
	"github.com/redline-go/redline/internal/cluster"
)

// engineConfig is what the engine gets of the options (defaults applied already:
// withDefaults is the one place where they are set).
func (o Options) engineConfig() cluster.Config {
	cfg := cluster.Config{
		Addrs:              o.Addrs,
		Shape:              cluster.Shape(o.Shape),
		Replicas:           o.Replicas,
		DB:                 o.DB,
		Sentinel:           o.Sentinel.engineConfig(o),
		ReadFrom:           cluster.ReadFrom(o.ReadFrom),
		Split:              cluster.SplitMode(o.Split),
		Zone:               o.Zone,
		NodeZone:           o.NodeZone,
		CommandTimeout:     o.CommandTimeout,
		DialTimeout:        o.DialTimeout,
		MaxAttempts:        o.MaxAttempts,
		RetryBackoff:       o.RetryBackoff,
		RetryBackoffMax:    o.RetryBackoffMax,
		RefreshInterval:    o.RefreshInterval,
		RefreshMinInterval: o.RefreshMinInterval,
		TLS:                o.TLSConfig,
		TLSServerName:      o.TLSServerName,
		Protocol:           o.Protocol,
		Username:           o.Username,
		Password:           o.Password,
		Credentials:        o.Credentials,
		ClientName:         o.ClientName,
		ReplyTimeout:       o.ReplyTimeout,
		Limits:             o.replyLimits(),
		Logger:             o.Logger,
		Cache:              o.Cache.engineCache(),
	}
	o.Hooks.engineHooks(&cfg)
	return cfg
}
