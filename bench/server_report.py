#!/usr/bin/env python3
"""Helper of bench/server_load.sh. Stdlib only.

  server_report.py run OUT.json SECONDS PID -- CLIENT ARGS...
        run the load generator (bench_load, or wrk with bench/load/sign.lua; bounded by
        SECONDS + 30 s), and measure around it: CPU time (utime + stime, /proc/PID/stat) of the
        server PID and every process under it (workers, signers) and of the client itself
        (wait4 rusage), VmRSS and PSS of each half a second before the end; the client's RESULT
        line goes into OUT.json with them
  server_report.py client URL TOKEN POOLDIR N
        issue N leaves over one keep-alive HTTP connection (the CSR pool in turn, POST
        /v1/connect/ca/sign); exits non-zero if any answer is not 200
  server_report.py callgrind RESULTS N
        instructions per issuance: RESULTS/cg0/ (N=0) and RESULTS/cgN/ (N leaves), one
        callgrind.out.PID per process (front end, signer); writes RESULTS/callgrind.json
  server_report.py section RESULTS OUT.md    the docs/benchmarks.md section, from RESULTS/
  server_report.py record DOC SECTION.md     put SECTION.md into DOC: replace the part that
                                             starts with this script's marker (up to the next
                                             "<!-- bench/" marker or the end), else append it
"""
import glob
import http.client
import json
import os
import re
import subprocess
import sys
import time
import urllib.parse

MARK = "<!-- bench/server_load.sh section -->"
TICK = os.sysconf("SC_CLK_TCK")


# ---- run: one load configuration ----------------------------------------------------------

def cpu_ticks(pid):
    """utime + stime of a process (all its threads), in clock ticks; None once it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])  # fields 14 and 15 of proc(5)
    except (OSError, IndexError):
        return None


def status_kb(pid, key):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def machine_busy():
    """CPU ticks the whole machine spent busy (all but idle and iowait), and in steal."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    return sum(v) - v[3] - v[4], v[7] if len(v) > 7 else 0


def children(pid):
    out = []
    try:
        for t in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{t}/children") as f:
                out += [int(x) for x in f.read().split()]
    except OSError:
        pass
    return out


def tree(root):
    """The server's processes with their roles. pkictl: the signers are the leaves of the tree
    (they fork nothing); with worker processes the root is the supervisor and the workers are
    its children; without, the root is the front end. cfssl: one process."""
    procs, todo = [], [(root, 0)]
    while todo:
        pid, depth = todo.pop(0)
        kids = children(pid)
        procs.append({"pid": pid, "depth": depth, "leaf": not kids})
        todo += [(k, depth + 1) for k in kids]
    deep = max(p["depth"] for p in procs)
    for p in procs:
        if len(procs) == 1:
            p["role"] = "server"
        elif p["leaf"]:
            p["role"] = "signer"
        elif p["depth"] == 0:
            p["role"] = "supervisor" if deep >= 2 else "front end"
        else:
            p["role"] = "worker"
    return procs


