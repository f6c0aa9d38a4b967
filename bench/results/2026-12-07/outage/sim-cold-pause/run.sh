set -u
for b in before after; do
  /tmp/B-$([ $b = before ] && echo base || echo after)/authstore sim --cold-server postgresql --sessions 1000 --concurrency 64 --duration 30 --seed 7 --fault cold-pause@5:20 --quiet --json /tmp/B-sim/$b.json > /tmp/B-sim/$b.txt 2>&1
  echo "$b rc $? $(date -u +%T) load $(cut -d' ' -f1 /proc/loadavg)"
done
