// hook_bench.mjs -- issue #14's hook-level benchmark: what a Baileys process
// sees from its auth-state hook, for three stores on one machine and one
// redis-server, side by side in one run:
//   authstore   @authstore/baileys useAuthstoreAuthState (HTTP keep-alive,
//               undici) against `authstore serve --api.port`
//   multifile   Baileys' own useMultiFileAuthState, folders on tmpfs
//               (/dev/shm)
//   storecore   @luoarch/baileys-store-core@1.0.0-rc.4 useRedisAuthState
//               with its defaults (no encryption, no compression), on the
//               same redis-server
// Operations: saveCreds (creds changed in place, as Baileys does),
// keys.set of 10 pre-keys, keys.get of 2 `session` records. Each once at
// a time on one session (latency p50/p99), and with 64 in flight (64
// sessions in one process, one operation in flight on each: a process
// serving 64 accounts), giving latency and throughput.
//
// Usage (bench/node/README.md): node hook_bench.mjs with
//   AUTHSTORE_BENCH_API_URL, AUTHSTORE_SECRET   the authstore API
//   AUTHSTORE_BENCH_REDIS_URL                   the redis-server both use
//   AUTHSTORE_BENCH_ITERATIONS (default 2000)   per op and mode
//   AUTHSTORE_BENCH_STORES (default all three)  e.g. authstore,multifile
// store-core prints a console.debug line per call (hard-coded, not an
// option); the bench silences console.debug so that its numbers measure the
// store, not the terminal (this favours store-core, never authstore).
import { mkdtempSync, rmSync } from 'node:fs'
import { cpus, loadavg } from 'node:os'
import { join } from 'node:path'
import { useMultiFileAuthState } from 'baileys'
import { useAuthstoreAuthState } from '@authstore/baileys'
import { useRedisAuthState } from '@luoarch/baileys-store-core/redis'
import { Redis } from 'ioredis'

console.debug = () => {}
const API_URL = process.env.AUTHSTORE_BENCH_API_URL
const TOKEN = process.env.AUTHSTORE_SECRET
const REDIS_URL = process.env.AUTHSTORE_BENCH_REDIS_URL
const N = Number(process.env.AUTHSTORE_BENCH_ITERATIONS ?? 2000)
const IN_FLIGHT = 64
if (!API_URL || !REDIS_URL) {
  console.error('set AUTHSTORE_BENCH_API_URL, AUTHSTORE_SECRET and AUTHSTORE_BENCH_REDIS_URL')
  process.exit(2)
}
const run = `hb-${process.pid}-${Date.now()}`

// Value shapes as Baileys stores them: a pre-key is a key pair of two
// 32-byte Buffers; a Signal session record is a few kB (1.5 kB here).
const keyPair = (i) => ({ public: Buffer.alloc(32, i & 255), private: Buffer.alloc(32, (i + 1) & 255) })
const sessionRecord = (i) => ({ _sessions: { [`s${i}`]: { blob: Buffer.alloc(1536, i & 255) } }, version: 'v1' })

const stores = {
  async authstore(sid) {
    return useAuthstoreAuthState({ url: API_URL, token: TOKEN, sessionId: sid, lease: false, connections: 64 })
  },
  async multifile(sid) {
    const dir = mkdtempSync(join('/dev/shm', `${sid}-`))
    const h = await useMultiFileAuthState(dir)
    return { ...h, close: async () => rmSync(dir, { recursive: true, force: true }) }
  },
  async storecore(sid) {
    const h = await useRedisAuthState({ sessionId: sid, redis: { redisUrl: REDIS_URL } })
    return { ...h, close: async () => { await h.store.delete(sid); await h.store.disconnect() } }
  }
}

/// One open session with its seed data: creds saved, 100 pre-keys and 20
/// session records (store-core keeps them all in one blob, as a real
/// account does).
async function openSeeded(store, sid) {
  const h = await stores[store](sid)
  await h.saveCreds()
  const preKeys = {}
  for (let i = 1; i <= 100; ++i) preKeys[i] = keyPair(i)
  const sessions = {}
  for (let i = 0; i < 20; ++i) sessions[`${i}@s.whatsapp.net`] = sessionRecord(i)
  await h.state.keys.set({ 'pre-key': preKeys, session: sessions })
  if (h.flush) await h.flush()
  return h
}

const ops = {
  saveCreds: (h, i) => {
    h.state.creds.nextPreKeyId = 101 + i
    return h.saveCreds()
  },
  'keys.set 10 pre-keys': (h, i) => {
    const data = {}
    for (let k = 0; k < 10; ++k) data[1000 + ((i * 10 + k) % 5000)] = keyPair(k)
    return h.state.keys.set({ 'pre-key': data })
  },
  'keys.get 2 sessions': async (h, i) => {
    const a = `${i % 20}@s.whatsapp.net`
    const b = `${(i + 7) % 20}@s.whatsapp.net`
    const got = await h.state.keys.get('session', [a, b])
    if (!got[a] || !got[b]) throw new Error('a seeded session record was not read back')
  }
}

