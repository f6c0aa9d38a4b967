#!/usr/bin/env bash
# bench/pg/run.sh -- pg_store's persist throughput against PostgreSQL's own
# limit on this machine, in one run, against one private PostgreSQL 15,
# and writes bench/results/<date>/PG-PERSIST.md (+ the raw outputs).
#
# Server: bench/pg/server.sh (initdb into a temp dir, as the postgres user
# when run as root; a free loopback port, its own socket dir, durable
# settings: fsync = on, synchronous_commit = on, full_page_writes = on, the
# defaults spelled out). Stopped by pid (SIGINT, fast shutdown) at exit.
#
# Limit: pgbench -n -c 8 -T 10 -f bench/pg/upsert.sql (a transaction shaped
# like one persist; see its header), and the same transaction in one
# pipeline (upsert-pipelined.sql, -M prepared -j 2), which sends it in one
# round trip as the store does; -c 1 for the single-connection case.
# Store: bench/pg/persist_bench.cpp (8 threads x 8 connections, and 1 x 1;
# pipelined and not): the traffic model's writes, and upsert.sql's exact
# shape (--shape fixed) for the like-for-like ratio; the same tables.
# The runs alternate pgbench and the store ROUNDS times (default 2), so
# drift (table growth, checkpoints) hits both alike. About 3 minutes.
set -euo pipefail
cd "$(dirname "$0")/../.."
rounds=${ROUNDS:-2}
seconds=${SECONDS_PER_RUN:-10}
bash scripts/install-deps.sh >/dev/null
build_dir=$(bash scripts/build.sh --target pg_persist_bench | tail -n 1)
bench=$build_dir/bench/pg_persist_bench
stamp=$(date -u +%Y-%m-%d)
out=bench/results/$stamp
mkdir -p "$out"
. bench/pg/server.sh
trap pg_server_stop EXIT
pg_server_start
bin=$pg_bin
raw=$pg_raw
port=$pg_port
uri=$pg_uri
"$bench" --uri "$uri" --schema bench --init-only

pgb() { # label, pgbench args... (the script included)
  local label=$1
  shift
  pgbench -h 127.0.0.1 -p "$port" -U postgres -n -T "$seconds" "$@" \
    postgres >"$raw/$label.txt" 2>&1 \
    || { cat "$raw/$label.txt" >&2; return 1; }
  grep -oP 'tps = \K[0-9.]+(?= \(without initial connection time\))' "$raw/$label.txt"
}
store() { # label, persist_bench args...
  local label=$1
  shift
  "$bench" --uri "$uri" --schema bench --seconds "$seconds" "$@" >"$raw/$label.json" \
    || { cat "$raw/$label.json" >&2; return 1; }
  python3 -c 'import json,sys; print(round(json.load(open(sys.argv[1]))["persists_per_s"], 1))' "$raw/$label.json"
}

declare -A r
plain=(-f bench/pg/upsert.sql)
piped=(-M prepared -f bench/pg/upsert-pipelined.sql)
for round in $(seq 1 "$rounds"); do
  echo "bench/pg: round $round of $rounds" >&2
  r[pgb_c8_$round]=$(pgb "pgbench-c8-r$round" -c 8 "${plain[@]}")
  r[store_model_$round]=$(store "store-model-t8-r$round" --threads 8)
  r[pgbp_c8_$round]=$(pgb "pgbench-pipelined-c8-j2-r$round" -c 8 -j 2 "${piped[@]}")
  r[store_fixed_$round]=$(store "store-fixed-t8-r$round" --threads 8 --shape fixed)
  r[store_fixed_np_$round]=$(store "store-fixed-t8-nopipe-r$round" --threads 8 --shape fixed --no-pipeline)
  r[pgbp_c1_$round]=$(pgb "pgbench-pipelined-c1-r$round" -c 1 "${piped[@]}")
  r[store_fixed_t1_$round]=$(store "store-fixed-t1-r$round" --threads 1 --shape fixed)
  r[store_fixed_t1_np_$round]=$(store "store-fixed-t1-nopipe-r$round" --threads 1 --shape fixed --no-pipeline)
