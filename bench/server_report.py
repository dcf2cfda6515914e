#!/usr/bin/env python3
"""Helper of bench/server_load.sh. Stdlib only.

  server_report.py run OUT.json SECONDS PIDS -- wrk ARGS...
        run wrk (bounded by SECONDS + 30 s), and measure around it: CPU time (utime + stime,
        /proc/PID/stat) of PIDS (comma-separated: server, signer) and of wrk itself (wait4
        rusage), VmRSS of PIDS half a second before the end and VmHWM after; wrk's RESULT line
        (bench/load/sign.lua) goes into OUT.json with them
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


# ---- run: one wrk configuration ----------------------------------------------------------

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


def run(out, seconds, pids, wrk):
    pids = [int(p) for p in pids.split(",") if p]
    c0 = [cpu_ticks(p) for p in pids]
    t0 = time.monotonic()
    proc = subprocess.Popen(wrk, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    time.sleep(max(0.0, seconds - 0.5))
    rss = [status_kb(p, "VmRSS") for p in pids]
    deadline = seconds + 30
    while True:
        wpid, wstatus, ru = os.wait4(proc.pid, os.WNOHANG)
        if wpid:
            break
        if time.monotonic() - t0 > deadline:
            proc.kill()
            sys.exit(f"server_report.py run: wrk still running after {deadline} s, killed")
        time.sleep(0.05)
    wall = time.monotonic() - t0
    c1 = [cpu_ticks(p) for p in pids]
    text = proc.stdout.read()
    m = re.search(r"^RESULT (\{.*\})$", text, re.M)
    if os.waitstatus_to_exitcode(wstatus) != 0 or m is None:
        sys.exit(f"server_report.py run: wrk failed:\n{text}")
    r = json.loads(m.group(1))
    r.update({
        "wall_s": wall, "ncpu": len(os.sched_getaffinity(0)),
        "wrk_cpu_s": ru.ru_utime + ru.ru_stime,
        "cpu_s": [None if a is None or b is None else (b - a) / TICK for a, b in zip(c0, c1)],
        "rss_kb": rss, "hwm_kb": [status_kb(p, "VmHWM") for p in pids],
        "wrk": " ".join(wrk), "wrk_text": text,
    })
    r["leaves_s"] = r["ok"] / (r["duration_us"] / 1e6)
    with open(out, "w") as f:
        json.dump(r, f, indent=1)
    valid = r["bad"] == 0 and not any(r["errors"].values())
    print(f"  {r['ok'] / (r['duration_us'] / 1e6):9.0f} leaves/s  p50 {r['p50_us'] / 1e3:6.2f} ms  "
          f"p99 {r['p99_us'] / 1e3:6.2f} ms  RSS {'+'.join(str(x) for x in rss)} KiB  "
          f"CPU s {'+'.join('%.1f' % x for x in r['cpu_s'] if x is not None)} wrk {r['wrk_cpu_s']:.1f}"
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
    rx = re.compile(r"^\s*([\d,]+)\s+(?:\([\d.]+%\)\s+)?(?:\S*:)?(\S+?)(?: \[.*\])?$")
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
    """The runs' two processes: the front end (the parent, lower pid) and the signer."""
    files = sorted(glob.glob(d + "/callgrind.out.*"), key=lambda p: int(p.rsplit(".", 1)[1]))
    if len(files) != 2:
        sys.exit(f"server_report.py callgrind: expected 2 profiles (front end, signer) in {d}, "
                 f"found {len(files)}")
    return [inclusive(p) for p in files]


