#!/usr/bin/env bash
# bench/crypto-bench.sh -- the cost of encryption at rest (issue #17): write
# and read latency with and without crypto.key-file in one run, against one
# private redis-server, and the bytes a session takes in Redis.
#
# Method: latency_bench (bench/latency_bench.cpp; one request in flight,
# in-process engine) runs ROUNDS times alternately without and with a key
# file (plain on Redis db 0, encrypted on db 1, each flushed before its
# run), so drift on a shared machine hits both sides alike; the table
# reports the median over rounds of each phase's p50 and p99. The phases
# that cross the cipher: set_creds_small and set_prekeys_10 (seal before
# the Lua write), get_keys_uncached (open after the read);
# get_creds_cached is answered from the session cache (plaintext, no
# cipher) and is listed as the control. Bytes: Baileys' own fixture session
# (tests/fixtures/baileys-v7/alice.*: creds and 14 keys) written with
# `authstore set`, then the sum of HSTRLEN of its stored values and Redis'
# MEMORY USAGE of its hashes. The cipher alone: bench/cipher_bench (no
# Redis, no actors; nanoseconds per seal of a 10-value patch, of a
# one-field creds patch, per open of one key value), run once after the
# rounds; its instruction counts come from callgrind (see
# bench/results/2026-12-07/CRYPTO-PERF.md).
#
# Paired (bench/sealed_ab, one process, a plain and a sealed engine on db 4,
# op i to both back to back): once per round after the two latency_bench
# runs; the table reports the median over rounds of each side's p50 and of
# the median per-pair difference. Why both: the unpaired ratio is what
# latency_bench sees, but on a shared machine two runs differ by more than
# the cipher costs (bench/results/2026-12-07/SEALED-READ.md); the pairing
# exposes both sides to the same moment's load.
#
# Usage: bench/crypto-bench.sh [BUILD_DIR] [ROUNDS] [N]; writes
# bench/results/crypto-<date>.txt and prints it. Needs a Release or
# RelWithDebInfo build with the authstore, latency_bench, sealed_ab and
# cipher_bench targets.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
rounds=${2:-3}
n=${3:-4000}
bin=$build/authstore
lb=$build/bench/latency_bench
[ -x "$lb" ] || lb=$build/latency_bench
raw=$(mktemp -d /tmp/authstore-crypto-bench-XXXXXX)
. scripts/lib/servers.sh
redis_pid=
trap 'stop_pid "$redis_pid"; rm -rf "$raw"' EXIT
start_private_redis "$raw"
port=$redis_port
"$bin" keygen bench > "$raw/keys"
for r in $(seq 1 "$rounds"); do
  redis-cli -p "$port" -n 0 flushdb >/dev/null
  "$lb" --redis "redis://127.0.0.1:$port/0" --n "$n" --idle-sessions 0 > "$raw/plain-$r.json"
  redis-cli -p "$port" -n 1 flushdb >/dev/null
  "$lb" --redis "redis://127.0.0.1:$port/1" --n "$n" --idle-sessions 0 \
    --crypto.key-file "$raw/keys" > "$raw/sealed-$r.json"
  redis-cli -p "$port" -n 4 flushdb >/dev/null
  "$build/bench/sealed_ab" --redis "redis://127.0.0.1:$port/4" --n "$n" \
    --key-file "$raw/keys" > "$raw/ab-$r.json"
done
cb=$build/bench/cipher_bench
[ -x "$cb" ] || cb=$build/cipher_bench
"$cb" --n 20000 > "$raw/cipher.json"
"$cb" --n 2000 --evict-kb 65536 > "$raw/cipher-cold.json"
# Bytes per session: the fixture session, plaintext (db 2) and sealed (db 3).
python3 - "$raw/patch.json" <<'PY'
import json, glob, os, sys
creds = json.load(open("tests/fixtures/baileys-v7/alice.creds.json"))
keys = {}
for f in sorted(glob.glob("tests/fixtures/baileys-v7/alice.*.json")):
    name = os.path.basename(f)[len("alice."):-len(".json")]
    if name == "creds":
        continue
    # <type>-<id>: the fixture names end with the id after the type.
    for t in ["app-state-sync-key", "app-state-sync-version", "device-list",
              "lid-mapping", "pre-key", "sender-key-memory", "sender-key",
              "session", "tctoken"]:
        if name.startswith(t + "-"):
            keys.setdefault(t, {})[name[len(t) + 1:]] = json.load(open(f))
            break
