// Retries: bounded, and only for requests that cannot have been applied
// (429/503 with may_have_applied false, a refused connection; reads also
// after a broken connection). The fake counts the requests it received.
import assert from 'node:assert/strict'
import { setTimeout as sleep } from 'node:timers/promises'
import { after, afterEach, before, describe, test } from 'node:test'
import { backoffMs, CAP_MS } from '../src/backoff.js'
import { startFakeServer } from './fake-server.js'
import { TOKEN, freePort, open } from './helpers.js'

let fake
before(async () => { fake = await startFakeServer({ token: TOKEN }) })
after(async () => { await fake.close() })
afterEach(() => fake.clearFailures())

const route = (name, sid) => (e) => e.route === name && e.sid === sid

// Opens `sid`, arms `spec` on its writes, sends one write; resolves to the
// write's outcome and how many write requests the fake saw for it.
async function writeWith(sid, spec, extra = {}) {
  const s = await open(fake, sid, extra)
  fake.failNext({ match: route('write', sid), ...spec })
  const before = fake.count(route('write', sid))
  let outcome
  try {
    outcome = { ok: await s.state.keys.set({ session: { k: Buffer.from('v') } }) }
  } catch (err) {
    outcome = { err }
  }
  const requests = fake.count(route('write', sid)) - before
  await s.close()
  return { ...outcome, requests }
}

describe('retried: nothing can have been applied', () => {
  test('a write answered 503 with may_have_applied false, twice, then applied once', async () => {
    const r = await writeWith('w503', { status: 503, error: 'hot_unavailable', mayHaveApplied: false, count: 2 })
    assert.equal(r.err, undefined)
    assert.equal(r.requests, 3)
    assert.equal(fake.applied.filter((w) => w.sid === 'w503').length, 1)
  })

  test('a write answered 429 overloaded is retried', async () => {
    const r = await writeWith('w429', { status: 429, error: 'overloaded', count: 1 })
    assert.equal(r.err, undefined)
    assert.equal(r.requests, 2)
  })

  test('a read answered 503 cold_unavailable is retried', async () => {
    const s = await open(fake, 'r503')
    fake.failNext({ match: route('read', 'r503'), status: 503, error: 'cold_unavailable', count: 2 })
    await s.state.keys.get('session', ['x'])
    assert.equal(fake.count(route('read', 'r503')), 3)
    await s.close()
  })

  test('a read whose connection was reset is retried (a read changes nothing)', async () => {
    const s = await open(fake, 'rreset')
    fake.failNext({ match: route('read', 'rreset'), mode: 'reset', count: 1 })
    assert.deepEqual(await s.state.keys.get('session', ['x']), { x: null })
    assert.equal(fake.count(route('read', 'rreset')), 2)
    await s.close()
  })

  test('issue #19 - a write answered 503 not_owner (the session changing owner node) is retried, and the client lease stays', async () => {
    const lost = []
    const r = await writeWith('wnotowner', { status: 503, error: 'not_owner', mayHaveApplied: false, count: 2 },
      { onLeaseLost: (e) => lost.push(e) })
    assert.equal(r.err, undefined)
    assert.equal(r.requests, 3)
    assert.equal(fake.applied.filter((w) => w.sid === 'wnotowner').length, 1)
    assert.deepEqual(lost, [], 'not_owner is about nodes, not this client\'s lease')
  })

  test('issue #19 - not_owner past the retries: the error says not_owner, retryable, and the client lease stays', async () => {
    const lost = []
    const r = await writeWith('wnotowner2', { status: 503, error: 'not_owner', mayHaveApplied: false, count: 100 },
      { retries: 1, onLeaseLost: (e) => lost.push(e) })
    assert.equal(r.err.code, 'not_owner')
    assert.equal(r.err.retryable, true)
    assert.equal(r.err.mayHaveApplied, false)
    assert.equal(r.requests, 2)
    assert.deepEqual(lost, [])
  })

  test('a refused connection is retried until the server is there', async () => {
    const port = await freePort()
    const opening = open({ url: `http://127.0.0.1:${port}` }, 'late', { retries: 10 })
    await sleep(150)
    const late = await startFakeServer({ token: TOKEN, port })
    try {
      const s = await opening
      assert.equal(late.count('lease'), 1)
      await s.close()
    } finally {
      await late.close()
    }
  })
})

describe('not retried: the request may have been applied, or retrying cannot help', () => {
  test('a write answered 503 with may_have_applied true (sent, outcome unknown)', async () => {
    const r = await writeWith('w503m', { status: 503, error: 'hot_unavailable', mayHaveApplied: true, apply: true })
    assert.equal(r.err.code, 'hot_unavailable')
    assert.equal(r.err.mayHaveApplied, true)
    assert.equal(r.err.retryable, true)
    assert.equal(r.requests, 1)
  })

  test('a write answered 504 timeout', async () => {
    const r = await writeWith('w504', { status: 504, error: 'timeout', mayHaveApplied: true })
    assert.equal(r.err.code, 'timeout')
    assert.equal(r.err.status, 504)
    assert.equal(r.requests, 1)
  })

  test('a write whose connection was reset (it may have been applied)', async () => {
    const r = await writeWith('wreset', { mode: 'reset', apply: true })
    assert.equal(r.err.code, 'connection_lost')
    assert.equal(r.err.mayHaveApplied, true)
    assert.equal(r.requests, 1)
    assert.equal(fake.applied.filter((w) => w.sid === 'wreset').length, 1, 'it was applied: a retry would have repeated it')
  })

  test('a write with no reply within timeoutMs', async () => {
    const r = await writeWith('whang', { mode: 'hang' }, { timeoutMs: 200 })
    assert.equal(r.err.code, 'timeout')
    assert.equal(r.err.status, 0)
    assert.equal(r.err.mayHaveApplied, true)
    assert.equal(r.requests, 1)
  })

  test('a read answered 504 (the engine is slow: asking again adds load)', async () => {
    const s = await open(fake, 'r504')
    fake.failNext({ match: route('read', 'r504'), status: 504, error: 'timeout' })
    await assert.rejects(s.state.keys.get('session', ['x']), (err) => err.code === 'timeout' && !err.mayHaveApplied)
    assert.equal(fake.count(route('read', 'r504')), 1)
    await s.close()
  })

  test('4xx answers (400, 409 version_conflict)', async () => {
    for (const [status, error] of [[400, 'invalid_argument'], [409, 'version_conflict']]) {
      const r = await writeWith(`w${status}`, { status, error })
      assert.equal(r.err.code, error)
      assert.equal(r.err.retryable, false)
      assert.equal(r.requests, 1)
    }
  })
})

describe('retries are bounded', () => {
  test('503 forever: retries + 1 requests, then the error', async () => {
    for (const retries of [0, 2, 4]) {
      const sid = `forever-${retries}`
      const r = await writeWith(sid, { status: 503, error: 'shutting_down', count: 100 }, { retries })
      assert.equal(r.err.code, 'shutting_down')
      assert.equal(r.requests, retries + 1)
    }
  })

  test('backoff: full jitter below an exponential ceiling, capped', () => {
    assert.equal(backoffMs(0, () => 0), 0)
    assert.equal(backoffMs(0, () => 0.999), 49)
    assert.equal(backoffMs(3, () => 0.5), 200)
    for (let attempt = 0; attempt < 64; ++attempt) {
      assert.ok(backoffMs(attempt, () => 0.9999999) < CAP_MS)
    }
  })
})