def smaps_kb(pid, key):
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def run(out, seconds, root, client):
    procs = tree(int(root)) if root else []
    for p in procs:
        p["cpu0"] = cpu_ticks(p["pid"])
    m0 = machine_busy()
    t0 = time.monotonic()
    proc = subprocess.Popen(client, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    time.sleep(max(0.0, seconds - 0.5))
    for p in procs:
        p["rss_kb"], p["pss_kb"] = status_kb(p["pid"], "VmRSS"), smaps_kb(p["pid"], "Pss")
    deadline = seconds + 30
    while True:
        wpid, wstatus, ru = os.wait4(proc.pid, os.WNOHANG)
        if wpid:
            break
        if time.monotonic() - t0 > deadline:
            proc.kill()
            sys.exit(f"server_report.py run: {client[0]} still running after {deadline} s, killed")
        time.sleep(0.05)
    wall = time.monotonic() - t0
    for p in procs:
        c1 = cpu_ticks(p["pid"])
        p["cpu_s"] = 0.0 if c1 is None or p["cpu0"] is None else (c1 - p["cpu0"]) / TICK
        p["hwm_kb"] = status_kb(p["pid"], "VmHWM")
    m1 = machine_busy()
    text = proc.stdout.read()
    m = re.search(r"^RESULT (\{.*\})$", text, re.M)
    if os.waitstatus_to_exitcode(wstatus) != 0 or m is None:
        sys.exit(f"server_report.py run: {client[0]} failed:\n{text}")
    r = json.loads(m.group(1))
    sig = [p for p in procs if p["role"] == "signer"]
    fe = [p for p in procs if p["role"] != "signer"]
    r.update({
        "wall_s": wall, "ncpu": len(os.sched_getaffinity(0)), "procs": procs,
        "workers": len(sig), "client_cpu_s": ru.ru_utime + ru.ru_stime,
        "cpu_front_s": sum(p["cpu_s"] for p in fe), "cpu_signer_s": sum(p["cpu_s"] for p in sig),
        "rss_kb": sum(p["rss_kb"] or 0 for p in procs),
        "pss_kb": sum(p["pss_kb"] or 0 for p in procs),
        # CPU the rest of the machine used meanwhile (other work: noise), and steal
        "machine_busy_s": (m1[0] - m0[0]) / TICK, "steal_s": (m1[1] - m0[1]) / TICK,
        "client": " ".join(client), "client_text": text,
    })
    r["leaves_s"] = r["ok"] / (r["duration_us"] / 1e6)
    r["cpu_server_s"] = r["cpu_front_s"] + r["cpu_signer_s"]
    r["other_cpu_s"] = max(0.0, r["machine_busy_s"] - r["client_cpu_s"] - r["cpu_server_s"])
    with open(out, "w") as f:
        json.dump(r, f, indent=1)
    valid = r["bad"] == 0 and not any(r["errors"].values())
    print(f"  {r['leaves_s']:7.0f} leaves/s  p50 {r['p50_us'] / 1e3:6.2f} ms  "
          f"p99 {r['p99_us'] / 1e3:6.2f} ms  PSS {r['pss_kb']} KiB in {len(procs)} processes  "
          f"CPU s {r['cpu_front_s']:.1f}+{r['cpu_signer_s']:.1f} client {r['client_cpu_s']:.1f} "
          f"other {r['other_cpu_s']:.1f}"
          + ("" if valid else f"  INVALID: bad {r['bad']} errors {r['errors']} ({r['first_bad']})"))


# ---- client: N issuances over one keep-alive connection -----------------------------------

def client(url, token, pool, n):
    u = urllib.parse.urlsplit(url)
    bodies = [open(p, "rb").read() for p in sorted(glob.glob(pool + "/pkictl/*.json"))]
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=120)
    bad = 0
    for i in range(n):
        conn.request("POST", "/v1/connect/ca/sign", body=bodies[i % len(bodies)],
                     headers={"X-Consul-Token": token, "Content-Type": "application/json"})
        resp = conn.getresponse()
        body = resp.read()
        if resp.status != 200 or b'"CertPEM"' not in body:
            bad += 1
            if bad == 1:
                print(f"client: {resp.status} {body[:200]!r}", file=sys.stderr)
    conn.close()
    print(f"client: {n - bad}/{n} leaves")
    sys.exit(1 if bad else 0)


# ---- callgrind: instructions per issuance -------------------------------------------------

def inclusive(path):
    """Total and inclusive cost per function name (callgrind_annotate --inclusive=yes)."""
    txt = subprocess.run(["callgrind_annotate", "--inclusive=yes", "--threshold=100", path],
                         capture_output=True, text=True, check=True).stdout
    total = int(re.search(r"^([\d,]+)\s+(?:\(100\.0%\)\s+)?PROGRAM TOTALS", txt, re.M)
                .group(1).replace(",", ""))
    fns = {}
    rx = re.compile(r"^\s*([\d,]+)\s+(?:\(\s*[\d.]+%\)\s+)?(?:\S*:)?(\S+?)(?: \[.*\])?$")
    started = False
    for line in txt.splitlines():
        if "file:function" in line:
            started = True
            continue
        m = rx.match(line) if started else None
        if m and not m.group(2).startswith("0x"):
            name = m.group(2)
            fns[name] = max(fns.get(name, 0), int(m.group(1).replace(",", "")))
    return total, fns


def cg_dir(d):
    """One profile per process (supervisor, worker or front end; signer): summed by side, the
    front-end side (every process that is not a signer) and the signers."""
    sides = [[0, {}], [0, {}]]
    paths = glob.glob(d + "/callgrind.out.*")
    for path in paths:
        total, fns = inclusive(path)
        side = sides[1 if "srv__signer_child" in fns else 0]
        side[0] += total
        for k, v in fns.items():
            side[1][k] = side[1].get(k, 0) + v
    if not sides[0][0] or not sides[1][0]:
        sys.exit(f"server_report.py callgrind: no front-end or no signer profile among the "
                 f"{len(paths)} in {d}")
    return [tuple(x) for x in sides], len(paths)