json.dump({"creds": creds, "keys": keys}, open(sys.argv[1], "w"))
PY
"$bin" set alice --redis "redis://127.0.0.1:$port/2" < "$raw/patch.json" >/dev/null
"$bin" set alice --redis "redis://127.0.0.1:$port/3" --crypto.key-file "$raw/keys" < "$raw/patch.json" >/dev/null
bytes() { # db -> "values_bytes memory_usage fields"
  local db=$1 total=0 fields=0 mem=0
  for h in c k; do
    key="as:{alice}:$h"
    mem=$((mem + $(redis-cli -p "$port" -n "$db" memory usage "$key" samples 0)))
    while read -r f; do
      [ -z "$f" ] && continue
      total=$((total + $(redis-cli -p "$port" -n "$db" hstrlen "$key" "$f")))
      fields=$((fields + 1))
    done < <(redis-cli -p "$port" -n "$db" hkeys "$key")
  done
  echo "$total $mem $fields"
}
read -r pb pm pf < <(bytes 2)
read -r sb sm sf < <(bytes 3)
out=${AUTHSTORE_BENCH_OUT:-bench/results/crypto-$(date -u +%Y-%m-%d).txt}
python3 - "$raw" "$rounds" "$n" "$pb" "$pm" "$pf" "$sb" "$sm" "$sf" > "$out" <<'PY'
import json, statistics, sys, os, platform, subprocess
raw, rounds, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
pb, pm, pf, sb, sm, sf = map(int, sys.argv[4:10])
def load(kind):
    return [json.load(open(f"{raw}/{kind}-{r}.json")) for r in range(1, rounds + 1)]
plain, sealed = load("plain"), load("sealed")
def pick(runs, phase, q):
    vals = []
    for run in runs:
        op = run["operations"].get(phase)
        if op is None:
            continue
        if op["errors"]:
            raise SystemExit(f"{phase}: {op['errors']} errors")
        vals.append(op["latency_us"][q])
    return statistics.median(vals) if vals else float("nan")
phases = ["set_creds_small", "set_prekeys_10", "get_keys_uncached", "get_creds_cached"]
cpu = subprocess.run(["sh", "-c", "grep -m1 'model name' /proc/cpuinfo | cut -d: -f2"], capture_output=True, text=True).stdout.strip()
print("# encryption at rest: latency and bytes, with and without crypto.key-file")
print(f"# machine: {cpu}, {os.cpu_count()} cores, {platform.platform()}; load average at the end: {os.getloadavg()}")
print(f"# method: bench/crypto-bench.sh, {rounds} rounds alternating plain/sealed, latency_bench --n {n}, median of rounds")
print(f"{'phase':<22}{'plain p50':>11}{'sealed p50':>12}{'ratio':>7}{'plain p99':>11}{'sealed p99':>12}  (microseconds)")
for ph in phases:
    a, b = pick(plain, ph, "p50"), pick(sealed, ph, "p50")
    c, d = pick(plain, ph, "p99"), pick(sealed, ph, "p99")
    print(f"{ph:<22}{a:>11.1f}{b:>12.1f}{b / a:>7.3f}{c:>11.1f}{d:>12.1f}")
print(f"bytes of stored values, fixture session alice ({pf} fields): plaintext {pb}, sealed {sb} (x{sb / pb:.3f}, +{(sb - pb) / pf:.0f} per value)")
print(f"Redis MEMORY USAGE of its two hashes: plaintext {pm}, sealed {sm} (x{sm / pm:.3f})")
ab = [json.load(open(f"{raw}/ab-{r}.json")) for r in range(1, rounds + 1)]
print(f"# paired, bench/sealed_ab (one process, plain and sealed engine, op i to both back to back, blocking API), median of {rounds} rounds")
print(f"{'phase':<22}{'plain p50':>11}{'sealed p50':>12}{'ratio':>7}{'pair diff':>11}  (microseconds; pair diff: median of sealed - plain per op)")
for ph in ["set_creds_small", "set_prekeys_10", "get_keys_uncached", "get_creds_cached"]:
    ops = [run["operations"][ph] for run in ab]
    for o in ops:
        if o["plain"]["errors"] or o["sealed"]["errors"]:
            raise SystemExit(f"sealed_ab {ph}: errors")
    a = statistics.median(o["plain"]["p50"] for o in ops)
    b = statistics.median(o["sealed"]["p50"] for o in ops)
    d = statistics.median(o["median_pair_diff_us"] for o in ops)
    print(f"{ph:<22}{a:>11.1f}{b:>12.1f}{b / a:>7.3f}{d:>+11.1f}")
cipher = json.load(open(f"{raw}/cipher.json"))
print("cipher alone (bench/cipher_bench --n 20000, ns per op): "
      + ", ".join(f"{k} {v['ns_per_op']:.0f}" for k, v in cipher.items()))
cold = json.load(open(f"{raw}/cipher-cold.json"))
print("cipher alone, caches evicted before each op (cipher_bench --evict-kb 65536 --n 2000, median ns per op): "
      + ", ".join(f"{k} {v['ns_per_op']:.0f}" for k, v in cold.items()))
PY
cat "$out"
