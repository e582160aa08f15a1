#!/usr/bin/env python3
# netmon.py OUT.csv: samples loopback-loss counters every 50 ms until killed: softnet drops per CPU,
# time_squeeze, TCP counters of /proc/net/snmp and netstat, and steal time (/proc/stat).
import sys, time
KEYS = [("Tcp","RetransSegs"),("Tcp","OutSegs"),("Tcp","InSegs"),("TcpExt","TCPTimeouts"),("TcpExt","TCPLossProbes"),
        ("TcpExt","TCPBacklogDrop"),("TcpExt","TCPRcvQDrop"),("TcpExt","TCPLostRetransmit"),("TcpExt","TCPSpuriousRTOs"),
        ("TcpExt","TCPSynRetrans"),("TcpExt","TCPFastRetrans"),("TcpExt","TCPSlowStartRetrans"),("TcpExt","TCPDSACKRecv"),
        ("TcpExt","TCPOFOQueue"),("TcpExt","TCPLossProbeRecovery"),("TcpExt","TCPDSACKOldSent"),("TcpExt","TCPOFODrop"),("TcpExt","TCPKeepAlive"),("TcpExt","TCPAbortOnTimeout")]
def snmp():
    out = {}
    for f in ("/proc/net/snmp","/proc/net/netstat"):
        lines = open(f).read().split("\n")
        for i in range(0,len(lines)-1,2):
            h, v = lines[i].split(), lines[i+1].split()
            if not h: continue
            p = h[0].rstrip(":")
            for k, x in zip(h[1:], v[1:]): out[(p,k)] = x
    return out
def softnet():
    return [int(l.split()[1],16) for l in open("/proc/net/softnet_stat")]
out = open(sys.argv[1],"w")
ncpu = len(softnet())
out.write("t_ns," + ",".join("drop%d"%i for i in range(ncpu)) + ",squeeze," + ",".join(k for _,k in KEYS) + ",steal\n")
while True:
    t = time.time_ns()
    sn = open("/proc/net/softnet_stat").read().split("\n")
    d = [int(l.split()[1],16) for l in sn if l]
    sq = sum(int(l.split()[2],16) for l in sn if l)
    s = snmp()
    steal = open("/proc/stat").readline().split()[8]
    out.write("%d,%s,%d,%s,%s\n" % (t, ",".join(map(str,d)), sq, ",".join(s.get(k,"0") for k in KEYS), steal))
    out.flush()
    time.sleep(0.05)
