package pbwire

import (
	"errors"
	"io"

	"google.golang.org/protobuf/encoding/protowire"
)

// Error is a message that does not decode. It matches its class (Err), if
// any, with errors.Is.
type Error struct {
	Msg    string           // the message's name, as given to [Fields] or [Field.Message]; may be empty
	Num    protowire.Number // the field at fault; 0 when its tag does not parse
	Offset int              // of the field's tag, from the start of the outermost message
	Err    error            // the class: ErrTruncated, ErrTooDeep or nil
	Detail string           // what is wrong, naming the field
}

func (e *Error) Error() string {
	if e.Msg == "" {
		return e.Detail
	}
	return e.Msg + ": " + e.Detail
}

func (e *Error) Unwrap() error { return e.Err }

// Classes of [Error]; an error of any other kind (bytes no encoder
// writes: a field number out of range, a reserved or unexpected wire type,
// an end-group tag without its group, an overlong varint) has none.
var (
	// ErrTruncated is returned when a message ends inside a tag, a varint,
	// a length or the value it announces.
	ErrTruncated = errors.New("truncated")

	// ErrTooDeep is returned by [Field.Message] for a message nested
	// deeper than [MaxDepth].
	ErrTooDeep = errors.New("nested too deep")
)

// classOf is the class of a protowire error code.
func classOf(n int) error {
	if protowire.ParseError(n) == io.ErrUnexpectedEOF {
		return ErrTruncated
	}
	return nil
}

// varintClass and varintText describe the n < 0 of a varint read: -1 for
// a varint the bytes end inside, -2 for one that is too long.
func varintClass(n int) error {
	if n == -1 {
		return ErrTruncated
	}
	return nil
}

func varintText(n int) string {
	if n == -1 {
		return "truncated varint"
	}
	return "varint overflow"
}
