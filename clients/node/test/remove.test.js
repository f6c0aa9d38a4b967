// removeSession() (logout) and close(): what lands before them, what is
// refused after them, and what a fenced process may not do.
import assert from 'node:assert/strict'
import { after, afterEach, before, describe, test } from 'node:test'
import { startFakeServer } from './fake-server.js'
import { TOKEN, open } from './helpers.js'

let fake
before(async () => { fake = await startFakeServer({ token: TOKEN }) })
after(async () => { await fake.close() })
afterEach(() => {
  fake.clearFailures()
  fake.delayWrite(() => 0)
})

const routesOf = (sid) => fake.log.filter((e) => e.sid === sid).map((e) => e.route)

describe('removeSession()', () => {
  test('deletes after the writes issued before it; later writes are refused; reopening starts fresh', async () => {
    const s = await open(fake, 'logout')
    await s.saveCreds()
    const identity = Buffer.from(s.state.creds.noiseKey.public)
    fake.delayWrite(() => 30)
    const before = s.state.keys.set({ 'pre-key': { 1: { public: Buffer.from([1]), private: Buffer.from([2]) } } })
    const removing = s.removeSession()
    const afterwards = assert.rejects(s.saveCreds(), { code: 'closed' })
    await before
    await removing
    await afterwards
    assert.deepEqual(fake.applied.filter((w) => w.sid === 'logout').map((w) => w.body === 'DELETE' ? 'DELETE' : 'write'),
      ['write', 'write', 'DELETE'])
    assert.equal(fake.session('logout').creds.size, 0)
    assert.equal(fake.session('logout').keys.size, 0)
    assert.equal(routesOf('logout').at(-1), 'release', 'then the handle closed and released the lease')
    await assert.rejects(s.state.keys.get('session', ['x']), { code: 'closed' })
    const fresh = await open(fake, 'logout')
    assert.equal(fresh.state.creds.registered, false)
    assert.notDeepEqual(Buffer.from(fresh.state.creds.noiseKey.public), identity)
    await fresh.close()
  })

  test('a fenced process cannot delete its successor\'s session', async () => {
    const first = await open(fake, 'logout-fenced')
    await first.saveCreds()
    const second = await open(fake, 'logout-fenced', { takeover: true })
    await assert.rejects(first.removeSession(), { code: 'fenced' })
    // The DELETE carries the lease and the server fences it (no
    // confirming renewal first any more: the fence is atomic).
    assert.ok(!fake.applied.some((w) => w.sid === 'logout-fenced' && w.body === 'DELETE'), 'no DELETE applied')
    assert.ok(fake.session('logout-fenced').creds.size > 0)
    await first.close()
    await second.close()
  })

  test('a failed delete rejects and leaves the handle usable', async () => {
    const s = await open(fake, 'logout-fails')
    await s.saveCreds()
    fake.failNext({ status: 500, error: 'internal', match: (e) => e.route === 'delete' })
    await assert.rejects(s.removeSession(), { code: 'internal' })
    await s.saveCreds()
    assert.ok(fake.session('logout-fails').creds.size > 0)
    await s.removeSession()
    assert.equal(fake.session('logout-fails').creds.size, 0)
  })
})

describe('close()', () => {
  test('refuses new operations, is idempotent, and lets a read in flight finish', async () => {
    const s = await open(fake, 'closing')
    await s.state.keys.set({ session: { a: Buffer.from([7]) } })
    const read = s.state.keys.get('session', ['a'])
    const closing = s.close()
    assert.equal(s.close(), closing)
    assert.deepEqual(await read, { a: Buffer.from([7]) })
    await closing
    await assert.rejects(s.saveCreds(), { code: 'closed' })
    await assert.rejects(s.state.keys.set({ session: { b: Buffer.from([1]) } }), { code: 'closed' })
    await assert.rejects(s.state.keys.get('session', ['a']), { code: 'closed' })
    await s.flush() // nothing pending after close: the barrier resolves
  })
})
