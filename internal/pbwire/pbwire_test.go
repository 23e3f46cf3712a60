package pbwire_test

import (
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/etcdscope/etcdscope/internal/pbwire"
)

// fields describes every field of b, or the error, read with rules.
func fields(b []byte, rules pbwire.Rules) string {
	var out []string
	err := pbwire.Walk(b, "M", rules, func(f pbwire.Field) error {
		out = append(out, fmt.Sprintf("%d/%s@%d,%d=%d,%x", f.Num, pbwire.TypeName(f.Type), f.Off, f.ValOff, f.V, f.B))
		return nil
	})
	if err != nil {
		out = append(out, "error")
	}
	return strings.Join(out, " ")
}

func TestRules(t *testing.T) {
	for _, tc := range []struct {
		name, hex           string
		proto, gogo, strict string // strict: "" means as proto
	}{
		{"varint and bytes", "08961a1203616263",
			"1/varint@0,1=3350,961a 2/bytes@3,5=0,616263", "1/varint@0,1=3350,961a 2/bytes@3,5=0,616263", ""},
		{"tenth varint byte above 1", "08ffffffffffffffffff7f",
			"error", "1/varint@0,1=18446744073709551615,ffffffffffffffffff7f", ""},
		{"eleven-byte varint", "08ffffffffffffffffffff01", "error", "error", ""},
		{"field number truncated to int32", "a0808080800105",
			"error", "4/varint@0,6=5,05", ""},
		{"field number 0", "0001", "error", "error", ""},
		{"group skipped by depth, numbers not matched", "0b080114 0800",
			"error", "1/start-group@0,1=0,080114 1/varint@4,5=0,00", ""},
		{"group", "0b0801 0c",
			"1/start-group@0,1=0,08010c", "1/start-group@0,1=0,08010c", ""},
		{"end group alone", "0c", "error", "error", ""},
		{"wire type 6", "0e", "error", "error", ""},
		{"fixed32 and fixed64", "0d01020304 1101020304050607 08",
			"1/fixed32@0,1=0,01020304 2/fixed64@5,6=0,0102030405060708", "1/fixed32@0,1=0,01020304 2/fixed64@5,6=0,0102030405060708", ""},
		{"length beyond the end", "0a05616263", "error", "error", ""},
		{"truncated tag", "80", "error", "error", ""},
		{"empty", "", "", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := hex.DecodeString(strings.ReplaceAll(tc.hex, " ", ""))
			if err != nil {
				t.Fatal(err)
			}
			if tc.strict == "" {
				tc.strict = tc.proto
			}
			for _, r := range []struct {
				rules pbwire.Rules
				want  string
			}{{pbwire.Proto, tc.proto}, {pbwire.Strict, tc.strict}, {pbwire.Gogo, tc.gogo}} {
				if got := fields(b, r.rules); got != r.want {
					t.Errorf("rules %d: got %q, want %q", r.rules, got, r.want)
				}
			}
		})
	}
}

// TestWireType: a known field of an unexpected wire type is skipped under
// Proto and an error under Strict and Gogo.
func TestWireType(t *testing.T) {
	b := protowire.AppendTag(nil, 1, protowire.BytesType)
	b = protowire.AppendBytes(b, []byte("x"))
	b = protowire.AppendTag(b, 2, protowire.VarintType)
	b = protowire.AppendVarint(b, 7)
	for _, rules := range []pbwire.Rules{pbwire.Proto, pbwire.Strict, pbwire.Gogo} {
		var v, w uint64 = 42, 0
		err := pbwire.Walk(b, "M", rules, func(f pbwire.Field) error {
			switch f.Num {
			case 1:
				return f.Uint64(&v)
			case 2:
				return f.Uint64(&w)
			}
			return nil
		})
		if rules == pbwire.Proto {
			if err != nil || v != 42 || w != 7 {
				t.Errorf("Proto: err %v, v %d, w %d: want the bytes field skipped", err, v, w)
			}
			continue
		}
		var pe *pbwire.Error
		if !errors.As(err, &pe) || pe.Err != nil || pe.Num != 1 || pe.Offset != 0 || pe.Msg != "M" || v != 42 {
			t.Errorf("rules %d: err %v (%+v), v %d: want a wire type error at field 1", rules, err, pe, v)
		}
		if got := err.Error(); got != "M: field 1: wire type bytes, want varint" {
			t.Errorf("text %q", got)
		}
	}
}

