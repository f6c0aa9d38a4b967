#!/usr/bin/env bash
# move-bench.sh -- measures moving sessions in and out (issue #16): import
# of useMultiFileAuthState folders, dump, restore, each beside `cp -r` of the
# same folders in the same run, and the peak RSS of every command.
#
# Method, one run, everything on loopback:
#   1. FOLDERS folders (default 1000) of realistic size are generated from
#      the real Baileys fixtures (tests/fixtures/baileys-v7, alice's files):
#      creds.json, 30 pre-keys, 5 sessions, 2 app-state-sync-keys each (the
#      values are the fixtures' bytes under new ids; what is measured is file
#      handling, codec and writes, not key generation). One more folder with
#      BIG_PREKEYS (10000) pre-keys measures the memory of one large session.
#   2. `cp -r` of the parent folder (page cache warm: generated just before;
#      so both cp and import read from memory).
#   3. `authstore import --folders` into a private, empty redis-server
#      (no cold store), under /usr/bin/time -v (wall time, peak RSS); the
#      rates are the import's own summary line (sessions/s, keys/s).
#   4. `authstore dump` to a file, plain and --gzip.
#   5. FLUSHALL, `authstore restore` of the plain dump; then of the gzip one
#      into an emptied Redis again.
#   6. the big folder: import (with codec.max-writes 20000: the default
#      10000 refuses it whole), peak RSS.
# Output: OUT_DIR/move-bench.txt (machine, load average before and after,
# every figure). Knobs (environment): FOLDERS, BIG_PREKEYS, OUT_DIR,
# AUTHSTORE_BUILD_DIR (build). Every process it starts is stopped by pid.
set -euo pipefail
cd "$(dirname "$0")/.."

folders=${FOLDERS:-1000}
big_prekeys=${BIG_PREKEYS:-10000}
out_dir=${OUT_DIR:-bench/results/$(date +%F)}
bin=${AUTHSTORE_BUILD_DIR:-build}/authstore
mkdir -p "$out_dir"
report=$out_dir/move-bench.txt
work=$(mktemp -d /tmp/authstore-move-bench-XXXXXX)
. scripts/lib/servers.sh
redis_pid=""
cleanup() {
  stop_pid "$redis_pid"
  rm -rf "$work"
}
trap cleanup EXIT

start_private_redis "$work"
port=$redis_port
url=$redis_url

python3 - "$work/src" "$folders" "$work/big" "$big_prekeys" <<'EOF'
import os, sys
src, n, big, big_n = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
fx = 'tests/fixtures/baileys-v7/'
read = lambda f: open(fx + f, 'rb').read()
creds = read('alice.creds.json')
prekey = read('alice.pre-key-1.json')
session = read('alice.session-222222222222222_1.0.json')
appkey = read('alice.app-state-sync-key-AAAAAFoc.json')
def folder(d, prekeys):
    os.makedirs(d)
    files = {'creds.json': creds}
    for i in range(1, prekeys + 1):
        files[f'pre-key-{i}.json'] = prekey
    for i in range(5):
        files[f'session-5511{i:07d}_1.{i}.json'] = session
    for i in range(2):
        files[f'app-state-sync-key-AAAAAF{i}c.json'] = appkey
    for name, data in files.items():
        with open(os.path.join(d, name), 'wb') as f:
            f.write(data)
for s in range(n):
    folder(os.path.join(src, f'bench{s:05d}'), 30)
folder(os.path.join(big, 'big'), big_n)
EOF

timed() { # timed NAME CMD...: runs CMD under /usr/bin/time -v
  local name=$1; shift
  /usr/bin/time -v -o "$work/$name.time" "$@" >"$work/$name.out" 2>"$work/$name.err"
  local wall rss
  wall=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$work/$name.time")
  rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$work/$name.time")
  printf '%-22s wall %-9s peak RSS %6d KiB  %s\n' "$name" "$wall" "$rss" \
    "$(grep -E 'sessions/s' "$work/$name.err" | tail -1)" | tee -a "$report"
}

{
  echo "move-bench $(date -u +%FT%TZ): $folders folders (creds, 30 pre-keys, 5 sessions, 2 app-state keys), big folder $big_prekeys pre-keys"
  echo "machine: $(nproc) cores, $(sed -n 's/model name\s*: //p' /proc/cpuinfo | head -1), $(awk '/MemTotal/ {print $2 " kB"}' /proc/meminfo); $(. /etc/os-release; echo "$PRETTY_NAME"); redis $(redis-server --version | awk '{print $3}')"
  echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)  (the machine is shared: compare ratios within this run)"
  echo "folder bytes: $(du -sb "$work/src" | cut -f1), files: $(find "$work/src" -type f | wc -l)"
} | tee "$report"

timed cp-r cp -r "$work/src" "$work/copy"
timed import "$bin" import --folders "$work/src" --redis "$url"
timed dump "$bin" dump --out "$work/dump.jsonl" --redis "$url"
timed dump-gzip "$bin" dump --gzip --out "$work/dump.jsonl.gz" --redis "$url"
echo "dump bytes: $(stat -c %s "$work/dump.jsonl") plain, $(stat -c %s "$work/dump.jsonl.gz") gzip" | tee -a "$report"
redis-cli -p "$port" flushall >/dev/null
timed restore "$bin" restore --in "$work/dump.jsonl" --redis "$url"
redis-cli -p "$port" flushall >/dev/null
timed restore-gzip "$bin" restore --in "$work/dump.jsonl.gz" --redis "$url"
# 10000 pre-keys plus creds and the other keys, with the default limits
# (codec.max-writes 100000 since 2026-12-07; the first run raised it).
timed import-big "$bin" import --folder "$work/big/big" --session big --redis "$url"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$report"
