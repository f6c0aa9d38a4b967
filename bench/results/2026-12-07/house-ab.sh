#!/usr/bin/env bash
# Interleaved A/B: base (pre-house 5920967) vs house (f1cf20e), same redis, alternating.
set -u
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
redis-server --port $port --bind 127.0.0.1 --save '' --appendonly no --dir /tmp/ab --logfile /tmp/ab/redis.log &
rp=$!
for _ in $(seq 1 100); do redis-cli -p $port ping >/dev/null 2>&1 && break; sleep 0.05; done
url=redis://127.0.0.1:$port/0
for round in 1 2 3 4; do
  for t in base house; do
    b=/work/wt-$t/build
    redis-cli -p $port flushall >/dev/null
    $b/bench/latency_bench --redis $url --n 5000 --idle-sessions 0 > /tmp/ab/lat_${t}_$round.json 2>/dev/null
    redis-cli -p $port flushall >/dev/null
    $b/authstore sim --redis $url --sessions 100 --concurrency 100 --ops 60000 --read-ratio 0 --seed 42 --quiet --json /tmp/ab/sim_${t}_$round.json > /dev/null 2>&1
    echo "$round $t $(uptime | sed 's/.*load average: //')"
  done
done
kill $rp; wait $rp
