# Sourced by the bench/jobs/*-job.sh scripts. Usage of every job: JOB.sh OUTDIR ecdsa|rsa
# OUTDIR is removed and re-created empty; the job writes a CA, a node and a client
# certificate (each with its own new key) into it.
# BENCH_WRAP, if set, is put in front of every tool invocation (run.sh uses it to run
# each process under callgrind); it is unset while timing.
set -euo pipefail
if [ $# -ne 2 ]; then echo "usage: $0 OUTDIR ecdsa|rsa" >&2; exit 2; fi
D=$1
KT=$2
case $KT in ecdsa|rsa) ;; *) echo "$0: key type must be ecdsa or rsa" >&2; exit 2 ;; esac
case $0 in */*) CONF=${0%/*}/conf ;; *) CONF=conf ;; esac
W=${BENCH_WRAP:-}
rm -rf "$D" && mkdir "$D"
