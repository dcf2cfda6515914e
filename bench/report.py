#!/usr/bin/env python3
"""Write docs/benchmarks.md from bench/results/ (called by bench/run.sh). Stdlib only."""
import argparse
import datetime
import json
import os
import platform
import re
import subprocess

TOOLS = ["pkictl", "openssl", "certtool", "cfssl"]
CG_TOOLS = ["pkictl", "openssl", "openssl-min", "certtool"]
PROCESSES = {"pkictl": 3, "openssl": 8, "certtool": 6, "cfssl": 6}
HOW = {
    "pkictl": "`cert create-ca`, `create-node`, `create-client`",
    "openssl": "`genpkey` + `req -x509` (CA); `genpkey` + `req -new | x509 -req` per leaf",
    "certtool": "`--generate-privkey` + `--generate-self-signed` / `--generate-certificate`",
    "cfssl": "`gencert -initca`, `gencert -profile` ×2, each `| cfssljson -bare`",
}


def sh(cmd):
    try:
        return subprocess.run(cmd, capture_output=True, text=True, check=False).stdout.strip()
    except OSError:
        return ""


def first_line(s):
    return s.splitlines()[0] if s else "?"


def cfssl_version():
    v = dict(l.split(":", 1) for l in sh(["cfssl", "version"]).splitlines() if ":" in l)
    return f"cfssl {v.get('Version', '?').strip()} ({v.get('Runtime', '?').strip()})"


def machine(pkictl):
    cpu = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    libcrypto = "?"
    for line in sh(["ldd", pkictl]).splitlines():
        if "libcrypto" in line:
            libcrypto = line.split("=>")[-1].split("(")[0].strip()
    mem_kb = 0
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                mem_kb = int(line.split()[1])
    return {
        "nproc": len(os.sched_getaffinity(0)),
        "cpu": cpu,
        "mem": f"{mem_kb / 1024 / 1024:.0f} GiB",
        "kernel": platform.release(),
        "os": sh(["sh", "-c", ". /etc/os-release && echo \"$PRETTY_NAME\""]) or "?",
        "openssl": sh(["openssl", "version"]),
        "libcrypto": libcrypto,
        "pkictl": first_line(sh([pkictl, "--version"])),
        "certtool": first_line(sh(["certtool", "--version"])),
        "cfssl": cfssl_version(),
        "hyperfine": sh(["hyperfine", "--version"]),
        "valgrind": sh(["valgrind", "--version"]),
        "git": sh(["git", "-C", os.path.dirname(os.path.abspath(__file__)), "rev-parse", "--short", "HEAD"])
        or "(no commit yet)",
    }


def load_hyperfine(path):
    with open(path) as f:
        return {r["command"]: r for r in json.load(f)["results"]}


def ms(x):
    return f"{x * 1000:.1f}"


