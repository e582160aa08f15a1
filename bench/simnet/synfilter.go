package simnet

import (
	"encoding/binary"
	"errors"
	"fmt"
	"runtime"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// A SYN filter: an eBPF socket filter, attached to a slow-connect node's
// listener, that drops each connect attempt's SYN and its retransmissions
// until retransmission k is due, as a path that loses a dialler's first k
// SYNs would. The kernel runs it for every segment the listener receives,
// before the TCP state machine, and keeps per attempt when its first SYN
// came, in an LRU map shared by all the filters. An attempt is a 4-tuple
// and its initial sequence number: the SYN's retransmissions carry the
// same one, and a new connect from the same port (a dialler that gave up
// and whose kernel picks the port again) a new one. A SYN is let through
// once its attempt is at least halfway from retransmission k−1 to k old,
// however late the dialler's retransmissions come. Everything else (the
// final ACK, data on the accepted connections, which inherit the filter)
// passes.
//
// So the connect latency is the kernel's own doing, per dialler: nothing in
// the simulator has to watch or be scheduled on time, and a dialler that
// comes back finds the node as slow as before whatever else is dialling it.
// A filter's drops count in the listener's SO_MEMINFO drop counter.

const (
	synFilterMapEntries = 16384 // attempts remembered at once (LRU)

	bpfMapCreate   = 0
	bpfProgLoad    = 5
	bpfMapLRUHash  = 9
	bpfProgSockFil = 1
	soAttachBPF    = 50 // SO_ATTACH_BPF (asm-generic/socket.h)

	helperMapLookup       = 1
	helperMapUpdate       = 2
	helperKtimeGetNs      = 5
	helperLoadBytesRelNet = 68 // bpf_skb_load_bytes_relative
	hdrStartNet           = 1  // BPF_HDR_START_NET

	synKeySize   = 40 // source and destination address (32, IPv4 uses 8), ports (4), padding
	synValueSize = 16 // first SYN (CLOCK_MONOTONIC ns), its sequence number, padding
)

// synFilters holds the shared map and one program per (k, family).
type synFilters struct {
	mapFD int
	progs map[[2]int]int // {k, 4 or 6} → program fd
	sched []time.Duration
}

func newSYNFilters(sched []time.Duration) (*synFilters, error) {
	attr := struct{ typ, key, value, entries, flags uint32 }{bpfMapLRUHash, synKeySize, synValueSize, synFilterMapEntries, 0}
	fd, err := bpfCall(bpfMapCreate, unsafe.Pointer(&attr), unsafe.Sizeof(attr))
	if err != nil {
		return nil, fmt.Errorf("simnet: slow-connect nodes drop SYNs with an eBPF socket filter (needs CAP_BPF, as root): creating its map: %w", err)
	}
	return &synFilters{mapFD: fd, progs: map[[2]int]int{}, sched: sched}, nil
}

// attach puts the filter for retransmission k on a listener's fd.
func (f *synFilters) attach(fd int, k int, v6 bool) error {
	fam := 4
	if v6 {
		fam = 6
	}
	prog, ok := f.progs[[2]int{k, fam}]
	if !ok {
		var err error
		if prog, err = f.load(k, v6); err != nil {
			return err
		}
		f.progs[[2]int{k, fam}] = prog
	}
	return syscall.SetsockoptInt(fd, syscall.SOL_SOCKET, soAttachBPF, prog)
}

func (f *synFilters) load(k int, v6 bool) (int, error) {
	insns := synFilterProgram(f.mapFD, (f.sched[k-1]+f.sched[k])/2, v6)
	license := []byte("GPL\x00")
	logBuf := make([]byte, 64<<10)
	attr := struct {
		typ, insnCnt     uint32
		insns, license   uint64
		logLevel, logLen uint32
		logBuf           uint64
	}{bpfProgSockFil, uint32(len(insns)), uint64(uintptr(unsafe.Pointer(&insns[0]))),
		uint64(uintptr(unsafe.Pointer(&license[0]))), 1, uint32(len(logBuf)), uint64(uintptr(unsafe.Pointer(&logBuf[0])))}
	fd, err := bpfCall(bpfProgLoad, unsafe.Pointer(&attr), unsafe.Sizeof(attr))
	runtime.KeepAlive(insns)
	runtime.KeepAlive(license)
	runtime.KeepAlive(logBuf)
	if err != nil {
		n := 0
		for n < len(logBuf) && logBuf[n] != 0 {
			n++
		}
		return -1, fmt.Errorf("simnet: loading the SYN filter (k %d): %w: %s", k, err, logBuf[:n])
	}
	return fd, nil
}

func (f *synFilters) close() {
	if f == nil {
		return
	}
	for _, fd := range f.progs {
		syscall.Close(fd)
	}
	syscall.Close(f.mapFD)
}

func bpfCall(cmd int, attr unsafe.Pointer, size uintptr) (int, error) {
	fd, _, errno := unix.Syscall(unix.SYS_BPF, uintptr(cmd), uintptr(attr), size)
	if errno != 0 {
		return -1, errno
	}
	return int(fd), nil
}

// insn is one eBPF instruction.
type insn struct {
	code     uint8
	dst, src uint8
	off      int16
	imm      int32
}

func (i insn) encode() uint64 {
	var b [8]byte
	b[0], b[1] = i.code, i.dst|i.src<<4
	binary.LittleEndian.PutUint16(b[2:], uint16(i.off))
	binary.LittleEndian.PutUint32(b[4:], uint32(i.imm))
	return binary.LittleEndian.Uint64(b[:])
}

// The few eBPF opcodes the filter uses (linux/bpf.h, linux/bpf_common.h).
const (
	opLdAbsB  = 0x30 // r0 = skb[imm] (byte); offsets from the TCP header
	opLdAbsH  = 0x28 // r0 = ntohs(skb[imm:imm+2])
	opLdAbsW  = 0x20 // r0 = ntohl(skb[imm:imm+4])
	opLdImm64 = 0x18 // dst = imm64 (two slots); src 1: a map fd
	opMovImm  = 0xb7
	opMovReg  = 0xbf
	opAddImm  = 0x07
	opSubReg  = 0x1f
	opAndImm  = 0x57
	opStDW    = 0x7a // *(u64 *)(dst+off) = imm
	opStxDW   = 0x7b // *(u64 *)(dst+off) = src
	opStxW    = 0x63
	opStxH    = 0x6b
	opLdxDW   = 0x79 // dst = *(u64 *)(src+off)
	opLdxW    = 0x61
	opJa      = 0x05
	opJeqImm  = 0x15
	opJneImm  = 0x55
	opJneReg  = 0x5d
	opJgeReg  = 0x3d
	opCall    = 0x85
	opExit    = 0x95
)

// synFilterProgram assembles the filter: pass (return the whole segment)
// or drop (return 0). r6 holds the skb, r7 the time, r8 the map value, r9
// the SYN's sequence number.
func synFilterProgram(mapFD int, letIn time.Duration, v6 bool) []uint64 {
	addrOff, addrLen := int32(12), int32(8) // IPv4 saddr, daddr
	if v6 {
		addrOff, addrLen = 8, 32
	}
	var p []insn
	// Jumps are resolved to the labels below once the code is laid out.
	type fix struct {
		at    int
		label string
	}
	var fixes []fix
	labels := map[string]int{}
	emit := func(i ...insn) { p = append(p, i...) }
	jump := func(i insn, label string) { fixes = append(fixes, fix{len(p), label}); emit(i) }
	imm64 := func(dst uint8, src uint8, v int64) {
		emit(insn{code: opLdImm64, dst: dst, src: src, imm: int32(uint32(v))}, insn{imm: int32(uint32(uint64(v) >> 32))})
	}
	mark := func(label string) { labels[label] = len(p) }

	emit(insn{code: opMovReg, dst: 6, src: 1})
	emit(insn{code: opLdAbsB, imm: 13}) // TCP flags
	emit(insn{code: opAndImm, imm: 0x12})
	jump(insn{code: opJneImm, imm: 0x02}, "pass") // not a SYN alone
	for off := int16(-40); off < 0; off += 8 {
		emit(insn{code: opStDW, dst: 10, off: off})
	}
	emit(insn{code: opLdAbsH, imm: 0}, insn{code: opStxH, dst: 10, src: 0, off: -8}) // source port
	emit(insn{code: opLdAbsH, imm: 2}, insn{code: opStxH, dst: 10, src: 0, off: -6}) // destination port
	emit(insn{code: opLdAbsW, imm: 4}, insn{code: opMovReg, dst: 9, src: 0})         // sequence number
	emit(insn{code: opMovReg, dst: 1, src: 6}, insn{code: opMovImm, dst: 2, imm: addrOff},
		insn{code: opMovReg, dst: 3, src: 10}, insn{code: opAddImm, dst: 3, imm: -40},
		insn{code: opMovImm, dst: 4, imm: addrLen}, insn{code: opMovImm, dst: 5, imm: hdrStartNet},
		insn{code: opCall, imm: helperLoadBytesRelNet})
	jump(insn{code: opJneImm, imm: 0}, "pass")
	emit(insn{code: opCall, imm: helperKtimeGetNs}, insn{code: opMovReg, dst: 7, src: 0})
	imm64(1, 1, int64(mapFD))
	emit(insn{code: opMovReg, dst: 2, src: 10}, insn{code: opAddImm, dst: 2, imm: -40},
		insn{code: opCall, imm: helperMapLookup})
	jump(insn{code: opJeqImm, imm: 0}, "new")
	emit(insn{code: opMovReg, dst: 8, src: 0})
	emit(insn{code: opLdxW, dst: 1, src: 8, off: 8})
	jump(insn{code: opJneReg, dst: 1, src: 9}, "restart") // another connect on this 4-tuple
	emit(insn{code: opLdxDW, dst: 1, src: 8, off: 0})
	emit(insn{code: opMovReg, dst: 2, src: 7}, insn{code: opSubReg, dst: 2, src: 1})
	imm64(3, 0, int64(letIn))
	jump(insn{code: opJgeReg, dst: 2, src: 3}, "pass")
	jump(insn{code: opJa}, "drop")
	mark("restart")
	emit(insn{code: opStxDW, dst: 8, src: 7, off: 0}, insn{code: opStxW, dst: 8, src: 9, off: 8})
	jump(insn{code: opJa}, "drop")
	mark("new")
	emit(insn{code: opStxDW, dst: 10, src: 7, off: -56}, insn{code: opStDW, dst: 10, off: -48},
		insn{code: opStxW, dst: 10, src: 9, off: -48})
	imm64(1, 1, int64(mapFD))
	emit(insn{code: opMovReg, dst: 2, src: 10}, insn{code: opAddImm, dst: 2, imm: -40},
		insn{code: opMovReg, dst: 3, src: 10}, insn{code: opAddImm, dst: 3, imm: -56},
		insn{code: opMovImm, dst: 4, imm: 0}, insn{code: opCall, imm: helperMapUpdate})
	mark("drop")
	emit(insn{code: opMovImm, dst: 0, imm: 0}, insn{code: opExit})
	mark("pass")
	emit(insn{code: opMovImm, dst: 0, imm: -1}, insn{code: opExit})

	for _, f := range fixes {
		to, ok := labels[f.label]
		if !ok {
			panic(errors.New("simnet: SYN filter: no label " + f.label))
		}
		p[f.at].off = int16(to - f.at - 1)
	}
	out := make([]uint64, len(p))
	for i, in := range p {
		out[i] = in.encode()
	}
	return out
}
