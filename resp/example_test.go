package resp_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/redline-go/redline/resp"
)

func ExampleReader() {
	// Replies as a server sends them: a RESP2 bulk, a RESP3 map, a redirection, a null.
	in := "$5\r\nhello\r\n%1\r\n+proto\r\n:3\r\n-MOVED 3999 127.0.0.1:6381\r\n$-1\r\n"
	r := resp.NewReader(strings.NewReader(in), resp.Limits{})
	for {
		v, err := r.ReadValue()
		if err == io.EOF {
			break
		}
		if err != nil {
			fmt.Println("read:", err) // the connection must be closed
			return
		}
		switch {
		case v.IsError() && v.Err.IsMoved():
			fmt.Printf("moved: slot %d to %s\n", v.Err.Slot, v.Err.Addr)
		case v.IsNull():
			fmt.Println("null")
		default:
			fmt.Println(v)
		}
	}
	// Output:
	// "hello"
	// {+proto: 3}
	// moved: slot 3999 to 127.0.0.1:6381
	// null
}

func ExampleReader_hostile() {
	r := resp.NewReader(strings.NewReader("$2147483647\r\n"), resp.Limits{})
	_, err := r.ReadValue()
	fmt.Println(err)
	fmt.Println(errors.Is(err, resp.ErrProtocol), errors.Is(err, resp.ErrTooLarge))
	// Output:
	// resp: bulk length 2147483647 exceeds limit 536870912
	// true true
}

func ExampleAppendCommand() {
	buf, err := resp.AppendCommand(nil, "SET", "counter", 42, "EX", 60)
	if err != nil {
		panic(err)
	}
	fmt.Printf("%q\n", buf)
	// Output:
	// "*5\r\n$3\r\nSET\r\n$7\r\ncounter\r\n$2\r\n42\r\n$2\r\nEX\r\n$2\r\n60\r\n"
}

func ExampleParseError() {
	e := resp.ParseError("MOVED 3999 :6381") // Redis 7: empty host means "same host"
	fmt.Println(e.Code, e.Slot, e.Addr, e.IsMoved())
	e = resp.ParseError("TRYAGAIN Multiple keys request during rehashing of slot")
	fmt.Println(e.Code, e.IsRetryable())
	// Output:
	// MOVED 3999 :6381 true
	// TRYAGAIN true
}

// A fake server reads a command and answers it, in the protocol the client asked for.
func ExampleWriter() {
	var out bytes.Buffer
	r := resp.NewReader(strings.NewReader("*2\r\n$5\r\nHELLO\r\n$1\r\n3\r\n"), resp.Limits{})
	w := resp.NewWriter(&out)
	cmd, _ := r.ReadValue()
	fmt.Println(cmd)
	reply := resp.Value{Type: resp.TypeMap, Elems: []resp.Value{
		{Type: resp.TypeBulkString, Str: []byte("proto")}, {Type: resp.TypeInteger, Int: 3},
	}}
	_ = w.WriteValue(reply)       // RESP3 client
	_ = w.WriteValueRESP2(reply)  // the same for a RESP2 client
	_, _ = w.Write([]byte("$-5")) // or anything at all, for tests of broken servers
	_ = w.Flush()
	fmt.Printf("%q\n", out.String())
	// Output:
	// ["HELLO" "3"]
	// "%1\r\n$5\r\nproto\r\n:3\r\n*2\r\n$5\r\nproto\r\n:3\r\n$-5"
}
