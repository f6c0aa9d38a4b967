#!/bin/bash
# bench/redis-script-stages.sh [BUILD_DIR] [ROUNDS] -- where apply_patch's
# time inside Redis goes (issue #18), stage by stage, beside the reference
# script, on one private redis-server in one run.
#
# Method: the exact apply_patch text the build embeds (BUILD_DIR/generated/
# redis_scripts.cpp, includes expanded) is cut after successive top-level
# statements, each prefix ending in `return {1}`, and every prefix is
# replayed by redis-benchmark (-c 10 -P 16 -r 1000, as the reference) with
# the arguments the session actor sends for the sim's typical write: 8 KEYS,
# no lease, a node with cluster.enabled off (so the owner check runs), one
# key field of ~1.1 kB (captured with MONITOR from `authstore sim`; 3 of 4
# sim writes are one field). usec_per_call of EVALSHA from INFO
# commandstats; each variant ROUNDS times (default 3), interleaved, median
# printed. The difference between two lines is the cost of the statements
# between them, nested redis.call()s included.
set -euo pipefail
B=${1:-build}
R=${2:-3}
N=${AUTHSTORE_STAGES_CALLS:-100000}
cd "$(dirname "$0")/.."
. scripts/lib/servers.sh
gen=$B/generated/redis_scripts.cpp
[ -f "$gen" ] || { echo "redis-script-stages: $gen not found (build first)" >&2; exit 1; }
d=$(mktemp -d)
start_private_redis "$d"
p=$redis_port
trap 'stop_pid $redis_pid; rm -rf $d' EXIT

python3 - "$gen" "$d" <<'EOF'
import re, sys
src = open(sys.argv[1]).read()
m = re.search(r'apply_patch_lua = R"authstore_lua\((.*?)\)authstore_lua"', src, re.S)
if not m:
    sys.exit("redis-script-stages: apply_patch not found in " + sys.argv[1])
full = m.group(1)
lines = full.split('\n')
# (file, label, the line the prefix stops before; None = the whole script)
stages = [
    ('s1', 'includes: local functions and constants', 'local n = #ARGV - 2'),
    ('s2', '+ optional triples, lease check (no lease: no call)', 'if owner_fenced('),
    ('s3', '+ owner check (HMGET as:{S}:own)', 'local meta = traced_meta('),
    ('s4', '+ meta read (HMGET as:{S}:m)', 'if not meta then return UNTRACED end'),
    ('s5', '+ condition, field validation loop', 'local v = cur + 1'),
    ('s6', '+ version, grouping loop (tables, string.sub)', "chunked_call('HDEL', KEYS[2]"),
    ('s7', '+ HDEL/HSET of the fields (one HSET here)', "redis.call('HSET', KEYS[1], 'v', v)"),
]
for name, label, stop in stages:
    cut = next((i for i, l in enumerate(lines) if l.startswith(stop)), None)
    if cut is None:
        sys.exit(f"redis-script-stages: '{stop}' not found in apply_patch (the script changed: update the stages)")
    open(f"{sys.argv[2]}/{name}.lua", 'w').write('\n'.join(lines[:cut]) + '\nreturn {1}\n')
    open(f"{sys.argv[2]}/{name}.label", 'w').write(label)
open(f"{sys.argv[2]}/s8.lua", 'w').write(full)
open(f"{sys.argv[2]}/s8.label", 'w').write('+ version HSET, TTL branch, reply = apply_patch as shipped')
open(f"{sys.argv[2]}/s0.lua", 'w').write('#!lua\nreturn {1}\n')
open(f"{sys.argv[2]}/s0.label", 'w').write('an empty script, same 21 arguments')
EOF
cp bench/reference_write.lua "$d/ref.lua"
echo "the reference (bench/reference_write.lua, 3 KEYS + 5 ARGV)" > "$d/ref.label"
printf '#!lua\nreturn {1}\n' > "$d/ref0.lua"
echo "an empty script, the reference's 8 arguments" > "$d/ref0.label"

val=$(python3 -c "print('{\"_sessions\":' + 'x' * 1080 + '}')")
. bench/reference.sh
replay() { # variant -> usec_per_call
  local sha
  sha=$(redis-cli -p $p script load "$(cat "$d/$1.lua")")
  redis-cli -p $p flushall >/dev/null
  redis-cli -p $p config resetstat >/dev/null
  if [ "${1#ref}" != "$1" ]; then
    reference_args "$sha"
    redis-benchmark -p $p -n $N -c 10 -P 16 -r 1000 -q "${evalsha[@]}" >/dev/null
  else
    redis-benchmark -p $p -n $N -c 10 -P 16 -r 1000 -q evalsha "$sha" 8 \
      "as:{s__rand_int__}:m" "as:{s__rand_int__}:c" "as:{s__rand_int__}:k" "as:{s__rand_int__}:o" \
      as:dirty as:dirty:fields "as:{s__rand_int__}:cl" "as:{s__rand_int__}:own" \
      "" 0 1796664920301 "s__rand_int__" 0 0 s "k:session/5511988861621.0" "$val" "" 0 >/dev/null
  fi
  redis-cli -p $p info commandstats | tr -d '\r' \
    | sed -n 's/^cmdstat_evalsha:.*usec_per_call=\([0-9.]*\).*/\1/p'
}
variants="ref0 ref s0 s1 s2 s3 s4 s5 s6 s7 s8"
for r in $(seq 1 "$R"); do
  for v in $variants; do replay $v >> "$d/$v.runs"; done
done
echo "# redis-script-stages: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), load $(cut -d' ' -f1-3 /proc/loadavg), $(redis-server --version | grep -o 'v=[0-9.]*'), $N calls x $R rounds per variant, build $B"
echo "| variant | usec/EVALSHA inside Redis (median of $R) | runs |"
echo "|---|---:|---|"
for v in $variants; do
  med=$(sort -n "$d/$v.runs" | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
  echo "| $(cat "$d/$v.label") | $med | $(tr '\n' ' ' < "$d/$v.runs")|"
done