# What the per-issuance functions are (name -> what it is), in the order of the table.
FRONT = [
    ("srv_api_sign", "the sign handler, all of it (below: its parts)"),
    ("srv_body_sign_parse", "JSON body `{\"CSR\": ...}` parsed"),
    ("pki_csr_read", "CSR: PEM decode, DER parse, signature check"),
    ("PEM_read_bio_X509_REQ", "of which PEM -> X509_REQ"),
    ("d2i_X509_REQ", "of which the DER parse"),
    ("X509_REQ_verify", "of which the CSR signature check"),
    ("ECDSA_do_verify", "of which the ECDSA verification itself"),
    ("OSSL_DECODER_CTX_new_for_pkey", "the CSR public key through OpenSSL 3.0's decoder set-up"),
    ("pki_csr_sans", "CSR SANs read"),
    ("i2d_PUBKEY", "the CSR key re-encoded for the signer (SPKI DER)"),
    ("srv_signer_issue", "round trip to the signer (send, wait, reply)"),
    ("pki_pem_encode", "leaf DER -> PEM"),
    ("leaf_json", "the response JSON"),
    ("srv_resp_json", "the response serialised"),
    ("srv_audit", "audit log line (JSON, SHA-256 chain, write)"),
    ("srv_metrics_issued", "metrics"),
    ("srv_token_lookup", "token lookup"),
    ("store_token_get", "token lookup in the store"),
    ("sqlite3_step", "SQLite statements (all)"),
    ("srv_http_parse", "HTTP request parse"),
    ("json_loads", "jansson parse (all)"),
    ("json_loadb", "jansson parse (all)"),
    ("json_dumps", "jansson serialise (all)"),
    ("write", "write(2) calls"),
    ("fsync", "fsync(2)"),
    ("fdatasync", "fdatasync(2)"),
    ("RAND_bytes", "random bytes"),
]
SIGNER = [
    ("pki_leaf_issue", "build + sign the leaf"),
    ("X509_set_pubkey", "the leaf key into the certificate (OpenSSL 3.0 encoder/decoder)"),
    ("X509_PUBKEY_set", "the same, all calls"),
    ("d2i_PUBKEY", "SPKI DER parsed"),
    ("OSSL_DECODER_CTX_new_for_pkey", "decoder set-up (all)"),
    ("OSSL_ENCODER_CTX_new_for_pkey", "encoder set-up (all)"),
    ("X509_sign", "the signature with its DER encoding of the TBS"),
    ("X509_sign_ctx", "the signature with its DER encoding of the TBS"),
    ("ECDSA_do_sign_ex", "the ECDSA signature itself"),
    ("i2d_X509", "certificate DER"),
    ("RAND_bytes", "random bytes (serial, nonce)"),
]


def callgrind(res, n):
    zero = cg_dir(res + "/cg0")
    full = cg_dir(res + "/cgN")
    out = {"n": n, "procs": []}
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

