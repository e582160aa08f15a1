package codec

// MaxRejectMessage is the longest command name a reject may name: the
// 12-byte command field (Core read it as LIMITED_STRING(strMsg, 12)).
const MaxRejectMessage = 12

// DecodeReject parses a reject payload (BIP61, removed from Core in 0.20 but
// still sent by old nodes and btcd): the rejected command as a var-string of
// at most MaxRejectMessage bytes, a code byte, a reason var-string, and, when
// the rejected command is "block" or "tx", the 32-byte hash (then required,
// as btcd and old Core read it). The reason is bounded only by the payload
// (the frame cap is MaxRejectPayload); Core once limited it to 111 bytes but
// btcd never did. Trailing bytes are ignored. Message and Reason are
// allocated (at most two allocations, none for empty strings).
func DecodeReject(payload []byte) (Reject, error) {
	var rj Reject
	r := reader{b: payload, msg: "reject"}
	rj.Message = r.varString("message", MaxRejectMessage)
	rj.Code = r.u8("code")
	rj.Reason = r.varString("reason", MaxRejectPayload)
	if r.err == nil && (rj.Message == "block" || rj.Message == "tx") {
		if h := r.take("hash", 32); h != nil {
			rj.Hash = [32]byte(h)
			rj.HasHash = true
		}
	}
	if r.err != nil {
		return Reject{}, r.err
	}
	return rj, nil
}

// AppendReject appends a reject payload to dst. The hash is written when
// HasHash is set (a reader expects it exactly for "block" and "tx").
func AppendReject(dst []byte, rj *Reject) []byte {
	dst = AppendVarString(dst, rj.Message)
	dst = append(dst, rj.Code)
	dst = AppendVarString(dst, rj.Reason)
	if rj.HasHash {
		dst = append(dst, rj.Hash[:]...)
	}
	return dst
}
