package resp

import "io"

const (
	writerFlushAt = 32 << 10 // Write* flush by themselves once this much is buffered
	maxKeptWrite  = 1 << 20  // a larger buffer is dropped after a flush
)

// Writer buffers encoded values and writes them to an io.Writer, for fake servers and
// tests. Output is written when Flush is called, or by any Write* method once 32 KiB are
// buffered. The first write error is sticky: it is returned by every later call. A Writer
// is not safe for concurrent use.
type Writer struct {
	w   io.Writer
	buf []byte
	err error
}

// NewWriter returns a Writer that writes to w.
func NewWriter(w io.Writer) *Writer {
	return &Writer{w: w}
}

// Reset discards buffered data and the sticky error, and makes b write to w.
func (b *Writer) Reset(w io.Writer) {
	b.w, b.buf, b.err = w, b.buf[:0], nil
}

// WriteValue buffers v encoded in RESP3 by [AppendValue].
func (b *Writer) WriteValue(v Value) error {
	if b.err != nil {
		return b.err
	}
	b.buf = appendValue(b.buf, &v)
	return b.flushIfFull()
}

// WriteValueRESP2 buffers v downgraded for a RESP2 peer by [AppendValueRESP2].
func (b *Writer) WriteValueRESP2(v Value) error {
	if b.err != nil {
		return b.err
	}
	b.buf = appendValueRESP2(b.buf, &v)
	return b.flushIfFull()
}

// WriteCommand buffers a command made of string arguments.
func (b *Writer) WriteCommand(args ...string) error {
	if b.err != nil {
		return b.err
	}
	b.buf = AppendCommandStrings(b.buf, args...)
	return b.flushIfFull()
}

// Write buffers p as it is, unchecked: fake servers use it to send malformed or partial
// frames. It implements io.Writer, so fmt.Fprintf works too.
func (b *Writer) Write(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	b.buf = append(b.buf, p...)
	return len(p), b.flushIfFull()
}

// Buffered returns the number of bytes buffered and not yet written.
func (b *Writer) Buffered() int { return len(b.buf) }

// Flush writes the buffered data to the underlying io.Writer.
func (b *Writer) Flush() error {
	if b.err != nil {
		return b.err
	}
	if len(b.buf) == 0 {
		return nil
	}
	n, err := b.w.Write(b.buf)
	if err == nil && n < len(b.buf) {
		err = io.ErrShortWrite
	}
	if err != nil {
		b.err = err
		return err
	}
	if cap(b.buf) > maxKeptWrite {
		b.buf = nil
	} else {
		b.buf = b.buf[:0]
	}
	return nil
}

func (b *Writer) flushIfFull() error {
	if len(b.buf) >= writerFlushAt {
		return b.Flush()
	}
	return nil
}