# What the per-issuance functions are (name -> what it is), in the order of the table.
FRONT = [
    ("srv_api_sign", "the sign handler, all of it (the lines below are parts of it)"),
    ("srv_body_sign_parse", "the request body `{\"CSR\": ...}` parsed (its usual shape "
     "without jansson)"),
    ("pki_csr_fast_read", "the CSR, fast path: PEM, DER walk, key from the SPKI, signature check"),
    ("EVP_PKEY_copy_parameters", "of which the public key built from the SPKI (curve "
     "parameters copied)"),
    ("pki_csr_read", "the CSR: PEM, DER parse, signature check"),
    ("d2i_X509_REQ", "of which the DER parse"),
    ("OSSL_DECODER_CTX_new_for_pkey", "of which, in the parse, OpenSSL 3.0's decoder set-up for "
     "the CSR's public key"),
    ("X509_REQ_verify", "of which the signature check"),
    ("ECDSA_do_verify", "of which the ECDSA verification itself"),
    ("pki_csr_sans", "the CSR's SANs read"),
    ("i2d_PUBKEY", "the CSR's key re-encoded (SPKI DER) for the signer: OpenSSL 3.0's encoder "
     "set-up"),
    ("issue", "`issue()`: the leaf request built and sent to the signer (pipelined)"),
    ("srv_leaf_complete", "the signer's replies read and answered: PEM, JSON, metrics, audit, "
     "write"),
    ("pki_pem_encode", "the leaf DER to PEM"),
    ("leaf_json", "the JSON answer (two passes: count, then fill one buffer)"),
    ("srv_audit_issue", "the audit line (SHA-256 chain, one write)"),
    ("store_token_find", "the token lookup (SQLite)"),
    ("sqlite3_step", "SQLite statements, all"),
    ("srv_http_parse", "the HTTP request parse"),
]
SIGNER = [
    ("op_issue", "the ISSUE_LEAF operation, all of it"),
    ("pki_leaf_issue", "build + sign the leaf"),
    ("ECDSA_do_sign_ex", "of which the ECDSA signature itself"),
    ("RAND_bytes", "random bytes (serial)"),
]


def callgrind(res, n):
    zero, _ = cg_dir(res + "/cg0")
    full, nprof = cg_dir(res + "/cgN")
    out = {"n": n, "profiles": nprof, "procs": []}
    for role, (t0, f0), (t1, f1), names in zip(("front end", "signer"), zero, full,
                                               (FRONT, SIGNER)):
        rows = []
        for name, what in names:
            if name in f1:
                per = (f1[name] - f0.get(name, 0)) / n
                if per > 0:
                    rows.append({"fn": name, "what": what, "per_leaf": per})
        top = sorted(((f1[k] - f0.get(k, 0)) / n, k) for k in f1)[::-1][:40]
        out["procs"].append({"role": role, "total0": t0, "totalN": t1,
                             "per_leaf": (t1 - t0) / n, "rows": rows,
                             "top": [{"fn": k, "per_leaf": v} for v, k in top]})
    out["per_leaf"] = sum(p["per_leaf"] for p in out["procs"])
    with open(res + "/callgrind.json", "w") as f:
        json.dump(out, f, indent=1)
    print(f"instructions per issuance: {out['per_leaf']:,.0f} ("
          + ", ".join(f"{p['role']} {p['per_leaf']:,.0f}" for p in out["procs"]) + ")")
    for p in out["procs"]:
        print(f"  {p['role']}:")
        for r in p["rows"]:
            print(f"    {r['fn']:32s} {r['per_leaf']:12,.0f}  {100 * r['per_leaf'] / p['per_leaf']:5.1f}%")


# ---- section ------------------------------------------------------------------------------

ROWS = [  # (run name, server, transport as the table says it)
    ("pkictl-http", "pkictl", "HTTP"),
    ("cfssl-http", "cfssl", "HTTP"),
    ("pkictl-https", "pkictl", "HTTPS"),
    ("pkictl-http-pinned", "pkictl", "HTTP, `--pin-cpus`"),
    ("pkictl-https-pinned", "pkictl", "HTTPS, `--pin-cpus`"),
    ("pkictl-http-wrk", "pkictl", "HTTP, load by wrk (cross-check)"),
    ("pkictl-https-wrk", "pkictl", "HTTPS, load by wrk (cross-check)"),
    ("cfssl-http-wrk", "cfssl", "HTTP, load by wrk (cross-check)"),
    ("pkictl-https-nodelay", "pkictl", "HTTPS, `TCP_NODELAY` forced (diagnostic)"),
]


