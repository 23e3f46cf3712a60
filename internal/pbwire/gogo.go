package pbwire

import (
	"google.golang.org/protobuf/encoding/protowire"
)

// This file reads the wire format as the Unmarshal code gogo generated for
// etcd 3.0-3.6 does (api/etcdserverpb/*.pb.go, raft/raftpb/raft.pb.go):
// see [Gogo].

// nextGogo reads the field at it.pos with gogo's rules and returns its
// length, or -1 after setting it.err.
func (it *Iter) nextGogo() int {
	rest := it.b[it.pos:]
	wire, n := gogoVarint(rest)
	if n < 0 {
		return it.fail(0, varintClass(n), "tag: %s", varintText(n))
	}
	f := &it.f
	f.Num, f.Type, f.ValOff = protowire.Number(int32(wire>>3)), protowire.Type(wire&7), f.Off+n
	if f.Type == protowire.EndGroupType {
		return it.fail(f.Num, nil, "field %d: end group for non-group", f.Num)
	}
	if f.Num <= 0 {
		return it.fail(0, nil, "illegal tag %d", f.Num)
	}
	val := rest[n:]
	switch f.Type {
	case protowire.VarintType:
		v, m := gogoVarint(val)
		if m < 0 {
			return it.fail(f.Num, varintClass(m), "field %d: %s", f.Num, varintText(m))
		}
		f.V, f.B = v, val[:m]
		return n + m
	case protowire.BytesType:
		l, m := gogoVarint(val)
		if m < 0 {
			return it.fail(f.Num, varintClass(m), "field %d: length: %s", f.Num, varintText(m))
		}
		if l > uint64(len(val)-m) {
			return it.fail(f.Num, ErrTruncated, "field %d: length %d runs past the end (%d bytes left)", f.Num, l, len(val)-m)
		}
		f.ValOff += m
		f.V, f.B = 0, val[m:m+int(l)]
		return n + m + int(l)
	}
	m, detail, class := gogoSkip(rest)
	if m < 0 {
		return it.fail(f.Num, class, "field %d: %s", f.Num, detail)
	}
	f.V, f.B = 0, rest[n:m]
	return m
}

// gogoVarint reads a varint as gogo's generated code does: at most ten
// bytes, bits beyond 64 dropped. n is -1 when b ends inside the varint and
// -2 when it is longer than ten bytes.
func gogoVarint(b []byte) (v uint64, n int) {
	for i := 0; i < 10; i++ {
		if i >= len(b) {
			return 0, -1
		}
		c := b[i]
		v |= uint64(c&0x7f) << (7 * i)
		if c < 0x80 {
			return v, i + 1
		}
	}
	return 0, -2
}

// gogoSkip returns the length of the field that starts (with its tag) at
// b, as gogo's skip functions do: groups are skipped by depth without
// matching their field numbers. n is -1 when the field does not parse.
func gogoSkip(b []byte) (n int, detail string, class error) {
	i, depth := 0, 0
	for i < len(b) {
		wire, n := gogoVarint(b[i:])
		if n < 0 {
			return -1, varintText(n), varintClass(n)
		}
		i += n
		switch typ := protowire.Type(wire & 7); typ {
		case protowire.VarintType:
			_, n := gogoVarint(b[i:])
			if n < 0 {
				return -1, varintText(n), varintClass(n)
			}
			i += n
		case protowire.Fixed64Type:
			i += 8
		case protowire.BytesType:
			l, n := gogoVarint(b[i:])
			if n < 0 {
				return -1, varintText(n), varintClass(n)
			}
			i += n
			if l > uint64(len(b)-i) {
				return -1, "length runs past the end", ErrTruncated
			}
			i += int(l)
		case protowire.StartGroupType:
			depth++
		case protowire.EndGroupType:
			if depth == 0 {
				return -1, "unexpected end of group", nil
			}
			depth--
		case protowire.Fixed32Type:
			i += 4
		default:
			return -1, "illegal wire type " + TypeName(typ), nil
		}
		if depth == 0 {
			if i > len(b) {
				break
			}
			return i, "", nil
		}
	}
	return -1, "truncated field", ErrTruncated
}
