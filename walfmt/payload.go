package walfmt

// The kinds of a conf change payload, beside the request kinds.
const (
	kindConfChange   = "confchange"
	kindConfChangeV2 = "confchangev2"
)

// Payload is an entry's data decoded by the entry's type: a [Request] for a
// normal entry, a [ConfChange] or [ConfChangeV2] for the others. Like the
// request, it aliases the entry's data.
//
// The functions that take a *Payload with a frame or an entry use it as a
// cache: a zero Payload is one not decoded yet, which the first of them
// that needs it decodes into. So a caller that filters frames and then
// writes them ([Filter.Match], then [Frame.AppendJSON]) decodes each entry
// at most once, and only when a filter or the output looks at it. A nil
// *Payload is decoded each time it is needed.
type Payload struct {
	// Kind is one of [PayloadKinds]: the request's Kind for a normal
	// entry ("" when its data does not decode), "confchange" or
	// "confchangev2" for a conf change entry (decoded or not); "" for an
	// entry of an unknown type.
	Kind         string
	Request      *Request
	ConfChange   *ConfChange
	ConfChangeV2 *ConfChangeV2
	// Err is why the data does not decode (it wraps [ErrUndecodableRequest]).
	Err error

	decoded bool
	keys    [][]byte
}

// PayloadKinds returns every value [Payload.Kind] can take: the request
// kinds, then "confchange" and "confchangev2".
func PayloadKinds() []string { return append(RequestKinds(), kindConfChange, kindConfChangeV2) }

// DecodePayload decodes e's data as e's type says: with [DecodeRequest],
// [DecodeConfChange] or [DecodeConfChangeV2].
func DecodePayload(e *Entry) Payload {
	p := Payload{decoded: true}
	switch e.Type {
	case EntryNormal:
		p.Request, p.Err = DecodeRequest(e.Data)
		if p.Request != nil {
			p.Kind = p.Request.Kind
		}
	case EntryConfChange:
		p.Kind = kindConfChange
		p.ConfChange, p.Err = DecodeConfChange(e.Data)
	case EntryConfChangeV2:
		p.Kind = kindConfChangeV2
		p.ConfChangeV2, p.Err = DecodeConfChangeV2(e.Data)
	}
	return p
}

// decode decodes e into p, unless p holds a decoded payload already. A nil
// p is given a new one, d.
func (p *Payload) decode(e *Entry, d *Payload) *Payload {
	if p == nil {
		p = d
	}
	if !p.decoded {
		*p = DecodePayload(e)
	}
	return p
}

// Keys returns the keys the request names ([Request.Keys]; none for a
// conf change), computed once.
func (p *Payload) Keys() [][]byte {
	if p.keys == nil && p.Request != nil {
		p.keys = p.Request.Keys()
	}
	return p.keys
}

// Describe returns a one-line description of the request or conf change
// ([DescribeRequest], [DescribeConfChange], [DescribeConfChangeV2]), or ""
// when there is none: the payload was not decoded, or did not decode.
func (p *Payload) Describe(opts DescribeOptions) string {
	switch {
	case p.Request != nil:
		return DescribeRequest(p.Request, opts)
	case p.ConfChange != nil:
		return DescribeConfChange(p.ConfChange)
	case p.ConfChangeV2 != nil:
		return DescribeConfChangeV2(p.ConfChangeV2)
	}
	return ""
}