// TestMessage: nested messages report offsets from the start of the
// outermost message, and nest at most MaxDepth deep.
func TestMessage(t *testing.T) {
	inner := protowire.AppendTag(nil, 3, protowire.BytesType)
	inner = protowire.AppendVarint(inner, 9) // length 9, no bytes
	outer := []byte{0x08, 0x01}
	outer = protowire.AppendTag(outer, 2, protowire.BytesType)
	outer = protowire.AppendBytes(outer, inner)
	err := pbwire.Walk(outer, "Outer", pbwire.Strict, func(f pbwire.Field) error {
		if f.Num != 2 {
			return nil
		}
		it, ok, err := f.Message("Inner")
		if !ok {
			return err
		}
		return it.Each(func(pbwire.Field) error { return nil })
	})
	var pe *pbwire.Error
	if !errors.As(err, &pe) || pe.Offset != 4 || pe.Msg != "Inner" || pe.Num != 3 || !errors.Is(err, pbwire.ErrTruncated) {
		t.Fatalf("err %v (%+v): want a truncated field 3 of Inner at offset 4", err, pe)
	}
	if !strings.Contains(err.Error(), "runs past the end") {
		t.Errorf("text %q", err)
	}

	// n messages, each the field 1 of the one around it.
	nest := func(n int) []byte {
		var b []byte
		for i := 0; i < n; i++ {
			b = pbwire.AppendBytes(nil, 1, b)
		}
		return b
	}
	var walk func(it *pbwire.Iter) error
	walk = func(it *pbwire.Iter) error {
		for it.Next() {
			sub, ok, err := it.Field().Message("M")
			if !ok {
				return err
			}
			if err := walk(&sub); err != nil {
				return err
			}
		}
		return it.Err()
	}
	for _, rules := range []pbwire.Rules{pbwire.Proto, pbwire.Gogo} {
		it := pbwire.Fields(nest(pbwire.MaxDepth+1), "M", rules)
		if err := walk(&it); !errors.Is(err, pbwire.ErrTooDeep) {
			t.Errorf("rules %d: %d levels: err %v, want ErrTooDeep", rules, pbwire.MaxDepth+1, err)
		}
		it = pbwire.Fields(nest(pbwire.MaxDepth), "M", rules)
		if err := walk(&it); err != nil {
			t.Errorf("rules %d: %d levels: %v", rules, pbwire.MaxDepth, err)
		}
	}
}

func TestAccessors(t *testing.T) {
	var b []byte
	b = pbwire.AppendVarint(b, 1, 1<<63|5)
	b = pbwire.AppendBytes(b, 2, []byte("ab"))
	b = pbwire.AppendVarint(b, 3, 0)
	b = pbwire.AppendBytes(b, 4, []byte{0x01, 0x96, 0x01}) // packed 1, 150
	b = pbwire.AppendVarint(b, 4, 7)                       // and one unpacked
	b = pbwire.AppendBytes(b, 5, nil)
	var (
		u   uint64
		i   int64
		i32 int32
		u32 uint32
		on  bool
		opt *bool
		bs  []byte
		s   string
		set bool
		ids []uint64
		ss  []string
	)
	err := pbwire.Walk(b, "M", pbwire.Gogo, func(f pbwire.Field) error {
		var errs []error
		switch f.Num {
		case 1:
			errs = append(errs, f.Uint64(&u), f.Int64(&i), f.Int32(&i32), f.Uint32(&u32), f.Bool(&on))
		case 2:
			errs = append(errs, f.Bytes(&bs), f.Text(&s), f.AppendText(&ss), f.Present(&set))
		case 3:
			errs = append(errs, f.OptBool(&opt))
		case 4:
			errs = append(errs, f.Packed(&ids))
		case 5:
			errs = append(errs, f.AppendText(&ss))
		}
		return errors.Join(errs...)
	})
	if err != nil {
		t.Fatal(err)
	}
	if u != 1<<63|5 || i != -1<<63|5 || i32 != 5 || u32 != 5 || !on || opt == nil || *opt || string(bs) != "ab" || cap(bs) != 2 ||
		s != "ab" || !set || !slices.Equal(ids, []uint64{1, 150, 7}) || !slices.Equal(ss, []string{"ab", ""}) {
		t.Errorf("u %d i %d i32 %d u32 %d on %v opt %v bs %q (cap %d) s %q set %v ids %v ss %q", u, i, i32, u32, on, opt, bs, cap(bs), s, set, ids, ss)
	}
	bad := pbwire.AppendBytes(nil, 1, []byte{0x80})
	err = pbwire.Walk(bad, "M", pbwire.Proto, func(f pbwire.Field) error { return f.Packed(&ids) })
	if !errors.Is(err, pbwire.ErrTruncated) {
		t.Errorf("truncated packed varint: err %v", err)
	}
}

