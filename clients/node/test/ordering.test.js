// Ordering and snapshots: a session's writes land in the order Baileys issued
// them (the keep-alive pool would otherwise let two writes overtake each
// other), a read sees the writes issued before it, saveCreds and keys.set
// serialize at call time, and flush() is a barrier.
//
// The fake holds chosen writes before applying them (delayWrite), so a client
// that had two writes of one session in flight at once would see the held
// one applied last.
import assert from 'node:assert/strict'
import { after, afterEach, before, describe, test } from 'node:test'
import { startFakeServer } from './fake-server.js'
import { TOKEN, open } from './helpers.js'

let fake
before(async () => { fake = await startFakeServer({ token: TOKEN }) })
after(async () => { await fake.close() })
afterEach(() => {
  fake.delayWrite(() => 0)
  fake.clearFailures()
})

const holds = (marker, ms) => (body) => (JSON.stringify(body).includes(marker) ? ms : 0)
const sessionValue = (sid, id) => fake.session(sid).keys.get('session')?.get(id)
const b64 = (text) => Buffer.from(text).toString('base64')

describe('one session\'s writes are applied in issue order', () => {
  test('the same key written twice in quick succession ends with the second value', async () => {
    const s = await open(fake, 'twice', { connections: 4 })
    fake.delayWrite(holds(b64('first'), 150))
    const first = s.state.keys.set({ session: { k: Buffer.from('first') } })
    const second = s.state.keys.set({ session: { k: Buffer.from('second') } })
    await Promise.all([first, second])
    const order = fake.applied.filter((w) => w.sid === 'twice')
      .map((w) => Buffer.from(w.body.keys.session.k.data, 'base64').toString())
    assert.deepEqual(order, ['first', 'second'], 'the fake applied them in issue order')
    assert.deepEqual(sessionValue('twice', 'k'), { type: 'Buffer', data: b64('second') })
    assert.deepEqual(await s.state.keys.get('session', ['k']), { k: Buffer.from('second') })
    await s.close()
  })

  test('twenty writes issued at once on a pool of 8 sockets land in order', async () => {
    const s = await open(fake, 'twenty', { connections: 8 })
    fake.delayWrite(() => Math.floor(Math.random() * 15))
    const writes = []
    for (let i = 0; i < 20; ++i) {
      writes.push(i % 2
        ? s.state.keys.set({ 'sender-key': { n: Buffer.from(String(i)) } })
        : s.saveCreds())
    }
    const versions = await Promise.all(writes)
    assert.equal(versions.length, 20)
    const mine = fake.applied.filter((w) => w.sid === 'twenty')
    assert.equal(mine.length, 20)
    mine.forEach((w, i) => assert.equal(i % 2 ? 'keys' in w.body : 'creds' in w.body, true, `write ${i}`))
    assert.deepEqual(fake.session('twenty').keys.get('sender-key').get('n'),
      { type: 'Buffer', data: b64('19') })
    await s.close()
  })

  test('a read issued after a write sees it (the read waits for the write)', async () => {
    const s = await open(fake, 'read-own')
    fake.delayWrite(holds(b64('v2'), 100))
    await s.state.keys.set({ session: { k: Buffer.from('v1') } })
    const write = s.state.keys.set({ session: { k: Buffer.from('v2') } })
    const read = s.state.keys.get('session', ['k'])
    assert.deepEqual(await read, { k: Buffer.from('v2') })
    await write
    await s.close()
  })

  test('a failed write does not stop the writes behind it', async () => {
    const s = await open(fake, 'fail-middle')
    fake.failNext({ status: 500, error: 'internal', match: (e) => e.route === 'write' && e.sid === 'fail-middle' })
    const a = s.state.keys.set({ session: { a: Buffer.from('a') } })
    const b = s.state.keys.set({ session: { b: Buffer.from('b') } })
    await assert.rejects(a, { code: 'internal' })
    await b
    assert.ok(sessionValue('fail-middle', 'b'))
    assert.equal(sessionValue('fail-middle', 'a'), undefined)
    await s.close()
  })
})

describe('values are snapshotted when the call is made', () => {
  test('saveCreds: mutating creds after the call does not change what is sent', async () => {
    const s = await open(fake, 'snapshot-creds')
    // Hold a write in front, so the creds request is sent after the mutation.
    fake.delayWrite(holds(b64('in-front'), 100))
    const front = s.state.keys.set({ session: { f: Buffer.from('in-front') } })
    const save = s.saveCreds()
    s.state.creds.registered = true
    s.state.creds.me = { id: '15550001111:1@s.whatsapp.net' }
    s.state.creds.signedIdentityKey.public[0] ^= 0xff
    await Promise.all([front, save])
    const sent = fake.applied.filter((w) => w.sid === 'snapshot-creds').at(-1).body.creds
    assert.equal(sent.registered, false)
    assert.equal(sent.me, undefined)
    const original = Buffer.from(s.state.creds.signedIdentityKey.public)
    original[0] ^= 0xff
    assert.equal(sent.signedIdentityKey.public.data, original.toString('base64'))
    await s.saveCreds()
    const latest = fake.applied.at(-1).body.creds
    assert.equal(latest.registered, true)
    assert.equal(latest.me.id, '15550001111:1@s.whatsapp.net')
    await s.close()
  })

  test('keys.set: mutating a value after the call does not change what is sent', async () => {
    const s = await open(fake, 'snapshot-keys')
    fake.delayWrite(holds(b64('in-front'), 100))
    const front = s.state.keys.set({ session: { f: Buffer.from('in-front') } })
    const value = Buffer.from('before')
    const set = s.state.keys.set({ session: { k: value } })
    value.write('AFTER!')
    await Promise.all([front, set])
    assert.deepEqual(sessionValue('snapshot-keys', 'k'), { type: 'Buffer', data: b64('before') })
    await s.close()
  })
})

describe('flush()', () => {
  test('resolves once every write issued before it is acknowledged', async () => {
    const s = await open(fake, 'flush')
    fake.delayWrite(() => 20)
    const settled = []
    for (let i = 0; i < 5; ++i) {
      s.state.keys.set({ session: { [`k${i}`]: Buffer.from([i]) } }).then(() => settled.push(i))
    }
    s.saveCreds().then(() => settled.push('creds'))
    await s.flush()
    assert.equal(fake.applied.filter((w) => w.sid === 'flush').length, 6)
    // The writes' own promises settle before the barrier's.
    assert.deepEqual(settled, [0, 1, 2, 3, 4, 'creds'])
    await s.close()
  })

  test('rejects with a failure among the writes since the previous flush, then is clean again', async () => {
    const s = await open(fake, 'flush-fail')
    fake.failNext({ status: 503, error: 'hot_unavailable', mayHaveApplied: true,
      match: (e) => e.route === 'write' && e.sid === 'flush-fail' })
    const failed = assert.rejects(s.saveCreds(), { code: 'hot_unavailable' })
    const ok = s.state.keys.set({ session: { k: Buffer.from([1]) } })
    await assert.rejects(s.flush(), (err) => err.code === 'hot_unavailable' && err.mayHaveApplied)
    await failed
    await ok
    await s.flush()
    await s.saveCreds()
    await s.flush()
    await s.close()
  })

  test('with no writes resolves at once without a request', async () => {
    const s = await open(fake, 'flush-empty')
    const before = fake.log.length
    await s.flush()
    assert.equal(fake.log.length, before)
    await s.close()
  })
})