def med(rs, key):
    v = sorted(r[key] for r in rs)
    return v[len(v) // 2] if len(v) % 2 else (v[len(v) // 2 - 1] + v[len(v) // 2]) / 2


def median_run(rs):
    return sorted(rs, key=lambda x: x["leaves_s"])[len(rs) // 2]


def speed_of(path):
    """(sign/s, verify/s) from the output of `openssl speed ecdsap256`, or None."""
    try:
        text = open(path).read()
    except OSError:
        return None
    m = re.search(r"256 bits ecdsa \(nistp256\)\s+\S+\s+\S+\s+([\d.]+)\s+([\d.]+)", text)
    return (float(m.group(1)), float(m.group(2))) if m else None


def load_runs(res, ncpu, limit, mscale):
    """Every run, with "limit": the limit on ncpu cores from the openssl speed measured right
    before it (speed-NAME.txt; the run-wide limit if there is none), "ratio" (leaves/s over it)
    and "mratio" (over it scaled by mscale, the all-cores-busy figure over the one-core one)."""
    runs = {}
    for p in sorted(glob.glob(res + "/run-*.json")):
        m = re.match(r"run-(.+)-c(\d+)-r(\d+)\.json$", os.path.basename(p))
        r = json.load(open(p))
        sp = speed_of(p.replace("/run-", "/speed-").replace(".json", ".txt"))
        r["limit"] = ncpu / (1 / sp[0] + 1 / sp[1]) if sp else limit
        r["ratio"] = r["leaves_s"] / r["limit"]
        r["mratio"] = r["leaves_s"] / (r["limit"] * mscale)
        runs.setdefault((m.group(1), int(m.group(2))), []).append(r)
    return runs


def cpu_ratio(r):
    """The cryptography's CPU per leaf (one verification + one signature on one core, from the
    run's limit) over the server's: the ratio with the load generator's CPU set aside."""
    return (r["ncpu"] / r["limit"]) / (r["cpu_server_s"] / r["ok"]) if r["ok"] else float("nan")


def load_table(w, meta, runs):
    w("| server | transport | conns | leaves/s | p50 ms | p99 ms | / limit | / limit, all cores "
      "busy | / cfssl (same conns, its better figure of the two clients) "
      "| server CPU µs per leaf | the limit's µs / the server's | server CPU: front end(s) + "
      "signer(s) | client CPU | other CPU | memory: PSS, KiB (processes) |")
    w("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name, srv, tr in ROWS:
        for c in meta["conns"]:
            rs = runs.get((name, c))
            if not rs:
                continue
            ls = med(rs, "leaves_s")
            # against cfssl's better figure of the two load generators: the ratio never
            # flatters pkictl
            cf = [med(runs[(k, c)], "leaves_s") for k in ("cfssl-http", "cfssl-http-wrk")
                  if (k, c) in runs]
            vs = "" if srv == "cfssl" or not cf else f"{ls / max(cf):.2f}x"
            r = sorted(rs, key=lambda x: x["leaves_s"])[len(rs) // 2]
            span = r["wall_s"] * r["ncpu"]
            pct = lambda x: f"{100 * x / span:.0f}%"
            per = 1e6 * r["cpu_server_s"] / r["ok"] if r["ok"] else float("nan")
            cpu = pct(r["cpu_front_s"]) + ("" if srv == "cfssl" else " + " + pct(r["cpu_signer_s"]))
            spread = ("" if len(rs) == 1 else " (" + ", ".join(
                f"{x['leaves_s']:,.0f}" for x in sorted(rs, key=lambda x: x["leaves_s"])) + ")")
            w(f"| {srv} | {tr} | {c} | **{ls:,.0f}**{spread} | {med(rs, 'p50_us') / 1e3:.2f} | "
              f"{med(rs, 'p99_us') / 1e3:.2f} | {100 * med(rs, 'ratio'):.0f}% | "
              f"{100 * med(rs, 'mratio'):.0f}% | {vs} | {per:,.0f} | {100 * cpu_ratio(r):.0f}% | "
              f"{cpu} | {pct(r['client_cpu_s'])} | {pct(r['other_cpu_s'])} | "
              f"{r['pss_kb']:,} ({len(r['procs'])}) |")


def memory_line(runs, meta):
    """VmRSS of each process of the pkictl HTTP run with the most connections (median round)."""
    for name in ("pkictl-http", "pkictl-https", "cfssl-http"):
        c = max(meta["conns"])
        rs = runs.get((name, c))
        if not rs:
            continue
        r = sorted(rs, key=lambda x: x["leaves_s"])[len(rs) // 2]
        by = {}
        for p in r["procs"]:
            by.setdefault(p["role"], []).append(f"{p['rss_kb']:,}")
        return (f"Memory: PSS (`/proc/PID/smaps_rollup`, shared pages split between the "
                f"processes that share them) summed over every process of the server, half a "
                f"second before the end of the run. `VmRSS` of each ({name}, c={c}): "
                + "; ".join(f"{role} {', '.join(v)} KiB" for role, v in by.items()) + ".")
    return ""


def section(res, out):
    L = lambda f: json.load(open(f"{res}/{f}"))
    meta, sp = L("meta.json"), L("speed.json")
    per_core = 1 / (1 / sp["sign_s"] + 1 / sp["verify_s"])
    limit = meta["ncpu"] * per_core
    # -multi N: N processes at once; its figures are the totals over all of them
    mlimit = 1 / (1 / sp["multi_sign_s"] + 1 / sp["multi_verify_s"])
    runs = load_runs(res, meta["ncpu"], limit, mlimit / limit)
    lims = sorted(r["limit"] for rs in runs.values() for r in rs)
    rounds = max((len(v) for v in runs.values()), default=0)
    invalid = [(k, r) for k, rs in runs.items() for r in rs
               if r["bad"] or any(r["errors"].values())]
    cg = L("callgrind.json") if os.path.exists(res + "/callgrind.json") else None
    get = lambda k, c: med(runs[(k, c)], "leaves_s") if (k, c) in runs else None
    W = []
    w = W.append
    w(MARK)
    w("## Online CA: leaves per second")
    w("")
    w(f"Command: `{meta['command']}` ({meta['date']}, took {meta['elapsed_min']} min). "
      f"pkictl: `{meta['pkictl_version']}`, release build, tree at {meta['git']}. "
      f"Machine: {meta['ncpu']} CPUs (`nproc`), {meta['cpu']}; {meta['openssl']}; {meta['wrk']}; "
      f"cfssl {meta['cfssl']} (Debian's golang-cfssl); {meta['valgrind']}. Data dirs on tmpfs "
      f"(`/dev/shm`). Load average before / after: {meta['load_start']} / {meta['load_end']}.")
    w("")
    w(f"The job: `POST` a P-256 CSR, get a signed leaf back, over keep-alive connections on "
      f"loopback; {meta['seconds']} s per configuration after a {meta['warmup']} s warm-up "
      f"(same configuration), {rounds} round{'s' if rounds > 1 else ''} of all configurations "
      f"one after another{' (the table gives the median round; all rounds in brackets)' if rounds > 1 else ''}. "
      f"pkictl: `pkictl server` with `CSRMaxPerSecond` 0 (no rate limit), "
      f"`POST /v1/connect/ca/sign` with `{{\"CSR\": PEM}}` and the operator token. cfssl: "
      f"`cfssl serve` with a P-256 CA (`cfssl gencert -initca`) and a 72h profile with the same "
      f"key usages and EKUs (`bench/load/cfssl-*.json`), `POST /api/v1/cfssl/sign` with "
      f"`{{\"certificate_request\": PEM}}`; cfssl serves plain HTTP only, so it is compared "
      f"with pkictl `--insecure-http`, and pkictl over HTTPS is given on its own. The "
      f"`--pin-cpus` rows run the same server with each worker and its signer kept on one CPU "
      f"(an option, off by default: docs/cli.md). The same pool "
      f"of {meta['pool']} CSRs (`bench/load/gen_csrs.sh`: a new P-256 key each, CN=web, URI SAN "
      f"`spiffe://<trust domain>/ns/default/dc/dc1/svc/web`) is sent in turn by the load "
      f"generator, one request in flight per connection ({meta['threads']} threads); an answer counts only with status "
      f"200 and a certificate in it (pkictl: `\"CertPEM\"`, cfssl: `\"success\":true`). Both "
      f"servers check the CSR's signature: each refuses one with a flipped signature bit "
      f"(checked before the runs).")
    w("")
    w(f"**The load generator runs on the same {meta['ncpu']} cores as the server**, as an "
      f"ordinary process, so neither server has both cores to itself; its CPU is in the table "
      f"(column \"client CPU\"). It is `bench_load` (`bench/load/loadgen.c`, built with the "
      f"project): it writes each request as soon as the answer to the previous one is read, "
      f"keeps one epoll interest per connection and reads a TLS record in one call, and checks "
      f"each answer as below. The rows \"load by wrk\" run the same requests with the same "
      f"checks from wrk and `bench/load/sign.lua`, a tool we did not write, as a cross-check; "
      f"wrk takes more CPU per request (it waits for write readiness before each request, "
      f"reads until `EAGAIN` and runs a Lua callback per answer), which the server then does "
      f"not have. The \"/ cfssl\" column takes cfssl's better figure of the two clients.")
    w("")
    per_run = lims and lims[0] != lims[-1]
    w(f"**Limit**: `openssl speed -seconds 3 ecdsap256` at the start: {sp['sign_s']:,.0f} "
      f"sign/s and {sp['verify_s']:,.0f} verify/s on one core. One leaf is one CSR verification "
      f"plus one signature: **{per_core:,.0f} leaves/s per core** ({1e6 / per_core:.0f} µs), "
      f"**{limit:,.0f} on {meta['ncpu']} cores**. "
      + (f"The machine's speed drifts during the benchmark, so `openssl speed -seconds 1 "
         f"ecdsap256` is run again right before each measured run, and each run's ratio "
         f"(column \"/ limit\", the median of the rounds' ratios) is to the limit measured "
         f"next to it: over the {len(lims)} runs that limit went from {lims[0]:,.0f} to "
         f"{lims[-1]:,.0f} leaves/s on {meta['ncpu']} cores (median "
         f"{lims[len(lims) // 2]:,.0f}). " if per_run else
         "This is the limit the ratios are given against (column \"/ limit\"). ")
      + f"With every core busy at once (`openssl speed -multi "
      f"{sp['multi_n']}`, at the start) OpenSSL itself does {sp['multi_sign_s']:,.0f} sign/s and "
      f"{sp['multi_verify_s']:,.0f} verify/s in all, i.e. {mlimit:,.0f} leaves/s "
      f"({100 * mlimit / limit:.0f}% of the one-core figure times {meta['ncpu']}: cores that "
      f"share a machine slow each other down); the column \"/ limit, all cores busy\" gives "
      f"the ratio to each run's limit scaled by that.")
    w("")
    load_table(w, meta, runs)
    w("")
    w(f"Columns: leaves/s counts good answers only; p50/p99 from the client's latency "
      f"histogram (bench_load: buckets of 1/32 of an octave, the lower bound is given). "
      f"Server CPU µs per leaf: utime + stime of every process of the server (pkictl: "
      f"supervisor, workers and their signers; cfssl: its one process) over the run, divided "
      f"by the leaves (the limit is {1e6 / per_core:.0f} µs); \"the limit's µs / the "
      f"server's\" divides the run's limit in µs per leaf by it: how close the server itself "
      f"comes to the cryptography, with the load generator's CPU (which the ratios to the limit "
      f"pay for, as it shares the cores) set aside. CPU shares: of {meta['ncpu']} "
      f"cores × the run's length (`/proc/PID/stat`; the client: its rusage); \"other CPU\" is what "
      f"the rest of the machine used meanwhile (`/proc/stat` busy time minus ours): other "
      f"people's work, i.e. noise. " + memory_line(runs, meta))
    w("")
    if invalid:
        w(f"{meta['audit']}.")
        w("")
        w("**Invalid runs** (failed answers or socket errors; their figures do not count):")
        w("")
        for (name, c), r in invalid:
            w(f"- {name} c={c}: {r['bad']} failed of {r['requests']}, socket errors "
              f"{r['errors']}, first failure: `{r['first_bad']}`")
    else:
        w("Every answer of every run was a 200 with a certificate; no connect, read, write or "
          f"timeout errors. {meta['audit']}.")
    w("")
    if cg:
        w("### Instructions per issuance (callgrind)")
        w("")
        w(f"`{meta['cg_command']}` under `valgrind --tool=callgrind --trace-children=yes` (every "
          f"process it forks gets its own profile: {cg['profiles']} here; the signer's are "
          f"counted as \"signer\", the others as \"front end\"): {cg['n']} leaves over one "
          f"keep-alive connection (`server_report.py client`), minus the same server started and "
          f"stopped with none, divided by {cg['n']}. User-space instructions only (no kernel, "
          f"no syscalls); they move by well under 1% between runs, so this is the figure to "
          f"compare across changes. Under valgrind OpenSSL does not see the CPU's ADX extension "
          f"and takes its slower P-256 code, so the ECDSA lines weigh a little more here than "
          f"natively.")
        w("")
        fe, sg = cg["procs"][0], cg["procs"][1]
        w(f"**{cg['per_leaf']:,.0f} instructions per leaf**: front end {fe['per_leaf']:,.0f}, "
          f"signer {sg['per_leaf']:,.0f}.")
        w("")
        for p in cg["procs"]:
            w(f"{p['role'].capitalize()}, inclusive costs per leaf (a line includes what it calls, "
              f"so lines overlap):")
            w("")
            w(f"| function | what | instructions per leaf | share of the {p['role']} |")
            w("|---|---|---:|---:|")
            for r in p["rows"]:
                w(f"| `{r['fn']}` | {r['what']} | {r['per_leaf']:,.0f} | "
                  f"{100 * r['per_leaf'] / p['per_leaf']:.0f}% |")
            w("")
    notes(w, meta, sp, per_core, limit, mlimit, runs, get, cg)
    w("Reproduce: `bench/server_load.sh` (prints the summary; `--record` also writes this "
      "section; `--seconds=N` per configuration; `PKICTL=...` skips the build; `ROUNDS=`, "
      "`CG_LEAVES=`, `CONNS=`, `WORKERS=`, `PIN_ROWS=0`, `PLAIN_ROWS=0`, `NODELAY_ROW=1` change "
      "what runs). Raw data of the last run: "
      "`bench/results/server_load/` (not committed).")
    with open(out, "w") as f:
        f.write("\n".join(W) + "\n")


def notes(w, meta, sp, per_core, limit, mlimit, runs, get, cg):
    ratio = lambda k, c: med(runs[(k, c)], "ratio") if (k, c) in runs else None
    lims = sorted(r["limit"] for rs in runs.values() for r in rs) or [limit]
    limit = lims[len(lims) // 2]  # the median run's limit: the one the runs were measured at
    fn = lambda proc, name: next((r["per_leaf"] for r in proc["rows"] if r["fn"] == name), 0)
    best = max((get("pkictl-http", c) or 0) for c in meta["conns"])
    best_ratio = max((ratio("pkictl-http", c) or 0) for c in meta["conns"])
    pk = [r for (k, _), rs in runs.items() if k.startswith("pkictl") for r in rs]
    workers = max((r["workers"] for r in pk), default=0)
    w("### What limits it")
    w("")
    if workers == 1:
        w(f"- **Design ceiling: one core.** The front end is one thread and waits for the signer "
          f"in a blocking `recvmsg` (`call()` in `src/server/signer.c`, from "
          f"`srv_signer_issue`), so at any moment at most one of the two processes works on "
          f"issuance. Even with no overhead that is {per_core:,.0f} leaves/s, "
          f"**{100 * per_core / limit:.0f}% of the {meta['ncpu']}-core limit**; more needs the "
          f"front end to take the next request while the signer signs, or more workers.")
    elif workers > 1:
        w(f"- **{workers} workers**, each with its own signer. Leaf requests are pipelined "
          f"(docs/server.md, \"Pipelined signing\"): a worker verifies the next CSRs while its "
          f"signer signs, and the signer (`SCHED_BATCH`) signs a batch per wakeup. A worker "
          f"serves the connections it accepted, so with as few connections as workers the "
          f"spread of connections over workers decides how many cores work.")
    if best:
        w(f"- Best pkictl figure (HTTP): {best:,.0f} leaves/s, **{100 * best_ratio:.0f}% of the "
          f"limit**; the server spent "
          + ", ".join(f"{1e6 * r['cpu_server_s'] / r['ok']:,.0f} µs"
                      for r in (median_run(runs[("pkictl-http", c)]) for c in meta["conns"]
                                if ("pkictl-http", c) in runs))
          + f" of CPU per leaf (c = {', '.join(str(c) for c in meta['conns'])}) against the "
          f"{1e6 * meta['ncpu'] / limit:.0f} µs of the cryptography (the median run's limit).")
    if best:
        w(f"- **What 70% takes**: {0.7 * limit:,.0f} leaves/s on {meta['ncpu']} cores leaves "
          f"{1e6 * meta['ncpu'] / (0.7 * limit):.0f} µs of CPU per leaf for everything (server, "
          f"kernel, and here the load generator too), i.e. at most "
          f"{1 / 0.7:.2f}x the cryptography.")
        verdict = {True: [], False: []}
        for name, srv, tr in ROWS:
            if srv != "pkictl" or name.endswith(("-wrk", "-nodelay")):
                continue
            for c in meta["conns"]:
                v = ratio(name, c)
                if v:
                    verdict[v >= 0.7].append(  # one decimal, so 69.6% is not shown as 70%
                        f"{tr} c={c} ({int(1000 * v) / 10:.1f}%)")
        w(f"- **The 70% aim** (load by bench_load): met with "
          + ("; ".join(verdict[True]) or "none") + "; not met with "
          + ("; ".join(verdict[False]) or "none") + ".")
        own = [f"{tr} c={c} ({int(1000 * cpu_ratio(median_run(runs[(name, c)]))) / 10:.1f}%)"
               for name, srv, tr in ROWS if srv == "pkictl" and not name.endswith(("-wrk", "-nodelay"))
               for c in meta["conns"] if (name, c) in runs]
        w("- **By the server's own CPU** (the limit's µs per leaf over the server's, the load "
          "generator set aside): " + "; ".join(own) + ".")
    if cg:
        fe, sg = cg["procs"]
        crypto = fn(fe, "ECDSA_do_verify") + fn(sg, "ECDSA_do_sign_ex")
        if crypto:
            w(f"- **Instructions: {cg['per_leaf'] / crypto:.1f}x the cryptography.** The ECDSA "
              f"verification and signature are {crypto:,.0f} of the {cg['per_leaf']:,.0f} "
              f"instructions per leaf ({100 * crypto / cg['per_leaf']:.0f}%); the signer's "
              f"{sg['per_leaf']:,.0f} are {100 * fn(sg, 'ECDSA_do_sign_ex') / sg['per_leaf']:.0f}% "
              f"signature.")
        dec, enc = fn(fe, "OSSL_DECODER_CTX_new_for_pkey"), fn(fe, "i2d_PUBKEY")
        if enc > 0.05 * cg["per_leaf"]:
            w(f"  - `i2d_PUBKEY(X509_REQ_get0_pubkey(csr), &spki)` in `srv_api_sign` "
              f"(`src/server/api_leaf.c`) re-encodes the CSR's key through OpenSSL 3.0's "
              f"`OSSL_ENCODER_CTX_new_for_pkey`: {enc:,.0f} per leaf "
              f"({100 * enc / cg['per_leaf']:.0f}% of all). "
              f"`i2d_X509_PUBKEY(X509_REQ_get_X509_PUBKEY(csr), &spki)` writes the same bytes from "
              f"the SPKI the CSR already holds, with no encoder (checked once by hand on OpenSSL "
              f"3.0: identical DER, about 1,000 instructions instead of about 740,000).")
        if dec > 0.05 * cg["per_leaf"]:
            w(f"  - The CSR parse (`d2i_X509_REQ` in `pki_csr_read`) decodes the key through "
              f"`OSSL_DECODER_CTX_new_for_pkey`: {dec:,.0f} per leaf "
              f"({100 * dec / cg['per_leaf']:.0f}% of all), mostly name matching over every "
              f"decoder (`OSSL_DECODER_is_a`, `OPENSSL_strcasecmp`, locks), which OpenSSL 3.0 "
              f"does for every SubjectPublicKeyInfo it parses.")
        big = sorted((r for r in fe["rows"] if r["fn"] in
                      ("leaf_json", "srv_audit_issue", "srv_body_sign_parse", "pki_pem_encode",
                       "store_token_find", "srv_http_parse")), key=lambda r: -r["per_leaf"])
        if big:
            w("  - Around the CSR: " + ", ".join(f"`{r['fn']}` {r['per_leaf']:,.0f}" for r in big)
              + " per leaf.")
    h2 = [(c, runs.get(("pkictl-https", c)), runs.get(("pkictl-https-nodelay", c)),
           runs.get(("pkictl-http", c))) for c in meta["conns"]]
    if any(a and h and med(a, "p50_us") > 10 * med(h, "p50_us") for _, a, _, h in h2):
        parts = [f"c={c}: {med(a, 'leaves_s'):,.0f} leaves/s, p50 {med(a, 'p50_us') / 1e3:.0f} ms"
                 + (f" (with `TCP_NODELAY` forced: {med(n, 'leaves_s'):,.0f} leaves/s, p50 "
                    f"{med(n, 'p50_us') / 1e3:.1f} ms)" if n else "")
                 for c, a, n, _ in h2 if a]
        w(f"- **HTTPS answers stall about 40 ms each**: {'; '.join(parts)}. The signature of "
          f"Nagle's algorithm meeting the client's delayed ACK: the answer leaves as two TLS "
          f"records and the second waits for the ACK of the first. Check that the accepted "
          f"sockets have `TCP_NODELAY` (`src/server/net.c`); `NODELAY_ROW=1` adds a row with it "
          f"forced from outside (`bench/load/nodelay.c`).")
    cf = [(c, max(get("cfssl-http", c) or 0, get("cfssl-http-wrk", c) or 0) or None,
           get("pkictl-http", c)) for c in meta["conns"]]
    if any(f and p for _, f, p in cf):
        w("- **cfssl**: " + "; ".join(f"c={c}: pkictl / cfssl = {p / f:.2f}x" for c, f, p in cf if f and p)
          + ". cfssl (Go) serves each connection on its own goroutine over all cores; it does "
          "less per leaf (no token check, no audit log, no store)"
          + ("" if "URI:" in meta["leaves"].split("cfssl leaf:")[-1] else
             ", and this cfssl version leaves the CSR's URI SAN out of the certificate (its "
             "leaf has no SAN at all; pkictl's carries the SPIFFE URI)") + ".")
    allr = [r for rs in runs.values() for r in rs]
    if allr:
        share = lambda k: sorted(r[k] / (r["wall_s"] * r["ncpu"]) for r in allr)[len(allr) // 2]
        other, client = share("other_cpu_s"), share("client_cpu_s")
        w(f"- **Noise**: in the median run other work on the machine used {100 * other:.0f}% of "
          f"its CPU (column \"other CPU\") and the load generator {100 * client:.0f}%"
          + (f"; with that much taken, every wall-clock figure here is low, by up to about as "
             f"much, and moves from run to run: compare the ratios within one run, and the "
             f"instruction counts across runs." if other > 0.1 else
             "; compare the ratios within one run, and the instruction counts across runs."))
    w("- Data dirs are on tmpfs, so the SQLite and audit-log writes cost no disk time here.")
    w("")


def record(doc, sec):
    text = open(doc).read()
    new = open(sec).read()
    i = text.find(MARK)
    if i < 0:
        text = text.rstrip("\n") + "\n\n" + new
    else:
        j = text.find("<!-- bench/", i + len(MARK))
        text = text[:i] + new + ("\n" + text[j:] if j >= 0 else "")
    with open(doc, "w") as f:
        f.write(text)


def main(argv):
    if len(argv) >= 6 and argv[1] == "run" and argv[5] == "--":
        run(argv[2], float(argv[3]), argv[4], argv[6:])
    elif len(argv) == 6 and argv[1] == "client":
        client(argv[2], argv[3], argv[4], int(argv[5]))
    elif len(argv) == 4 and argv[1] == "callgrind":
        callgrind(argv[2], int(argv[3]))
    elif len(argv) == 4 and argv[1] == "section":
        section(argv[2], argv[3])
    elif len(argv) == 4 and argv[1] == "record":
        record(argv[2], argv[3])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
