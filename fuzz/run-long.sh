#!/usr/bin/env bash
# run-long.sh -- one longer run of every fuzz target, one after the other, at
# the lowest CPU priority, and a table of what each did: executions, the
# coverage libFuzzer reports (cov: edges, ft: features), corpus size, and
# whether it found anything (the input is then in <build>/fuzz/artifacts/).
#
#   bash fuzz/run-long.sh [build-fuzz] [seconds per target, default 600]
#   TARGETS="crypto_fuzz http_api_fuzz" bash fuzz/run-long.sh   (only those)
#
# It runs from the same working corpus as the CTest runs
# (<build>/fuzz/corpus/<target>) and the committed seeds. Logs:
# <build>/fuzz/long/<target>.log. Exit status 1 when any target found a
# crash, a leak, a sanitizer report or a failed property.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build-fuzz}
seconds=${2:-600}
dir=$build/fuzz
mkdir -p "$dir/long"
# Every target (fuzz/<name>_fuzz.cpp is the target <name>_fuzz), or the ones
# named in TARGETS (space-separated).
if [ -n "${TARGETS:-}" ]; then
  read -r -a targets <<<"$TARGETS"
else
  targets=()
  for f in fuzz/*_fuzz.cpp; do targets+=("$(basename "$f" .cpp)"); done
fi
declare -A dicts=([codec_fuzz]=fuzz/dict/json.dict [patch_fuzz]=fuzz/dict/json.dict
                  [config_fuzz]=$dir/config.dict [redis_reply_fuzz]=fuzz/dict/resp.dict
                  [mongo_documents_fuzz]=fuzz/dict/bson.dict
                  [http_api_fuzz]=fuzz/dict/http.dict)
status=0
printf '%-22s %8s %12s %9s %7s %7s %9s  %s\n' target seconds executions exec/s cov ft corpus found
for t in "${targets[@]}"; do
  log=$dir/long/$t.log
  mkdir -p "$dir/corpus/$t" "$dir/artifacts/$t"
  args=(-max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048
        -print_final_stats=1 -artifact_prefix="$dir/artifacts/$t/")
  [ -n "${dicts[$t]:-}" ] && args+=(-dict="${dicts[$t]}")
  found=none
  if ! UBSAN_OPTIONS=print_stacktrace=1 nice -n 19 "$dir/$t" "${args[@]}" \
      "$dir/corpus/$t" "fuzz/corpus/$t" >"$log" 2>&1; then
    found=$(grep -m1 -oE 'ERROR: [A-Za-z]+: [a-z -]+|property failed: .*|runtime error: .*' "$log" || echo "exit $?")
    status=1
  fi
  last=$(grep -E '^#[0-9]+' "$log" | tail -n 1)
  cov=$(sed -nE 's/.* cov: ([0-9]+).*/\1/p' <<<"$last")
  ft=$(sed -nE 's/.* ft: ([0-9]+).*/\1/p' <<<"$last")
  corp=$(sed -nE 's/.* corp: ([0-9]+\/[0-9]+[a-zA-Z]*).*/\1/p' <<<"$last")
  execs=$(sed -nE 's/^stat::number_of_executed_units: *([0-9]+)/\1/p' "$log")
  rate=$(sed -nE 's/^stat::average_exec_per_sec: *([0-9]+)/\1/p' "$log")
  printf '%-22s %8s %12s %9s %7s %7s %9s  %s\n' "$t" "$seconds" "${execs:-?}" \
    "${rate:-?}" "${cov:-?}" "${ft:-?}" "${corp:-?}" "$found"
done
exit $status