func TestConfState(t *testing.T) {
	want := pbwire.ConfState{Voters: []uint64{1, 2}, Learners: []uint64{3}, VotersOutgoing: []uint64{4}, LearnersNext: []uint64{5}, AutoLeave: true}
	b := pbwire.AppendConfState(nil, want)
	var got pbwire.ConfState
	it := pbwire.Fields(b, "ConfState", pbwire.Strict)
	if err := pbwire.ReadConfState(&it, &got); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got.Voters, want.Voters) || !slices.Equal(got.Learners, want.Learners) || !slices.Equal(got.VotersOutgoing, want.VotersOutgoing) ||
		!slices.Equal(got.LearnersNext, want.LearnersNext) || got.AutoLeave != want.AutoLeave {
		t.Errorf("got %+v, want %+v", got, want)
	}
	// auto_leave as bytes: an error under Strict, skipped under Proto.
	odd := pbwire.AppendBytes(pbwire.AppendVarint(nil, 1, 9), 5, []byte{1})
	for _, rules := range []pbwire.Rules{pbwire.Proto, pbwire.Strict} {
		var c pbwire.ConfState
		it := pbwire.Fields(odd, "ConfState", rules)
		err := pbwire.ReadConfState(&it, &c)
		if (err != nil) != (rules == pbwire.Strict) || !slices.Equal(c.Voters, []uint64{9}) {
			t.Errorf("rules %d: %+v, %v", rules, c, err)
		}
	}
}

// FuzzFields: walking never panics, fields tile the message in order and
// stay within it, and Proto and Gogo agree on what protowire accepts
// without groups.
func FuzzFields(f *testing.F) {
	f.Add([]byte{0x08, 0x96, 0x01, 0x12, 0x03, 'a', 'b', 'c'})
	f.Add([]byte{0x0b, 0x08, 0x01, 0x0c})
	f.Add([]byte{0xa0, 0x80, 0x80, 0x80, 0x80, 0x01, 0x05})
	f.Fuzz(func(t *testing.T, b []byte) {
		var seen [3][]string
		for r, rules := range []pbwire.Rules{pbwire.Proto, pbwire.Strict, pbwire.Gogo} {
			it := pbwire.Fields(b, "M", rules)
			off := 0
			groups := false
			for it.Next() {
				f := it.Field()
				if f.Off != off || f.ValOff <= f.Off || f.ValOff > len(b) || f.ValOff+len(f.B) > len(b) || it.Offset() <= f.Off {
					t.Fatalf("rules %d: field %+v at %d, next at %d, of %d bytes", rules, f, off, it.Offset(), len(b))
				}
				groups = groups || f.Type == protowire.StartGroupType
				off = it.Offset()
				seen[r] = append(seen[r], fmt.Sprint(f.Num, f.Type, f.V, f.B))
			}
			if it.Err() == nil && off != len(b) {
				t.Fatalf("rules %d: ended at %d of %d without an error", rules, off, len(b))
			}
			if it.Err() != nil {
				var pe *pbwire.Error
				if !errors.As(it.Err(), &pe) || pe.Offset != off {
					t.Fatalf("rules %d: error %v at %+v, the field at %d", rules, it.Err(), pe, off)
				}
				seen[r] = append(seen[r], "error")
			}
			if r == 0 && groups {
				return
			}
		}
		if !slices.Equal(seen[0], seen[1]) {
			t.Fatalf("Proto %v, Strict %v", seen[0], seen[1])
		}
		if !slices.Contains(seen[0], "error") && !slices.Equal(seen[0], seen[2]) {
			t.Fatalf("Proto %v, Gogo %v", seen[0], seen[2])
		}
	})
}
