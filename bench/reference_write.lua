-- The issue #18 reference: the representative write of one set -- version,
-- two ~300-byte fields, two dirty marks, TTL -- run by redis-benchmark
-- (EVALSHA, 3 keys, ARGV: two field names, two values, an expiry) beside
-- the engine in bench/run.sh, bench/perf.sh and bench/redis-cmdstats.sh.
local v = redis.call("HINCRBY", KEYS[1], "v", 1)
redis.call("HSET", KEYS[2], ARGV[1], ARGV[3], ARGV[2], ARGV[4])
redis.call("HSET", KEYS[3], ARGV[1], v, ARGV[2], v)
redis.call("PEXPIREAT", KEYS[2], ARGV[5])
return v
