package sip

// xferKind says which field of a pending transfer an index key holds.
type xferKind uint8

const (
	// xferTarget: the Refer-To user (or a redirect's Contact user).
	xferTarget xferKind = iota + 1
	// xferReplaces: the Call-ID named by Replaces in Refer-To (RFC 3891).
	xferReplaces
	// xferReferrer: who the REFER says refers (Referred-By, or From;
	// RFC 3892).
	xferReferrer
)

type xferKey struct {
	kind xferKind
	v    string
}

// xferIndex finds the open legs whose transfer still waits for its new
// leg, by the fields a new INVITE can match, so linking a new leg costs
// the few candidates of its keys rather than a walk over every open leg
// (issue 9 §2: that walk, per INVITE, made a flood quadratic).
type xferIndex map[xferKey]map[*leg]struct{}

// keys returns the keys l should be indexed under now, into buf.
func (l *leg) xferKeys(buf []xferKey) []xferKey {
	tr := l.call.Transfer
	if tr == nil || tr.TargetCallID != "" {
		return buf
	}
	if tr.Target != "" {
		buf = append(buf, xferKey{xferTarget, tr.Target})
	}
	if tr.ReplacesCallID != "" {
		buf = append(buf, xferKey{xferReplaces, tr.ReplacesCallID})
	}
	if tr.Kind != "redirect" && l.referFrom != "" {
		buf = append(buf, xferKey{xferReferrer, l.referFrom})
	}
	return buf
}

// reindex brings l's entries in line with its transfer as it stands.
func (x xferIndex) reindex(l *leg) {
	var buf [3]xferKey
	want := l.xferKeys(buf[:0])
	if equalKeys(want, l.xkeys) {
		return
	}
	x.remove(l)
	for _, k := range want {
		set := x[k]
		if set == nil {
			set = make(map[*leg]struct{}, 1)
			x[k] = set
		}
		set[l] = struct{}{}
	}
	l.xkeys = append(l.xkeys[:0], want...)
}

// remove takes l out of the index.
func (x xferIndex) remove(l *leg) {
	for _, k := range l.xkeys {
		if set := x[k]; set != nil {
			delete(set, l)
			if len(set) == 0 {
				delete(x, k)
			}
		}
	}
	l.xkeys = l.xkeys[:0]
}

// candidates calls fn with each leg indexed under one of the keys a new
// INVITE m can match (a leg may come more than once).
func (x xferIndex) candidates(m *Message, fn func(*leg)) {
	var buf [4]xferKey
	keys := buf[:0]
	if m.RequestUser != "" {
		keys = append(keys, xferKey{xferTarget, m.RequestUser})
	}
	if m.ToUser != "" && m.ToUser != m.RequestUser {
		keys = append(keys, xferKey{xferTarget, m.ToUser})
	}
	if m.Replaces != nil && m.Replaces.CallID != "" {
		keys = append(keys, xferKey{xferReplaces, m.Replaces.CallID})
	}
	if m.ReferredByUser != "" {
		keys = append(keys, xferKey{xferReferrer, m.ReferredByUser})
	}
	for _, k := range keys {
		for l := range x[k] {
			fn(l)
		}
	}
}

func equalKeys(a, b []xferKey) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
