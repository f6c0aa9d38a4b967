// Opening: new creds (Baileys' initAuthCreds) only when the server says the
// session does not exist (404 not_found); every failure rejects and writes
// nothing -- a fresh identity for an existing account logs it out
// (invariant 4, "the worst bug a Baileys store can have").
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { AuthstoreError, useAuthstoreAuthState } from '../src/index.js'
import { startFakeServer } from './fake-server.js'
import { TOKEN, freePort, open } from './helpers.js'

let fake
before(async () => { fake = await startFakeServer({ token: TOKEN }) })
after(async () => { await fake.close() })

const credsRoute = (e) => e.route === 'creds'

// Stores a known creds document for `sid` through a first handle.
async function seed(sid) {
  const first = await open(fake, sid)
  first.state.creds.registered = true
  await first.saveCreds()
  const identity = Buffer.from(first.state.creds.signedIdentityKey.public)
  await first.close()
  return identity
}

// Opening `sid` must reject with `code` and leave the stored creds alone.
async function assertRejects(sid, code, extra = {}) {
  const writes = fake.applied.length
  await assert.rejects(open(fake, sid, extra), (err) => {
    assert.ok(err instanceof AuthstoreError, `an AuthstoreError, got ${err}`)
    assert.equal(err.code, code)
    assert.ok(err.message.startsWith(`${code}:`), err.message)
    return true
  })
  assert.equal(fake.applied.length, writes, 'nothing written')
}

describe('a session that does not exist', () => {
  test('gets fresh creds from initAuthCreds, and nothing is written until saveCreds', async () => {
    const writes = fake.applied.length
    const s = await open(fake, 'brand-new')
    assert.equal(s.state.creds.registered, false)
    assert.ok(Buffer.isBuffer(s.state.creds.noiseKey.public))
    assert.equal(typeof s.state.creds.registrationId, 'number')
    assert.equal(fake.applied.length, writes)
    await s.saveCreds()
    await s.close()
    const again = await open(fake, 'brand-new')
    assert.deepEqual(again.state.creds.noiseKey, s.state.creds.noiseKey, 'the same identity next time')
    await again.close()
  })

  test('a session id is percent-encoded as one path segment', async () => {
    const sid = 'a/b c%d@s.whatsapp.net'
    const s = await open(fake, sid)
    await s.saveCreds()
    await s.close()
    assert.ok(fake.session(sid), 'stored under the decoded id')
    assert.ok(fake.log.some((e) => e.path === `/v1/sessions/${encodeURIComponent(sid)}/write`))
  })
})

describe('every failure while reading creds rejects, never fresh creds', () => {
  const modes = [
    ['503 hot_unavailable (Redis down)', { status: 503, error: 'hot_unavailable' }, 'hot_unavailable'],
    ['503 cold_unavailable (cold store down)', { status: 503, error: 'cold_unavailable' }, 'cold_unavailable'],
    ['504 timeout (engine did not answer)', { status: 504, error: 'timeout' }, 'timeout'],
    ['500 internal', { status: 500, error: 'internal' }, 'internal'],
    ['404 no_route (not an authstore API at this path)', { status: 404, error: 'no_route' }, 'no_route'],
    ['a proxy\'s HTML 502', { mode: 'html', status: 502 }, 'bad_response'],
    ['a 404 HTML page', { mode: 'html', status: 404 }, 'bad_response'],
    ['connection reset', { mode: 'reset' }, 'connection_lost'],
    ['no reply (hang) until timeoutMs', { mode: 'hang' }, 'timeout']
  ]
  for (const [name, spec, code] of modes) {
    test(name, async () => {
      const sid = `fail-${code}-${name.length}`
      const identity = await seed(sid)
      // Persistent: every retry fails the same way.
      const failure = fake.failNext({ ...spec, match: credsRoute, count: 100 })
      try {
        await assertRejects(sid, code, { timeoutMs: 300, retries: 2 })
      } finally {
        failure.count = 0
      }
      assert.equal(fake.session(sid).lease.expiresAt, 0, 'the lease taken for the open was released')
      const s = await open(fake, sid)
      assert.deepEqual(Buffer.from(s.state.creds.signedIdentityKey.public), identity,
        'the stored identity is untouched')
      await s.close()
    })
  }

  test('401 unauthorized (wrong token) rejects at once, not retried', async () => {
    const before = fake.log.length
    await assertRejects('unauthorized', 'unauthorized', { token: 'wrong-secret-0123456789' })
    assert.equal(fake.log.length - before, 1, 'one request, no retries')
  })

  test('the token defaults to AUTHSTORE_SECRET', async () => {
    process.env.AUTHSTORE_SECRET = TOKEN
    try {
      const s = await useAuthstoreAuthState({ url: fake.url, sessionId: 'env-token' })
      await s.close()
    } finally {
      delete process.env.AUTHSTORE_SECRET
    }
    await assert.rejects(useAuthstoreAuthState({ url: fake.url, sessionId: 'env-token' }),
      { code: 'unauthorized' })
  })

  test('a 200 without a creds object rejects (bad_response)', async () => {
    const sid = 'bad-body'
    await seed(sid)
    // A 200 whose body is {error, message, ...}: JSON, but no creds.
    const failure = fake.failNext({ status: 200, error: 'unused', match: credsRoute })
    try {
      await assertRejects(sid, 'bad_response')
    } finally {
      failure.count = 0
    }
  })

  test('nothing listening (connection refused) rejects with unreachable after the bounded retries', async () => {
    const port = await freePort()
    await assert.rejects(
      useAuthstoreAuthState({ url: `http://127.0.0.1:${port}`, token: TOKEN, sessionId: 'x', retries: 2 }),
      (err) => err.code === 'unreachable' && err.mayHaveApplied === false && err.status === 0)
  })

  test('bad options reject with invalid_argument before any request', async () => {
    const before = fake.log.length
    for (const opts of [undefined, { url: 'not a url', sessionId: 's' },
      { url: 'ftp://x', sessionId: 's' }, { url: fake.url, sessionId: '' },
      { url: fake.url, sessionId: 's', timeoutMs: 0 },
      { url: fake.url, sessionId: 's', lease: false, takeover: true }]) {
      await assert.rejects(useAuthstoreAuthState(opts), { code: 'invalid_argument' })
    }
    assert.equal(fake.log.length, before)
  })
})

describe('a lease refused at open', () => {
  test('rejects before the creds are read', async () => {
    const sid = 'lease-503'
    await seed(sid)
    const reads = fake.count('creds')
    const failure = fake.failNext({ status: 503, error: 'hot_unavailable', match: (e) => e.route === 'lease', count: 100 })
    try {
      await assertRejects(sid, 'hot_unavailable', { retries: 1 })
    } finally {
      failure.count = 0
    }
    assert.equal(fake.count('creds'), reads)
  })
})