def timing_table(res, runs):
    out = [
        "| tool | processes | median ms | mean ± σ ms | min ms | user / sys ms (mean) | median vs pkictl |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    base = res["pkictl"]["median"]
    for t in TOOLS:
        r = res[t]
        ratio = "baseline" if t == "pkictl" else f"{t} / pkictl = **{r['median'] / base:.1f}x**"
        out.append(
            f"| {t} | {PROCESSES[t]} | **{ms(r['median'])}** | {ms(r['mean'])} ± {ms(r['stddev'])} "
            f"| {ms(r['min'])} | {ms(r['user'])} / {ms(r['system'])} | {ratio} |"
        )
    out.append("")
    out.append(f"{runs} runs each (`hyperfine -N`, after warm-up), one hyperfine invocation, "
               "tools run one after another.")
    return "\n".join(out)


def parse_speed(path):
    txt = open(path).read()
    rsa = re.search(r"^rsa 2048 bits\s+(\S+)s\s+(\S+)s\s+(\S+)\s+(\S+)", txt, re.M)
    ec = re.search(r"256 bits ecdsa \(nistp256\)\s+(\S+)s\s+(\S+)s\s+(\S+)\s+(\S+)", txt, re.M)
    return {
        "rsa_sign_s": float(rsa.group(3)), "rsa_verify_s": float(rsa.group(4)),
        "ec_sign_s": float(ec.group(3)), "ec_verify_s": float(ec.group(4)),
    }


def load_callgrind(path):
    rows = []
    if not os.path.exists(path):
        return rows
    with open(path) as f:
        for line in f:
            n, _, cmd = line.rstrip("\n").partition("\t")
            rows.append((int(n), cmd))
    return rows


def short_cmd(cmd):
    """'/x/y/pkictl cert create-node a b --certs-dir=...' -> 'pkictl cert create-node'"""
    words = cmd.split()
    if not words:
        return "?"
    name = os.path.basename(words[0])
    rest = [w for w in words[1:3] if not w.startswith("-") and "/" not in w]
    return " ".join([name] + rest[:2])


PROFILE_FUNCS = [
    ("_dl_start", "dynamic loader: loading and relocating libcrypto & co."),
    ("OPENSSL_init_crypto", "libcrypto initialisation"),
    ("d2i_X509", "parsing `ca.crt`: its public key goes through the provider decoders, whose first use builds their method store"),
    ("OSSL_DECODER_CTX_new_for_pkey", "every decoder set-up: public keys of `ca.crt`, the CA key"),
    ("OSSL_ENCODER_CTX_new_for_pkey", "every encoder set-up: the new public key into the certificate, the new key to PEM"),
    ("RAND_get0_primary", "DRBG instantiation (first random bytes)"),
    ("EC_KEY_generate_key", "P-256 key generation, including the DRBG set-up above"),
    ("ECDSA_do_sign_ex", "the ECDSA signature of the certificate"),
]


def pkictl_profile(R):
    """Inclusive instruction counts of a few libcrypto/ld.so functions in pkictl create-node."""
    d = os.path.join(R, "callgrind-pkictl")
    rows = load_callgrind(os.path.join(R, "callgrind-pkictl.tsv"))
    if not os.path.isdir(d) or len(rows) < 2:
        return None
    files = sorted(os.listdir(d), key=lambda f: int(f.rsplit(".", 1)[1]))
    if len(files) != len(rows):
        return None
    out = sh(["callgrind_annotate", "--inclusive=yes", "--threshold=100", os.path.join(d, files[1])])
    incl = {}
    for line in out.splitlines():
        m = re.match(r"\s*([\d,]+) \(\s*[\d.]+%\)\s+\S*?:([^\s\[]+)(?:'\d+)? \[", line)
        if m:
            name = m.group(2).split("@@")[0]
            incl.setdefault(name, int(m.group(1).replace(",", "")))
    found = [(fn, what, incl[fn]) for fn, what in PROFILE_FUNCS if fn in incl]
    return rows[1][0], found


SIGN_MARK = "<!-- bench/sign.sh section -->"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--results", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--pkictl", required=True)
    ap.add_argument("--quick", default="0")
    ap.add_argument("--warmup", default="3")
    ap.add_argument("--work", default="/dev/shm")
    a = ap.parse_args()
    R = a.results
    m = machine(a.pkictl)
    ec = load_hyperfine(os.path.join(R, "hyperfine-ecdsa.json"))
    rsa = load_hyperfine(os.path.join(R, "hyperfine-rsa.json"))
    kg = load_hyperfine(os.path.join(R, "hyperfine-reference.json"))
    sp = parse_speed(os.path.join(R, "openssl-speed.txt"))
    cg = {t: load_callgrind(os.path.join(R, f"callgrind-{t}.tsv")) for t in CG_TOOLS}
    ec_runs = len(ec["pkictl"]["times"])
    rsa_runs = len(rsa["pkictl"]["times"])

    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    L = []
    w = L.append
    w("# pkictl benchmarks")
    w("")
    w("<!-- Generated by bench/run.sh (bench/report.py). Do not edit by hand; re-run instead. -->")
    w("")
    if a.quick == "1":
        w("> **Smoke run (`bench/run.sh --quick`): too few runs to quote. Run `bench/run.sh` for real figures.**")
        w("")
    w("The job: in a fresh empty directory, create a CA (self-signed, 10 years), a node certificate "
      "(CN=node; SANs `node1.example.com`, `node2.example.com`, `localhost`, `127.0.0.1`; EKU "
      "serverAuth + clientAuth; 5 years) and a client certificate for user `root` (CN=root, EKU "
      "clientAuth), each with a new key: ECDSA P-256 or RSA-2048. The same job is done with pkictl, "
      "the `openssl` CLI, GnuTLS `certtool` and `cfssl`; each output is checked with `openssl verify "
      "-CAfile -purpose sslserver|sslclient` (plus key/cert match, key type and SANs, `bench/verify.sh`) "
      "before timing.")
    w("")
    w("## Reproduce")
    w("")
    w("    bench/run.sh            # about 2 minutes here; builds build-bench/ (release) unless PKICTL=... is set")
    w("    bench/run.sh --quick    # smoke test")
    w("")
    w("Jobs: `bench/jobs/<tool>-job.sh OUTDIR ecdsa|rsa` (config files in `bench/jobs/conf/`). "
      "Raw data of the last run: `bench/results/` (not committed).")
    w("")
    w("## Run")
    w("")
    w(f"- Date: {now}; pkictl: `{m['pkictl']}` (release build, `{a.pkictl}`), tree at {m['git']}")
    w(f"- Machine: {m['nproc']} CPUs (`nproc`), {m['cpu']}, {m['mem']} RAM, {m['os']}, Linux {m['kernel']}")
    w(f"- OpenSSL: {m['openssl']} (pkictl links `{m['libcrypto']}`)")
    w(f"- Peers: {m['certtool']}; {m['cfssl']}; {m['hyperfine']}; {m['valgrind']}")
    la = [open(os.path.join(R, f"loadavg-{x}.txt")).read().strip() for x in ("start", "end")]
    w(f"- Work dir on tmpfs (`{os.path.dirname(a.work)}`), warm-up {a.warmup} runs per tool. "
      f"Load average (1/5/15 min) before: {la[0]}, after: {la[1]} (the run itself adds about 1).")
    w("")
    w("## Wall clock")
    w("")
    w("Time for the whole job (three certificates, three new keys), including `rm -rf` + `mkdir` of "
      "the output dir and one `bash` for the job script, which all four pay alike: that empty job "
      f"alone takes {ms(kg['empty-job']['median'])} ms (median).")
    w("")
    w("### ECDSA P-256")
    w("")
    w(timing_table(ec, ec_runs))
    w("")
    om, pr = kg["openssl-min"], kg["pkictl"]
    w("The openssl job above is the usual genpkey / req / x509 sequence. With as few processes as the "
      "openssl CLI allows (3: `req -x509 -newkey`, then `req -x509 -newkey -CA -CAkey` per leaf; "
      "`bench/jobs/openssl-min-job.sh`), timed next to pkictl in a separate invocation "
      f"({len(om['times'])} runs): openssl-min median **{ms(om['median'])} ms**, pkictl "
      f"{ms(pr['median'])} ms, openssl-min / pkictl = **{om['median'] / pr['median']:.1f}x**.")
    w("")
    w("### RSA-2048")
    w("")
    w(timing_table(rsa, rsa_runs))
    w("")
    w("RSA-2048 key generation is a random search for primes, so a single run varies a lot (see σ and "
      "min); compare medians.")
    w("")
    w("How each tool does it:")
    w("")
    for t in TOOLS:
        w(f"- {t} ({PROCESSES[t]} processes): {HOW[t]}")
    w("")
    w("## Physical limit")
    w("")
    ec_sign_ms = 1000 / sp["ec_sign_s"]
    rsa_sign_ms = 1000 / sp["rsa_sign_s"]
    kg_rsa = kg["genpkey-rsa2048"]
    kg_ec = kg["genpkey-p256"]
    rsa_kg_mean = kg_rsa["mean"] - kg_ec["mean"]
    rsa_kg_median = kg_rsa["median"] - kg_ec["median"]
    w("`openssl speed -seconds 1 ecdsap256 rsa2048` (one core):")
    w("")
    w("| | sign/s | ms per sign | verify/s |")
    w("|---|---:|---:|---:|")
    w(f"| ECDSA P-256 | {sp['ec_sign_s']:.0f} | {ec_sign_ms:.3f} | {sp['ec_verify_s']:.0f} |")
    w(f"| RSA-2048 | {sp['rsa_sign_s']:.0f} | {rsa_sign_ms:.3f} | {sp['rsa_verify_s']:.0f} |")
    w("")
    w(f"RSA-2048 key generation, estimated as `openssl genpkey` RSA-2048 minus P-256 ({len(kg_rsa['times'])} "
      f"runs each): mean {ms(rsa_kg_mean)} ms, median {ms(rsa_kg_median)} ms per key "
      f"(genpkey P-256 alone, i.e. mostly `openssl` start-up: {ms(kg_ec['median'])} ms).")
    w("")
    ec_floor = 6 * ec_sign_ms  # 3 keygens (one fixed-base scalar mult each, about a sign) + 3 signs
    rsa_floor = 3 * rsa_kg_mean * 1000 + 3 * rsa_sign_ms
    w(f"So the cryptography of the job costs about **{ec_floor:.2f} ms for ECDSA** (3 key generations ≈ 3 "
      f"signatures, plus 3 signatures): pkictl's median is {ec['pkictl']['median'] * 1000 / ec_floor:.0f}x "
      "that, the rest being process start-up, library and provider initialisation and file I/O. "
      f"With OpenSSL's RSA key generation (which pkictl uses) the RSA job costs about **{rsa_floor:.0f} ms** "
      f"on average (3 key generations + 3 signatures); pkictl's RSA mean is "
      f"{rsa['pkictl']['mean'] * 1000 / rsa_floor:.2f}x that"
      + (", i.e. the job is almost all key generation. " if 0.6 < rsa['pkictl']['mean'] * 1000 / rsa_floor < 1.5 else ". ")
      + 
      "(GnuTLS/nettle generates RSA keys with a different prime search; see certtool's RSA time.)")
    w("")
    w("## Instructions (callgrind, ECDSA job)")
    w("")
    w("Every process of the job run under `valgrind --tool=callgrind`; the table sums the programs' "
      "totals (\"Collected\"). User-space instructions only: no kernel time, no fsync. Repeatable to within "
      "about 0.1% (random keys, serials and nonces), so this is the figure to compare across machines. cfssl (Go) does "
      "not run under valgrind and is left out.")
    w("")
    base = sum(n for n, _ in cg["pkictl"]) or 1
    w("| tool | processes | instructions | vs pkictl |")
    w("|---|---:|---:|---|")
    for t in CG_TOOLS:
        tot = sum(n for n, _ in cg[t])
        ratio = "baseline" if t == "pkictl" else f"{t} / pkictl = **{tot / base:.1f}x**"
        w(f"| {t} | {len(cg[t])} | {tot:,} | {ratio} |")
    w("")
    w("Per process:")
    w("")
    for t in CG_TOOLS:
        parts = ", ".join(f"`{short_cmd(c)}` {n / 1e6:.1f}M" for n, c in cg[t])
        w(f"- {t}: {parts}")
    w("")
    prof = pkictl_profile(R)
    if prof:
        total, rows = prof
        w("### Where a pkictl process spends its instructions")
        w("")
        w(f"`callgrind_annotate --inclusive=yes` on `pkictl cert create-node` ({total / 1e6:.1f}M "
          "instructions in all). Inclusive counts: a line includes what it calls, and OpenSSL does "
          "one-time set-up (provider algorithm fetches, decoder/encoder method stores, DRBG) in "
          "whichever call needs it first, so lines overlap and do not add up.")
        w("")
        w("| function | what it is here | instructions | share |")
        w("|---|---|---:|---:|")
        for fn, what, n in rows:
            w(f"| `{fn}` | {what} | {n / 1e6:.2f}M | {100 * n / total:.0f}% |")
        w("")
    w("## Caveats")
    w("")
    w("- Wall-clock figures vary by ±30% between runs on shared or virtual machines (CPU steal, "
      "frequency scaling, noisy neighbours). Compare the ratios within one run, not absolute times "
      "across runs or machines; the instruction counts are the stable figure.")
    disk = load_hyperfine(os.path.join(R, "hyperfine-disk.json"))
    fs = open(os.path.join(R, "disk-fs.txt")).read().split()
    w("- The work dir is on tmpfs (`/dev/shm`). pkictl writes every file atomically (temp file, "
      "fsync, rename, fsync of the folder); the peers do not fsync. On tmpfs fsync returns at once, "
      "so the tables compare CPU work. For scale, the ECDSA job on the disk holding the repo "
      f"({fs[1]} on `{fs[0]}`, {len(disk['pkictl-disk']['times'])} runs): pkictl median "
      f"{ms(disk['pkictl-disk']['median'])} ms (tmpfs: {ms(ec['pkictl']['median'])}), openssl "
      f"{ms(disk['openssl-disk']['median'])} ms (tmpfs: {ms(ec['openssl']['median'])}).")
    w(f"- Process counts differ (pkictl 3, openssl 8, certtool 6, cfssl 3 + 3 `cfssljson`), and "
      f"start-up is most of the ECDSA job for every tool, so the ECDSA ratios mostly measure start-up. "
      f"cfssl is Go and multi-threaded and its pipes run concurrently, so on {m['nproc']} CPUs it can "
      "use more CPU (user + sys) than wall time.")
    w("- `openssl x509 -req -CA` (OpenSSL 3.0) loads the default trust store (`X509_STORE_set_default_paths`, "
      "the whole system CA bundle) even though nothing is verified; that is most of its instructions.")
    w("- Same certificates as far as each tool allows: basic constraints, key usage (ECDSA leaves "
      "digitalSignature, RSA leaves also keyEncipherment), EKUs, SANs, SHA-256, subject key id; "
      "except that cfssl's CA has keyCertSign + cRLSign only (no digitalSignature) and the certtool "
      "and cfssl CAs carry no authority key id (optional when self-signed). cfssl also writes a "
      "`.csr` per certificate. Keys: pkictl and openssl write PKCS#8 PEM, certtool and cfssl "
      "SEC1 / PKCS#1 PEM.")
    w("")
    # bench/sign.sh owns the section from SIGN_MARK to the end: keep it.
    tail = ""
    if os.path.exists(a.out):
        old = open(a.out).read()
        at = old.find(SIGN_MARK)
        if at >= 0:
            tail = old[at:]
    with open(a.out, "w") as f:
        f.write("\n".join(L))
        if tail:
            f.write("\n\n" + tail)


if __name__ == "__main__":
    main()
