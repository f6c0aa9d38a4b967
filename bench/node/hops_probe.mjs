// hops_probe.mjs -- where a one-at-a-time request's time goes (issue #14):
// sequential p50/p99 of raw undici requests that stop at successive depths
// of `authstore serve` (the HTTP layer alone, + bridge and router, + the
// session actor's cache, + Redis), and of the hook's keys.get on top; first
// the floor (the same client against a do-nothing HTTP server in another
// process), last saveCreds by depth.
// Env: AUTHSTORE_BENCH_API_URL, AUTHSTORE_SECRET (as run.sh sets them),
// AUTHSTORE_PROBE_N (default 3000). Run by bench/node/probe.sh.
// undici as the client resolves it (clients/node's own dependency).
import { Pool } from '../../clients/node/node_modules/undici/index.js'
import { useAuthstoreAuthState } from '@authstore/baileys'

const url = process.env.AUTHSTORE_BENCH_API_URL
const token = process.env.AUTHSTORE_SECRET
const N = Number(process.env.AUTHSTORE_PROBE_N ?? 3000)
const pool = new Pool(url, { connections: 1, pipelining: 1 })
const auth = { authorization: `Bearer ${token}` }
const sid = `probe-${process.pid}`

async function raw(method, path, body) {
  const headers = body === undefined ? auth : { ...auth, 'content-type': 'application/json' }
  const r = await pool.request({ method, path, headers, body })
  const text = await r.body.text()
  if (r.statusCode >= 300) throw new Error(`${method} ${path}: ${r.statusCode} ${text}`)
  return text
}

const pct = (s, p) => s[Math.min(s.length - 1, Math.floor(s.length * p))]
async function measure(name, fn) {
  for (let i = 0; i < Math.min(300, N); ++i) await fn(i)
  const samples = []
  for (let i = 0; i < N; ++i) {
    const t = process.hrtime.bigint()
    await fn(i)
    samples.push(Number(process.hrtime.bigint() - t) / 1000)
  }
  samples.sort((a, b) => a - b)
  console.log(`| ${name} | ${pct(samples, 0.5).toFixed(0)} | ${pct(samples, 0.99).toFixed(0)} |`)
}

const rec = (i) => ({ type: 'Buffer', data: Buffer.alloc(1500, i).toString('base64') })
const keys = {}
for (let i = 0; i < 20; ++i) keys[`${i}@s.whatsapp.net`] = rec(i)
await raw('POST', `/v1/sessions/${sid}/write`, JSON.stringify({ keys: { session: keys } }))
const h = await useAuthstoreAuthState({ url, token, sessionId: sid, lease: false })

console.log('| request (sequential, 1 connection) | p50 µs | p99 µs |')
console.log('|---|---|---|')
// The floor of any HTTP store on this machine: the same undici pool against
// a do-nothing node:http server in another process (it answers {"ok":true}
// at once), measured in this run.
{
  const { spawn } = await import('node:child_process')
  const child = spawn(process.execPath, ['-e', `
    const http = require('node:http')
    const s = http.createServer((q, r) => { q.resume(); q.on('end', () => r.end('{"ok":true}')) })
    s.listen(0, '127.0.0.1', () => console.log(s.address().port))`], { stdio: ['ignore', 'pipe', 'inherit'] })
  const port = await new Promise((resolve, reject) => {
    child.stdout.once('data', (d) => resolve(Number(String(d).trim())))
    child.once('exit', (c) => reject(new Error(`baseline server exited ${c}`)))
  })
  const floor = new Pool(`http://127.0.0.1:${port}`, { connections: 1, pipelining: 1 })
  await measure('baseline: undici -> do-nothing node:http server, another process', async () => {
    const r = await floor.request({ method: 'GET', path: '/', headers: auth })
    await r.body.text()
  })
  await floor.close()
  child.kill()
}
await measure('GET /v1/health (HTTP layer only)', () => raw('GET', '/v1/health'))
await measure('POST batch/creds of no session (+ bridge actor, router)', () =>
  raw('POST', '/v1/batch/creds', JSON.stringify({ sessions: [] })))
await measure('GET creds (+ router, session actor, cache)', () => raw('GET', `/v1/sessions/${sid}/creds`).catch(() => {}))
await measure('POST keys read 2 ids raw (session cache)', (i) =>
  raw('POST', `/v1/sessions/${sid}/keys/session/read`,
    JSON.stringify({ ids: [`${i % 20}@s.whatsapp.net`, `${(i + 7) % 20}@s.whatsapp.net`] })))
await measure('hook keys.get 2 ids (+ client codec)', (i) =>
  h.state.keys.get('session', [`${i % 20}@s.whatsapp.net`, `${(i + 7) % 20}@s.whatsapp.net`]))
await measure('GET exists raw (+ Redis round trip)', () => raw('GET', `/v1/sessions/${sid}/exists`))
await measure('POST write 1 small key raw (+ Redis write)', (i) =>
  raw('POST', `/v1/sessions/${sid}/write`, JSON.stringify({ keys: { 'pre-key': { [String(i % 50)]: { type: 'Buffer', data: 'AAAA' } } } })))
// saveCreds by depth: the client's encoding alone, the same body sent raw,
// then the hook (initAuthCreds()-shaped creds, one field changed per call,
// as hook_bench.mjs does).
const { initAuthCreds, BufferJSON } = await import('baileys')
const creds = initAuthCreds()
const credsBody = () => JSON.stringify({ creds }, BufferJSON.replacer)
await measure('saveCreds body encoding alone (JSON.stringify + BufferJSON.replacer)', (i) => {
  creds.nextPreKeyId = 101 + i
  credsBody()
})
await measure('POST write of that creds body raw (+ engine creds write)', (i) => {
  creds.nextPreKeyId = 101 + i
  return raw('POST', `/v1/sessions/${sid}/write`, credsBody())
})
// (the hook's own creds: initAuthCreds() too, the session had none)
await measure('hook saveCreds (+ client queue and patch building)', (i) => {
  h.state.creds.nextPreKeyId = 101 + i
  return h.saveCreds()
})
await h.close()
await pool.close()
