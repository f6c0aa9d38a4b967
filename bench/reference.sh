# bench/reference.sh -- sourced by the bench scripts that take issue #18's
# reference (run.sh, perf.sh, redis-cmdstats.sh, redis-script-stages.sh):
# the representative write of one set -- version, two ~300-byte fields, two
# dirty marks, TTL (bench/reference_write.lua) -- and the one argument list
# redis-benchmark calls it with, so every script measures the same thing.
#
#   . bench/reference.sh
#   reference_args "$(reference_load "$port")"   # sets the array evalsha
#   redis-benchmark -p "$port" -n 300000 -c 10 -P 16 -r 1000 "${evalsha[@]}"

# The two field values: 225 random bytes in base64 (300 bytes), drawn once
# per sourcing shell.
reference_value=$(head -c 225 /dev/urandom | base64 -w0)

# reference_load PORT: loads reference_write.lua into the redis-server on
# 127.0.0.1:PORT; prints its sha.
reference_load() {
  redis-cli -p "$1" script load "$(cat "$(dirname "${BASH_SOURCE[0]}")/reference_write.lua")"
}

# reference_args SHA: sets the array `evalsha` to the reference call of the
# script SHA (reference_write.lua, or another script given the same
# arguments), keys spread by redis-benchmark's -r.
reference_args() {
  evalsha=(evalsha "$1" 3 "m:{__rand_int__}" "k:{__rand_int__}" "o:{__rand_int__}"
           f1 f2 "$reference_value" "$reference_value" 99999999999999)
}
