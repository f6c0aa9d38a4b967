// node_client_bench.mjs -- what the Node client (clients/node) costs on top
// of the HTTP round trip, and undici against the built-in fetch.
//
// Method: the server is clients/node/test/fake-server.js (an in-memory
// implementation of the HTTP API contract, NOT authstore) in a child process
// on loopback, so its cost is the same for every variant and what differs is
// the client. Latency: WARMUP untimed round trips per variant, then N timed
// ones, one at a time, interleaved across the variants in ROUNDS rounds
// (p50, p99 of the sorted samples). Throughput: N requests from CONCURRENCY
// callers at once, per variant.
// Variants: fetch POST, undici Pool POST (the client's transport without
// anything around it), the client's keys.set (one session's writes are
// serialized, so the concurrent run uses CONCURRENCY sessions), keys.get.
// The body is the one keys.set sends for one 32-byte session record.
// Absolute numbers depend on the machine's load: compare the ratios within
// one run. Prints the method, the machine and the node version first.
//
// Run: (cd clients/node && npm ci) && node bench/node_client_bench.mjs [N]
import { fork } from 'node:child_process'
import { createRequire } from 'node:module'
import os from 'node:os'
import { performance } from 'node:perf_hooks'

const clientDir = new URL('../clients/node/', import.meta.url)
const N = Number(process.argv[2] ?? 3000)
const WARMUP = 300
const CONCURRENCY = 16
// Latency rounds: see latencies().
const ROUNDS = 10

if (process.argv[2] === '--serve') {
  const { startFakeServer } = await import(new URL('test/fake-server.js', clientDir))
  const fake = await startFakeServer({})
  process.send(fake.url)
} else {
  await main()
}

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]
}

// Latency of every variant, interleaved: ROUNDS rounds, each running N /
// ROUNDS sequential round trips of every variant in turn, so a burst of load
// from elsewhere on the machine hits all variants alike.
async function latencies(variants) {
  const samples = variants.map(() => [])
  for (const [, once] of variants) {
    for (let i = 0; i < WARMUP; ++i) await once(i)
  }
  for (let round = 0; round < ROUNDS; ++round) {
    for (const [v, [, once]] of variants.entries()) {
      for (let i = 0; i < N / ROUNDS; ++i) {
        const t = performance.now()
        await once(i)
        samples[v].push((performance.now() - t) * 1000)
      }
    }
  }
  return samples.map((list) => {
    list.sort((a, b) => a - b)
    return { p50_us: Math.round(percentile(list, 0.5)), p99_us: Math.round(percentile(list, 0.99)) }
  })
}

async function throughput(onceFor) {
  let next = 0
  const t = performance.now()
  await Promise.all(Array.from({ length: CONCURRENCY }, async (_, c) => {
    const once = onceFor(c)
    while (next < N) {
      ++next
      await once(next)
    }
  }))
  return Math.round(N / ((performance.now() - t) / 1000))
}

async function main() {
  const require = createRequire(new URL('package.json', clientDir))
  const { Pool } = require('undici')
  const { useAuthstoreAuthState } = await import(new URL('src/index.js', clientDir))
  const server = fork(new URL(import.meta.url).pathname, ['--serve'], { stdio: 'inherit' })
  try {
    await measure(Pool, useAuthstoreAuthState, await new Promise((resolve) => server.once('message', resolve)))
  } finally {
    server.kill()
  }
}

async function measure(Pool, useAuthstoreAuthState, url) {

  console.log(`method: sequential round trips (p50/p99 of ${N} after ${WARMUP} warm-up, interleaved in ${ROUNDS} rounds), then ${N} requests from ${CONCURRENCY} concurrent callers; server: the contract fake (node:http, child process, loopback)`)
  console.log(`machine: ${os.cpus().length} x ${os.cpus()[0].model}, load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}; node ${process.version}`)

  const record = Buffer.alloc(32, 7).toString('base64')
  const body = (i) => `{"keys":{"session":{"k${i % 8}":{"type":"Buffer","data":"${record}"}}}}`
  const pool = new Pool(url, { connections: 16, pipelining: 1 })
  const rawPost = (sid) => async (i) => {
    const r = await pool.request({ method: 'POST', path: `/v1/sessions/${sid}/write`, body: body(i),
      headers: { 'content-type': 'application/json' } })
    await r.body.text()
  }
  const fetchPost = (sid) => async (i) => {
    const r = await fetch(`${url}/v1/sessions/${sid}/write`, { method: 'POST', body: body(i),
      headers: { 'content-type': 'application/json' } })
    await r.text()
  }
  const open = async (lease) => {
    const out = []
    for (let c = 0; c < CONCURRENCY; ++c) {
      out.push(await useAuthstoreAuthState({ url, sessionId: `bench-${lease}-${c}`, lease }))
    }
    return out
  }
  const leased = await open(true)
  const unleased = await open(false)
  const value = Buffer.alloc(32, 7)
  const clientSet = (h) => (i) => h.state.keys.set({ session: { [`k${i % 8}`]: value } })
  const clientGet = (h) => (i) => h.state.keys.get('session', [`k${i % 8}`])

  const variants = [
    ['fetch POST /write', (c) => fetchPost(`raw-${c}`)],
    ['undici Pool POST /write', (c) => rawPost(`raw-${c}`)],
    ['client keys.set, lease: false', (c) => clientSet(unleased[c])],
    ['client keys.set, with lease', (c) => clientSet(leased[c])],
    ['client keys.get', (c) => clientGet(leased[c])]
  ]
  const lat = await latencies(variants.map(([name, onceFor]) => [name, onceFor(0)]))
  const rows = []
  for (const [v, [name, onceFor]] of variants.entries()) {
    rows.push({ name, ...lat[v], ops_per_s: await throughput(onceFor) })
  }
  console.table(rows)

  for (const h of [...leased, ...unleased]) await h.close()
  await pool.close()
}
