#!/usr/bin/env bash
# mutants.sh — break one behaviour at a time in a copy of the repository and
# run the test named for that behaviour; print a table: mutation, test,
# caught (the test failed), the failure line.
#
#   scripts/mutants.sh                 # every mutation (≈10 min on 2 cores)
#   scripts/mutants.sh flush-every-hour lat-lng-swapped   # some of them
#   BASELINE=0 scripts/mutants.sh      # skip running each test unmutated first
#
# Each mutation is applied to a fresh copy of the working tree's tracked
# files in a temporary directory (the repository itself is never touched).
# A mutation whose code is not found exactly where it expects is reported
# as "not applied", not as caught: update it when the code moves. Before the
# mutations, each test is run once unmutated (it must pass, else its
# verdict means nothing). The end-to-end tests time real timeouts: run this
# alone on the machine (e.g. under flock, as make test-e2e).
set -euo pipefail

root=$(git -C "$(dirname "$0")" rev-parse --show-toplevel)
work=$(mktemp -d "${TMPDIR:-/tmp}/nodesweep-mutants.XXXXXX")
trap 'rm -rf "$work"' EXIT

exec python3 - "$root" "$work" "${BASELINE:-1}" "$@" <<'PY'
import os, re, subprocess, sys, shutil

root, work, baseline, only = sys.argv[1], sys.argv[2], sys.argv[3] == "1", sys.argv[4:]

# name, [(file, old, new), ...], package, test regex
MUTATIONS = [
    ("flush-every-hour",
     [("internal/crawl/crawl.go", "DefaultFlushEvery = time.Second", "DefaultFlushEvery = time.Hour")],
     "./internal/e2e", "TestKillNineAndResume"),
    ("bitnodes-user-agent-null",
     [("internal/export/export.go", "row[1] = m.UserAgent", "row[1] = nil")],
     "./internal/e2e", "TestExportsMatchTruth"),
    ("jsonl-csv-nonce-column-removed",
     [("internal/export/export.go",
       '\t{"nonce", ver(func(m *codec.Version) any { return optional(m.HasNonce, strconv.FormatUint(m.Nonce, 16)) })},\n', "")],
     "./internal/export", "TestColumnNames|TestJSONLRoundTrip|TestCSVRoundTrip"),
    ("frontier-no-retry-of-peer-failures",
     [("internal/frontier/frontier.go", "(local || int(e.retried) < f.maxRetries)", "(local)")],
     "./internal/e2e", "TestRetriesVisible"),
    ("codec-checksum-single-sha256",
     [("codec/frame.go", "\th = sha256.Sum256(h[:])\n\treturn [4]byte(h[:4])", "\treturn [4]byte(h[:4])")],
     "./internal/e2e", "TestHealthy"),
    ("lat-lng-swapped",
     [("internal/export/export.go", "row[8] = *g.Latitude", "row[8] = *g.Longitude"),
      ("internal/export/export.go", "row[9] = *g.Longitude", "row[9] = *g.Latitude")],
     "./internal/e2e", "TestExportsMatchTruth"),
    # Our own.
    ("old-versions-lose-user-agent",
     [("codec/version.go", 'v.UserAgent = r.varString("user_agent", MaxUserAgent)',
       'if ua := r.varString("user_agent", MaxUserAgent); v.Protocol >= 70001 {\n\t\t\tv.UserAgent = ua\n\t\t}')],
     "./internal/e2e", "TestHealthy"),
    ("reset-classified-as-refused",
     [("internal/record/classify.go",
       "case syscall.ECONNRESET, syscall.EPIPE, syscall.ECONNABORTED:\n\t\treturn ClassReset",
       "case syscall.ECONNRESET, syscall.EPIPE, syscall.ECONNABORTED:\n\t\treturn ClassRefused")],
     "./internal/e2e", "TestHostileCrowd"),
    ("never-send-sendaddrv2",
     [("internal/session/session.go", "if v.Protocol >= codec.ProtocolSendAddrV2 && s.cfg.Protocol",
       "if v.Protocol < 0 && s.cfg.Protocol")],
     "./internal/e2e", "TestHealthy"),
    ("version-asks-for-relay",
     [("internal/session/session.go", "Relay: s.cfg.Relay,", "Relay: true,")],
     "./internal/e2e", "TestHealthy"),
    ("getaddr-before-own-verack",
     [("internal/session/session.go", "\tout = s.send(out, codec.CmdVerack, nil)\n\tif !s.cfg.NoGetAddr {",
       "\tout = s.send(out, codec.CmdGetAddr, nil)\n\tout = s.send(out, codec.CmdVerack, nil)\n\tif !s.cfg.NoGetAddr {")],
     "./internal/e2e", "TestHealthy"),
    ("reactor-ipv6-on-ipv4-sockets",
     [("eventloop/loop.go", "Addr: ap.Addr().As16()}, unix.AF_INET6", "Addr: ap.Addr().As16()}, unix.AF_INET")],
     "./internal/e2e", "TestIPv6CJDNS"),
    ("policy-dials-any-ipv6",
     [("internal/frontier/policy.go", "\t\tif pr.Contains(ip) {", "\t\tif pr.Contains(ip) || ip.Is6() {")],
     "./internal/e2e", "TestIPv6CJDNS"),
]