done
fsync_rate=$(cd "$raw" && { "$bin/pg_test_fsync" -s 1 -f "$raw/fsync.test" 2>/dev/null || true; } \
  | grep -m1 -oP 'fdatasync\s+\K[0-9.,]+(?= ops/sec)' || true)
fsync_rate=${fsync_rate:-?}

cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')
pgver=$("$bin/postgres" --version)
fs=$(df -T "$raw" | awk 'NR==2 {print $2}')
ratio() { python3 -c "print(f'{100*float(\"$1\")/float(\"$2\"):.0f} %')"; }
cp "$raw"/*.txt "$raw"/*.json "$out/" 2>/dev/null || true
for f in "$out"/pgbench-*.txt "$out"/store-*.json; do mv "$f" "$(dirname "$f")/pg-$(basename "$f")"; done
model=$(python3 - "$out/pg-store-model-t8-r1.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
print(f"{d['fields_per_persist']:.2f} field rows and {d['value_bytes_per_persist']:.0f} "
      f"value bytes per persist; p50 {d['p50_us']:.0f} us, p99 {d['p99_us']:.0f} us")
PY
)

{
  echo "# PostgreSQL persist throughput, $(date -u '+%Y-%m-%d %H:%M') UTC"
  echo
  echo "Machine: $(nproc) cores, $cpu, Linux $(uname -r); $pgver; data dir on $fs; \`pg_test_fsync\` fdatasync: $fsync_rate ops/s. Everything on loopback."
  echo "Server: private, \`fsync = on\`, \`synchronous_commit = on\`, \`full_page_writes = on\`, \`shared_buffers = 128MB\`."
  echo "Method: \`bash bench/pg/run.sh\` (see its header): ${seconds} s per run, ${rounds} rounds alternating pgbench and the store on the same tables."
  echo "Limit: \`pgbench -n -c 8 -T $seconds -f bench/pg/upsert.sql\` (one transaction shaped like a persist: two field rows in one guarded multi-row upsert, 1495 B + 127 B, then the watermark; simple protocol, one round trip per statement), and the same transaction pipelined (\`upsert-pipelined.sql\`, \`-M prepared -j 2\`: one round trip, as the store sends it)."
  echo "Store: \`pg_persist_bench\` driving \`pg_store::persist\` (one transaction per persist): the Baileys traffic model's writes ($model; 8 threads, round 1), and upsert.sql's exact shape (\`--shape fixed\`)."
  echo
  echo "| run | round | transactions/s | vs. the exact command | vs. pgbench pipelined |"
  echo "|---|---:|---:|---:|---:|"
  for round in $(seq 1 "$rounds"); do
    base=${r[pgb_c8_$round]}
    best=${r[pgbp_c8_$round]}
    row() { echo "| $1 | $round | $2 | $(ratio "$2" "$base") | $(ratio "$2" "$best") |"; }
    row "\`pgbench -n -c 8 -T $seconds -f upsert.sql\` (the exact command)" "$base"
    row "pgbench -c 8 -j 2 -M prepared, upsert-pipelined.sql" "$best"
    row "store, 8 threads x 8 connections, traffic model" "${r[store_model_$round]}"
    row "store, 8 x 8, upsert.sql's shape" "${r[store_fixed_$round]}"
    row "store, 8 x 8, upsert.sql's shape, one round trip per statement" "${r[store_fixed_np_$round]}"
    one=${r[pgbp_c1_$round]}
    echo "| pgbench -c 1 -M prepared, upsert-pipelined.sql | $round | $one | | 100 % (of -c 1) |"
    echo "| store, 1 thread x 1 connection, upsert.sql's shape | $round | ${r[store_fixed_t1_$round]} | | $(ratio "${r[store_fixed_t1_$round]}" "$one") (of -c 1) |"
    echo "| store, 1 x 1, upsert.sql's shape, one round trip per statement | $round | ${r[store_fixed_t1_np_$round]} | | $(ratio "${r[store_fixed_t1_np_$round]}" "$one") (of -c 1) |"
  done
  echo
  echo "Raw outputs: \`pg-pgbench-*.txt\`, \`pg-store-*.json\` beside this file."
} >"$out/PG-PERSIST.md"
cat "$out/PG-PERSIST.md"
