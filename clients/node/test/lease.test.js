// The client lease (docs/HTTP-API.md, "Leases"): taken on open, renewed
// while open, released on close; a second opener is refused unless it takes
// over, which fences the first (its writes are refused by the server, then
// here); lease: false switches it off.
//
// Renewal runs on real timers with a short ttl (300 ms, renewed every
// 100 ms); the tests wait for counts, never assert a duration.
import assert from 'node:assert/strict'
import { setTimeout as sleep } from 'node:timers/promises'
import { after, afterEach, before, describe, test } from 'node:test'
import { startFakeServer } from './fake-server.js'
import { TOKEN, eventually, open } from './helpers.js'

let fake
before(async () => { fake = await startFakeServer({ token: TOKEN }) })
after(async () => { await fake.close() })
afterEach(() => fake.clearFailures())

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/
const leaseCalls = (sid) => fake.count((e) => e.route === 'lease' && e.sid === sid)
const writesOf = (sid) => fake.count((e) => e.route === 'write' && e.sid === sid)

describe('taken, carried, renewed, released', () => {
  test('open takes the lease and every write carries holder and epoch', async () => {
    const s = await open(fake, 'lease-basic')
    const lease = fake.session('lease-basic').lease
    assert.match(lease.holder, UUID)
    assert.equal(lease.epoch, 1)
    await s.saveCreds()
    await s.state.keys.set({ session: { a: Buffer.from([1]) } })
    for (const w of fake.applied.filter((x) => x.sid === 'lease-basic')) {
      assert.deepEqual(w.body.lease, { holder: lease.holder, epoch: 1 })
    }
    await s.close()
  })

  test('renewed while open: writes still land after several ttls', async () => {
    const s = await open(fake, 'lease-renew', { leaseTtlMs: 300 })
    await eventually(() => leaseCalls('lease-renew') >= 5, 'four renewals')
    await s.saveCreds()
    assert.equal(fake.session('lease-renew').lease.epoch, 1, 'renewal keeps the epoch')
    await s.close()
  })

  test('released on close: the next opener gets it at once, and no renewal follows', async () => {
    const s = await open(fake, 'lease-release', { leaseTtlMs: 300 })
    await s.saveCreds()
    await s.close()
    assert.equal(fake.count((e) => e.route === 'release' && e.sid === 'lease-release'), 1)
    const calls = leaseCalls('lease-release')
    const next = await open(fake, 'lease-release', { leaseTtlMs: 60_000 })
    await sleep(250)
    assert.equal(leaseCalls('lease-release'), calls + 1, 'only the new opener\'s take')
    await next.close()
  })

  test('close waits for the queued writes before releasing', async () => {
    const s = await open(fake, 'lease-drain')
    fake.delayWrite(() => 50)
    const writes = [s.saveCreds(), s.state.keys.set({ session: { x: Buffer.from([1]) } })]
    await s.close()
    fake.delayWrite(() => 0)
    await Promise.all(writes)
    const order = fake.log.filter((e) => e.sid === 'lease-drain').map((e) => e.route)
    assert.deepEqual(order.slice(-3), ['write', 'write', 'release'])
  })
})

describe('one process per account', () => {
  test('a second opener gets session_in_use, and the first keeps writing', async () => {
    const first = await open(fake, 'in-use')
    await assert.rejects(open(fake, 'in-use'), (err) => {
      assert.equal(err.code, 'session_in_use')
      assert.equal(err.status, 409)
      assert.ok(err.holderExpiresInMs > 0)
      assert.match(err.message, /takeover: true/)
      return true
    })
    await first.saveCreds()
    await first.close()
  })

  test('takeover fences the first: its next write is refused with fenced, then refused here', async () => {
    const lost = []
    const first = await open(fake, 'takeover', { onLeaseLost: (err) => lost.push(err) })
    await first.saveCreds()
    const second = await open(fake, 'takeover', { takeover: true })
    assert.equal(fake.session('takeover').lease.epoch, 2)
    const writes = writesOf('takeover')
    const applied = fake.applied.length
    await assert.rejects(first.state.keys.set({ session: { stale: Buffer.from([1]) } }),
      (err) => err.code === 'fenced' && err.status === 409 && !err.mayHaveApplied)
    assert.equal(writesOf('takeover'), writes + 1, 'the server refused it')
    assert.equal(fake.applied.length, applied, 'nothing applied')
    await eventually(() => lost.length === 1, 'onLeaseLost called')
    assert.equal(lost[0].code, 'fenced')
    await assert.rejects(first.saveCreds(), { code: 'fenced' })
    assert.equal(writesOf('takeover'), writes + 1, 'refused locally, without a request')
    await first.close()
    await second.saveCreds()
    assert.equal(fake.applied.at(-1).body.lease.epoch, 2, 'the first\'s close did not release the second\'s lease')
    await second.close()
  })

  test('a renewal that finds the session taken over marks the lease lost before any write', async () => {
    const lost = []
    const first = await open(fake, 'takeover-renew', { leaseTtlMs: 300, onLeaseLost: (e) => lost.push(e) })
    const second = await open(fake, 'takeover-renew', { takeover: true, leaseTtlMs: 60_000 })
    await eventually(() => lost.length === 1, 'the renewal noticed')
    const writes = writesOf('takeover-renew')
    await assert.rejects(first.saveCreds(), { code: 'fenced' })
    assert.equal(writesOf('takeover-renew'), writes)
    await first.close()
    await second.close()
  })

  test('renewals failing past the ttl: the server fences the write, the lease is lost', async () => {
    const lost = []
    const s = await open(fake, 'expired', { leaseTtlMs: 300, onLeaseLost: (e) => lost.push(e) })
    fake.failNext({ status: 503, error: 'hot_unavailable', count: 1000,
      match: (e) => e.route === 'lease' && e.sid === 'expired' })
    await sleep(400)
    await assert.rejects(s.saveCreds(), { code: 'fenced' })
    assert.equal(lost.length, 1)
    await s.close()
  })

  test('renewals failing past the ttl, then succeeding: lost without a write, and the lease given back on close', async () => {
    const lost = []
    const s = await open(fake, 'expired-quiet', { leaseTtlMs: 300, onLeaseLost: (e) => lost.push(e) })
    const outage = fake.failNext({ status: 503, error: 'hot_unavailable', count: 1000,
      match: (e) => e.route === 'lease' && e.sid === 'expired-quiet' })
    await sleep(400)
    outage.count = 0
    await eventually(() => lost.length === 1, 'the first renewal after the outage noticed')
    assert.equal(lost[0].code, 'fenced')
    const writes = writesOf('expired-quiet')
    await assert.rejects(s.saveCreds(), { code: 'fenced' })
    assert.equal(writesOf('expired-quiet'), writes, 'refused locally')
    await s.close()
    const next = await open(fake, 'expired-quiet')
    await next.close()
  })

  test('lease: false takes no lease and sends writes without one', async () => {
    const a = await open(fake, 'no-lease', { lease: false })
    const b = await open(fake, 'no-lease', { lease: false })
    await a.saveCreds()
    await b.state.keys.set({ session: { x: Buffer.from([1]) } })
    assert.equal(leaseCalls('no-lease'), 0)
    assert.equal(fake.count((e) => e.route === 'release' && e.sid === 'no-lease'), 0)
    for (const w of fake.applied.filter((x) => x.sid === 'no-lease')) {
      assert.equal(w.body.lease, undefined)
    }
    await a.close()
    await b.close()
  })
})