if only:
    unknown = set(only) - {m[0] for m in MUTATIONS}
    if unknown:
        sys.exit("unknown mutation(s): %s (have: %s)" % (", ".join(sorted(unknown)), ", ".join(m[0] for m in MUTATIONS)))
    MUTATIONS = [m for m in MUTATIONS if m[0] in only]

files = subprocess.run(["git", "-C", root, "ls-files", "-z"], check=True, capture_output=True).stdout.split(b"\0")
files = [f.decode() for f in files if f]

# One snapshot of the working tree at the start: edits made while the
# script runs do not leak into later mutations.
base = os.path.join(work, "base")
for f in files:
    src = os.path.join(root, f)
    if os.path.isfile(src):  # not deleted in the working tree
        os.makedirs(os.path.dirname(os.path.join(base, f)), exist_ok=True)
        shutil.copy2(src, os.path.join(base, f))

def copy(dst):
    shutil.rmtree(dst, ignore_errors=True)
    shutil.copytree(base, dst, symlinks=True)

FAILURE_WORDS = re.compile(r"\b(got|want|wanted|missing|mismatch|lacks|violation|violations|gone|shrank|nothing|never|only|not|recorded as|differs|panic|exit \d|mismatches\s+\w+=\d+|missed)\b")
FAIL_LINE = re.compile(r"^\s+\S+\.go:\d+: |^panic: |^\S+\.go:\d+:\d+: |^--- FAIL")

def run(tree, pkg, test):
    p = subprocess.run(["go", "test", "-count=1", "-timeout", "6m", "-run", "^(%s)$" % test, pkg],
                       cwd=tree, capture_output=True, text=True)
    out = p.stdout + p.stderr
    # Test output lines (t.Log and t.Error look alike), with the indented
    # lines that continue a message of several lines.
    lines, found = out.splitlines(), []
    for i, l in enumerate(lines):
        if FAIL_LINE.search(l) and not l.startswith("--- FAIL"):
            indent = len(l) - len(l.lstrip())
            cont = []
            for more in lines[i + 1:i + 12]:
                if len(more) - len(more.lstrip()) <= indent or not more.strip():
                    break
                cont.append(more.strip())
            telling = [c for c in cont if FAILURE_WORDS.search(c) and not re.search(r"mismatches\s*$", c)]
            found.append(" / ".join([l.strip()] + (telling or cont[:2])))
    # The failure is the first line that reads like one; else the first.
    failing = [l for l in found if FAILURE_WORDS.search(l)]
    line = (failing or found or [""])[0]
    if not line:
        line = next((l.strip() for l in out.splitlines() if "--- FAIL" in l or "FAIL" in l), "")
    return p.returncode, line, out

tree = os.path.join(work, "tree")
if baseline:
    copy(tree)
    for pkg, test in sorted({(m[2], m[3]) for m in MUTATIONS}):
        rc, line, out = run(tree, pkg, test)
        print("baseline %s %s: %s" % (pkg, test, "pass" if rc == 0 else "FAIL " + line), file=sys.stderr, flush=True)
        if rc != 0:
            sys.stderr.write(out[-3000:])
            sys.exit("the unmutated tree fails %s %s: fix that first" % (pkg, test))

rows = []
for name, edits, pkg, test in MUTATIONS:
    copy(tree)
    applied = True
    for f, old, new in edits:
        path = os.path.join(tree, f)
        text = open(path).read()
        if text.count(old) != 1:
            applied = False
            break
        open(path, "w").write(text.replace(old, new))
    if not applied:
        rows.append((name, test, "not applied", "code not found in %s: update the mutation" % f))
    else:
        rc, line, _ = run(tree, pkg, test)
        rows.append((name, test, "yes" if rc != 0 else "NO", line if rc != 0 else ""))
    print("%s: %s" % (name, rows[-1][2]), file=sys.stderr, flush=True)

def cell(s):
    s = s.replace("|", "\\|")
    return s if len(s) <= 220 else s[:217] + "..."

print("| mutation | test | caught | failure line |")
print("|---|---|---|---|")
for r in rows:
    print("| %s |" % " | ".join(cell(c) for c in r))
sys.exit(0 if all(r[2] == "yes" for r in rows) else 1)
PY
