package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/redline-go/redline"
	"github.com/redline-go/redline/resp"
)

// subscribe runs SUBSCRIBE, PSUBSCRIBE or SSUBSCRIBE: it prints the messages as they
// come (a sharded subscription follows its channels' slots) until Ctrl-C, which ends
// only this command (a session or here-doc goes on with its next line). The
// subscription has connections of its own: it never mixes with other commands'
// replies.
func (s *session) subscribe(ctx context.Context, words []string) int {
	kind := strings.ToUpper(words[0])
	if len(words) < 2 {
		fmt.Fprintf(s.stderr, "(error) %s needs at least one channel\n", kind)
		return 1
	}
	sctx, done := sigint.streamContext(ctx)
	defer done()
	var sub *redline.Subscription
	var err error
	switch kind {
	case "SUBSCRIBE":
		sub, err = s.c.Subscribe(sctx, words[1:]...)
	case "PSUBSCRIBE":
		sub, err = s.c.PSubscribe(sctx, words[1:]...)
	default:
		sub, err = s.c.SSubscribe(sctx, words[1:]...)
	}
	if err != nil {
		if sctx.Err() != nil {
			return 0
		}
		s.printErr(err)
		return 1
	}
	defer sub.Close()
	what := "channel"
	if kind == "PSUBSCRIBE" {
		what = "pattern"
	} else if kind == "SSUBSCRIBE" {
		what = "shard channel"
	}
	fmt.Fprintf(s.stderr, "Reading messages from %s (press Ctrl-C to stop)...\n", plural(len(words)-1, what))
	defer s.streamEnded(sctx)
	for {
		select {
		case <-sctx.Done():
			return 0
		case m, ok := <-sub.Messages():
			if !ok {
				if sctx.Err() != nil {
					return 0
				}
				fmt.Fprintf(s.stderr, "%s: the subscription ended\n", s.name)
				return 1
			}
			s.printMessage(m)
		}
	}
}

// messageJSON is a message in --json output.
type messageJSON struct {
	Kind    string `json:"kind"`
	Pattern string `json:"pattern,omitempty"`
	Channel string `json:"channel"`
	Payload string `json:"payload"`
}

// printMessage prints one message as redis-cli does (kind, [pattern,] channel,
// payload), or as one JSON object a line; a gap goes to stderr.
func (s *session) printMessage(m redline.Message) {
	if m.Kind == redline.KindGap {
		fmt.Fprintf(s.stderr, "(gap: messages may have been missed) %s\n", errLine(m.Err))
		return
	}
	if s.out.json {
		b, _ := json.Marshal(messageJSON{Kind: string(m.Kind), Pattern: m.Pattern, Channel: m.Channel, Payload: m.Payload})
		fmt.Fprintf(s.stdout, "%s\n", b)
		return
	}
	parts := []string{string(m.Kind)}
	if m.Kind == redline.KindPMessage {
		parts = append(parts, m.Pattern)
	}
	parts = append(parts, m.Channel, m.Payload)
	v := resp.Value{Type: resp.TypeArray, Elems: make([]resp.Value, len(parts))}
	for i, p := range parts {
		v.Elems[i] = resp.Value{Type: resp.TypeBulkString, Str: []byte(p)}
	}
	s.out.printReply(s.stdout, nil, v)
}

// streamEnded ends the line the terminal echoed ^C on, when Ctrl-C ended a stream in a
// session on a terminal, so that the prompt starts a line of its own.
func (s *session) streamEnded(sctx context.Context) {
	if sctx.Err() != nil && isTerminal(s.stdout) {
		fmt.Fprintln(s.stdout)
	}
}