const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]
const us = (ns) => Number(ns) / 1000

async function timed(fn) {
  const t = process.hrtime.bigint()
  await fn()
  return process.hrtime.bigint() - t
}

function summary(samples, wallNs) {
  const s = samples.map(us).sort((a, b) => a - b)
  return { p50_us: Math.round(pct(s, 0.5)), p99_us: Math.round(pct(s, 0.99)), ops_per_s: Math.round(samples.length / (Number(wallNs) / 1e9)) }
}

async function sequential(h, op) {
  for (let i = 0; i < Math.min(200, N); ++i) await ops[op](h, i) // warm-up
  const samples = []
  const t0 = process.hrtime.bigint()
  for (let i = 0; i < N; ++i) samples.push(await timed(() => ops[op](h, i)))
  return summary(samples, process.hrtime.bigint() - t0)
}

async function parallel(handles, op) {
  const per = Math.max(4, Math.ceil(N / IN_FLIGHT))
  for (const h of handles) await ops[op](h, 0) // warm-up
  const samples = []
  const t0 = process.hrtime.bigint()
  await Promise.all(handles.map(async (h, w) => {
    for (let i = 0; i < per; ++i) samples.push(await timed(() => ops[op](h, w * per + i)))
  }))
  return summary(samples, process.hrtime.bigint() - t0)
}

// Each store's sessions are opened and seeded once (one for the
// sequential runs, 64 for the in-flight runs) and used by every op; each
// result is printed as soon as it is measured.
const results = []
console.log('| op | mode | store | p50 µs | p99 µs | ops/s |')
console.log('|---|---|---|---|---|---|')
const only = (process.env.AUTHSTORE_BENCH_STORES ?? '').split(',').filter(Boolean)
for (const s of only) {
  if (!stores[s]) {
    console.error(`AUTHSTORE_BENCH_STORES: unknown store '${s}' (known: ${Object.keys(stores).join(', ')})`)
    process.exit(2)
  }
}
for (const store of Object.keys(stores).filter((s) => !only.length || only.includes(s))) {
  const one = await openSeeded(store, `${run}-${store}-seq`)
  const many = []
  for (let w = 0; w < IN_FLIGHT; ++w) many.push(await openSeeded(store, `${run}-${store}-par${w}`))
  for (const op of Object.keys(ops)) {
    for (const [mode, measure] of [['sequential', () => sequential(one, op)], [`${IN_FLIGHT} in flight`, () => parallel(many, op)]]) {
      const r = { op, mode, store, ...(await measure()) }
      results.push(r)
      console.log(`| ${r.op} | ${r.mode} | ${r.store} | ${r.p50_us} | ${r.p99_us} | ${r.ops_per_s} |`)
    }
  }
  for (const h of [one, ...many]) await h.close()
}

// authstore's sessions from this run (store-core's delete themselves,
// multifile's folders are removed).
const redis = new Redis(REDIS_URL)
let cursor = '0'
do {
  const [next, keys] = await redis.scan(cursor, 'MATCH', `as:{${run}-*`, 'COUNT', 1000)
  if (keys.length) await redis.del(...keys)
  cursor = next
} while (cursor !== '0')
await redis.quit()

console.log(`\n# hook_bench: node ${process.version}, ${cpus().length} x ${cpus()[0]?.model}, load at end ${loadavg().map((x) => x.toFixed(2)).join(' ')}, N=${N} sequential, ${Math.max(4, Math.ceil(N / IN_FLIGHT))} x ${IN_FLIGHT} in flight`)
const by = (op, mode, store) => results.find((r) => r.op === op && r.mode === mode && r.store === store)
console.log('\n# targets (authstore vs storecore, vs multifile)')
for (const op of Object.keys(ops)) {
  for (const mode of ['sequential', `${IN_FLIGHT} in flight`]) {
    const a = by(op, mode, 'authstore'); const c = by(op, mode, 'storecore'); const f = by(op, mode, 'multifile')
    if (!a) continue
    const parts = [`${op}, ${mode}:`]
    if (c) parts.push(`p50 ${(c.p50_us / a.p50_us).toFixed(1)}x, p99 ${(c.p99_us / a.p99_us).toFixed(1)}x faster than storecore; throughput ${(a.ops_per_s / c.ops_per_s).toFixed(1)}x;`)
    if (f) parts.push(`vs multifile p50 ${(f.p50_us / a.p50_us).toFixed(2)}x, p99 ${(f.p99_us / a.p99_us).toFixed(2)}x`)
    console.log(parts.join(' '))
  }
}
console.log(JSON.stringify(results))
