// Failure paths against real servers (issue #14): a wrong token, authstore
// killed mid-request, Redis paused, a cold store that is down for a session
// Redis does not know. Each rejects with a clear error, and
// useAuthstoreAuthState never resolves with fresh creds for a session that
// exists (the worst bug a Baileys store can have: it logs the account out).
// Each case runs on private servers (servers.js), so pausing or killing
// them disturbs no other test.
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { API_TOKEN, API_URL } from './party.js'
import { privateServersSkip, startRedis, startServe, startMiniMongod } from './servers.js'
import { useAuthstoreAuthState } from '../../src/index.js'

const skip = privateServersSkip()
const SECRET = `failures-secret-${process.pid}-0123456789`

/// Opens `sessionId` and saves its creds, so the session exists.
async function existing(url, sessionId) {
  const h = await useAuthstoreAuthState({ url, token: SECRET, sessionId, lease: false })
  assert.equal(h.state.creds.registered, false)
  h.state.creds.registered = true
  await h.saveCreds()
  await h.flush()
  await h.close()
}

/// Whether opening rejects; a resolved open with fresh creds fails the test.
async function openRejects(options, codes) {
  let handle
  try {
    handle = await useAuthstoreAuthState({ lease: false, retries: 1, timeoutMs: 3000, ...options })
  } catch (err) {
    assert.ok(codes.includes(err.code), `rejected with ${err.code} (${err.message}); expected one of ${codes}`)
    return err
  }
  await handle.close().catch(() => {})
  assert.fail(`opened${handle.state.creds.registered ? '' : ' with FRESH creds'} although the store failed`)
}

describe('failure paths against a real authstore', { skip }, () => {
  test('a wrong token is refused with unauthorized, never fresh creds', async () => {
    const err = await openRejects({ url: API_URL, token: `${API_TOKEN}-wrong`, sessionId: 'node-wrong-token' },
      ['unauthorized'])
    assert.equal(err.status, 401)
  })

  describe('on private servers', () => {
    let redis
    before(async () => { redis = await startRedis() })
    after(async () => { await redis?.stop() })

    test('authstore killed mid-request: the write rejects; opening while it is down rejects', async () => {
      // Long Redis bounds: the kill, not a timeout, must end the request.
      const serve = await startServe(redis.url, SECRET,
        ['--redis.command-timeout-ms', '8000', '--session.request-timeout-ms', '9000',
          '--remote.request-timeout-ms', '11000'])
      const sessionId = `node-killed-${Date.now()}`
      await existing(serve.url, sessionId)
      const h = await useAuthstoreAuthState({ url: serve.url, token: SECRET, sessionId, lease: false, retries: 0 })
      assert.equal(h.state.creds.registered, true)
      // Redis paused: the write waits inside authstore, which is then killed.
      redis.pause()
      // Settled at once (a rejection must not go unhandled while we wait).
      const write = h.state.keys.set({ 'pre-key': { 1: { public: Buffer.from([1]), private: Buffer.from([2]) } } })
        .then(() => undefined, (err) => err)
      await new Promise((resolve) => setTimeout(resolve, 300))
      await serve.kill()
      redis.resume()
      const err = await write
      assert.ok(err, 'the write resolved although authstore was killed while it waited')
      assert.ok(['connection_lost', 'unreachable', 'timeout'].includes(err.code), err.code)
      assert.equal(err.mayHaveApplied, true, 'a lost write may have been applied')
      await h.close().catch(() => {})
      await openRejects({ url: serve.url, token: SECRET, sessionId }, ['unreachable', 'connection_lost'])
    })

    test('Redis paused: opening an existing session rejects (timeout or hot_unavailable)', async () => {
      // Written through one node, read through a fresh one: no cache on
      // either side can answer for Redis.
      const sessionId = `node-paused-${Date.now()}`
      const writer = await startServe(redis.url, SECRET)
      await existing(writer.url, sessionId)
      await writer.kill()
      const serve = await startServe(redis.url, SECRET,
        ['--redis.command-timeout-ms', '500', '--session.request-timeout-ms', '1000'])
      try {
        redis.pause()
        try {
          // A fresh process: nothing cached on the client side.
          await openRejects({ url: serve.url, token: SECRET, sessionId: `${sessionId}` },
            ['timeout', 'hot_unavailable'])
        } finally {
          redis.resume()
        }
        // Once Redis is back, the stored creds come back.
        const h = await useAuthstoreAuthState({ url: serve.url, token: SECRET, sessionId, lease: false })
        assert.equal(h.state.creds.registered, true)
        await h.close()
      } finally {
        await serve.kill()
      }
    })

    test('cold store down, session unknown to Redis: opening rejects with cold_unavailable', async () => {
      // serve checks its cold store before it listens (exit 2 if it is
      // unreachable), so the store is up at start and killed after.
      const mongo = await startMiniMongod()
      const serve = await startServe(redis.url, SECRET, [
        '--mongodb.uri', `mongodb://127.0.0.1:${mongo.port}/?serverSelectionTimeoutMS=300&connectTimeoutMS=300`,
        '--cold.call-timeout-ms', '1000']).catch(async (e) => { await mongo.kill(); throw e })
      await mongo.kill()
      try {
        // Redis has no trace of this session: only the cold store could
        // say whether it exists, and it is down.
        await openRejects({ url: serve.url, token: SECRET, sessionId: `node-cold-${Date.now()}`, retries: 0 },
          ['cold_unavailable', 'timeout', 'cold_error'])
      } finally {
        await serve.kill()
      }
    })
  })
})