def section(res, out):
    L = lambda f: json.load(open(f"{res}/{f}"))
    meta, sp = L("meta.json"), L("speed.json")
    per_core = 1 / (1 / sp["sign_s"] + 1 / sp["verify_s"])
    limit = meta["ncpu"] * per_core
    runs = {}
    for p in sorted(glob.glob(res + "/run-*.json")):
        m = re.match(r"run-(\w+)-(\w+)-c(\d+)-r(\d+)\.json", os.path.basename(p))
        runs.setdefault((m.group(1), m.group(2), int(m.group(3))), []).append(json.load(open(p)))

    def med(rs, key):
        v = sorted(r[key] for r in rs)
        return v[len(v) // 2] if len(v) % 2 else (v[len(v) // 2 - 1] + v[len(v) // 2]) / 2

    rounds = max(len(v) for v in runs.values())
    invalid = [(k, r) for k, rs in runs.items() for r in rs
               if r["bad"] or any(r["errors"].values())]
    W = []
    w = W.append
    w(MARK)
    w("## Online CA: leaves per second")
    w("")
    w(f"Command: `{meta['command']}` ({meta['date']}, took {meta['elapsed_min']} min). "
      f"pkictl: `{meta['pkictl_version']}`, release build, tree at {meta['git']}. "
      f"Machine: {meta['ncpu']} CPUs (`nproc`), {meta['cpu']}; {meta['openssl']}; {meta['wrk']}; "
      f"cfssl {meta['cfssl']}; {meta['valgrind']}. Data dirs on tmpfs (`/dev/shm`). "
      f"Load average before / after: {meta['load_start']} / {meta['load_end']}.")
    w("")
    w(f"The job: `POST` a P-256 CSR, get a signed leaf back, over one keep-alive connection per "
      f"client, {meta['seconds']} s per configuration after a {meta['warmup']} s warm-up, "
      f"{rounds} round{'s' if rounds > 1 else ''} of all configurations one after another"
      f"{' (the table gives the median of the rounds)' if rounds > 1 else ''}. "
      f"pkictl: `pkictl server` with `CSRMaxPerSecond` 0 (no rate limit), "
      f"`POST /v1/connect/ca/sign` with `{{\"CSR\": PEM}}` and the operator token; cfssl: "
      f"`cfssl serve` with a P-256 CA (`cfssl gencert -initca`), `POST /api/v1/cfssl/sign` "
      f"with `{{\"certificate_request\": PEM}}`. The same pool of {meta['pool']} CSRs "
      f"(`bench/load/gen_csrs.sh`: new P-256 key each, CN=web, URI SAN "
      f"`spiffe://<trust domain>/ns/default/dc/dc1/svc/web`) is sent round-robin by wrk "
      f"(`bench/load/sign.lua`, {meta['threads']} threads); an answer counts only with status "
      f"200 and a certificate in it (pkictl: `\"CertPEM\"`, cfssl: `\"success\":true`).")
    w("")
    w(f"**The load generator shares the {meta['ncpu']} cores with the server** (wrk's own CPU "
      f"is in the table), so neither server can have both cores to itself.")
    w("")
    w(f"Limit: `openssl speed -seconds 3 ecdsap256` in the same run: {sp['sign_s']:.0f} sign/s, "
      f"{sp['verify_s']:.0f} verify/s on one core; one leaf = one CSR verification + one "
      f"signature, so **{per_core:,.0f} leaves/s per core, {limit:,.0f} on {meta['ncpu']} cores**.")
    w("")
    w("| server | transport | conns | leaves/s | p50 ms | p99 ms | / limit | / cfssl (same conns) | "
      "server CPU (front end + signer) | wrk CPU | RSS under load, KiB (front end + signer) |")
    w("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for srv, tr in (("pkictl", "http"), ("cfssl", "http"), ("pkictl", "https")):
        for c in meta["conns"]:
            rs = runs.get((srv, tr, c))
            if not rs:
                continue
            ls = med(rs, "leaves_s")
            cf = runs.get(("cfssl", "http", c))
            vs = "" if srv == "cfssl" or not cf else f"{ls / med(cf, 'leaves_s'):.2f}x"
            r = sorted(rs, key=lambda x: x["leaves_s"])[len(rs) // 2]
            wall = r["duration_us"] / 1e6
            share = lambda s: f"{100 * s / (wall * r['ncpu']):.0f}%"
            cpu = " + ".join(share(x) for x in r["cpu_s"] if x is not None)
            rss = " + ".join(f"{x:,}" for x in r["rss_kb"] if x is not None)
            spread = ("" if len(rs) == 1 else
                      f" ({min(x['leaves_s'] for x in rs):,.0f}–{max(x['leaves_s'] for x in rs):,.0f})")
            w(f"| {srv} | {tr.upper()} | {c} | **{ls:,.0f}**{spread} | {med(rs, 'p50_us') / 1e3:.2f} | "
              f"{med(rs, 'p99_us') / 1e3:.2f} | {100 * ls / limit:.0f}% | {vs} | {cpu} | "
              f"{share(r['wrk_cpu_s'])} | {rss} |")
    w("")
    w(f"CPU columns: utime + stime from `/proc/PID/stat` (server, signer) and wrk's rusage over "
      f"the measured run, as a share of {meta['ncpu']} cores × its length (100% = both cores "
      f"busy). RSS: `VmRSS` half a second before the end of the run. "
      + ("Where rounds differ, the range of leaves/s is in brackets; CPU and RSS are from the "
         "median round. " if rounds > 1 else ""))
    w("")
    if invalid:
        w("**Invalid runs** (failed answers or socket errors):")
        for (srv, tr, c), r in invalid:
            w(f"- {srv} {tr} c={c}: {r['bad']} failed of {r['requests']}, errors {r['errors']}, "
              f"first: `{r['first_bad']}`")
    else:
        w("Every answer of every run was a 200 with a certificate; no connect, read, write or "
          "timeout errors.")
    w("")
    cg = L("callgrind.json") if os.path.exists(res + "/callgrind.json") else None
    if cg:
        w("### Instructions per issuance (callgrind)")
        w("")
        w(f"`pkictl server --insecure-http` under `valgrind --tool=callgrind` (front end and the "
          f"forked signer, one profile each), {cg['n']} leaves issued over one keep-alive "
          f"connection (`server_report.py client`), minus the same server started and stopped "
          f"with none issued, divided by {cg['n']}. Stable to well under 1% between runs; this is "
          f"the figure to compare.")
        w("")
        w(f"**{cg['per_leaf']:,.0f} instructions per leaf**: "
          + ", ".join(f"{p['role']} {p['per_leaf']:,.0f}" for p in cg["procs"]) + ".")
        w("")
        for p in cg["procs"]:
            w(f"{p['role'].capitalize()} (inclusive per leaf; lines overlap, they do not add up):")
            w("")
            w("| function | what | instructions per leaf | share of the "
              f"{p['role']}'s |")
            w("|---|---|---:|---:|")
            for r in p["rows"]:
                w(f"| `{r['fn']}` | {r['what']} | {r['per_leaf']:,.0f} | "
                  f"{100 * r['per_leaf'] / p['per_leaf']:.0f}% |")
            w("")
    extra = res + "/notes.md"
    if os.path.exists(extra):
        w(open(extra).read().rstrip("\n"))
        w("")
    w("Reproduce: `bench/server_load.sh` (prints the summary; `--record` also writes this "
      "section; `--seconds=N` per configuration; `PKICTL=...` skips the build; `ROUNDS=`, "
      "`CG_LEAVES=` change the sizes). Raw data: `bench/results/server_load/`.")
    with open(out, "w") as f:
        f.write("\n".join(W) + "\n")


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
    if len(argv) >= 5 and argv[1] == "run" and argv[4] == "--":
        run(argv[2], float(argv[3]), "", argv[5:])
    elif len(argv) >= 6 and argv[1] == "run" and argv[5] == "--":
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
