// Ordering and leases against the real server (issue #14):
// - the same key written twice in quick succession, over a pool of several
//   connections, ends with the second value (the client keeps one write in
//   flight per session; the server applies what it gets in order);
// - a second opener gets session_in_use; a takeover fences the first, whose
//   next write is refused by the engine in the same atomic write (409 fenced).
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { BufferJSON } from 'baileys'
import { API_TOKEN, API_URL, realServerSkip } from './party.js'
import { useAuthstoreAuthState } from '../../src/index.js'

const skip = realServerSkip()
const open = (sessionId, options = {}) =>
  useAuthstoreAuthState({ url: API_URL, token: API_TOKEN, sessionId, ...options })

test('the same key written twice in quick succession over 8 connections ends with the second value', { skip }, async () => {
  const sessionId = `node-order-${process.pid}-${Date.now()}`
  const h = await open(sessionId, { connections: 8 })
  const writes = []
  for (let i = 0; i < 50; ++i) {
    writes.push(h.state.keys.set({ session: { [`k${i}`]: Buffer.from(`first-${i}`) } }))
    writes.push(h.state.keys.set({ session: { [`k${i}`]: Buffer.from(`second-${i}`) } }))
  }
  await Promise.all(writes)
  await h.flush()
  const check = await open(sessionId, { lease: false })
  const ids = Array.from({ length: 50 }, (_, i) => `k${i}`)
  const got = await check.state.keys.get('session', ids)
  for (const id of ids) {
    assert.equal(Buffer.from(got[id]).toString(), `second-${id.slice(1)}`, id)
  }
  assert.deepEqual(await check.state.keys.list('session'), [...ids].sort())
  await h.close()
  await check.removeSession()
})

test('a second opener gets session_in_use; a takeover fences the first in the engine', { skip }, async () => {
  const sessionId = `node-lease-${process.pid}-${Date.now()}`
  const first = await open(sessionId)
  first.state.creds.registered = true
  await first.saveCreds()
  await first.flush()
  await assert.rejects(open(sessionId), (err) => {
    assert.equal(err.code, 'session_in_use')
    assert.ok(err.holderExpiresInMs > 0 && err.holderExpiresInMs <= 30_000, String(err.holderExpiresInMs))
    return true
  })
  const second = await open(sessionId, { takeover: true })
  assert.equal(second.state.creds.registered, true, 'the taker reads the stored creds')
  // The first does not know yet: its write goes out and the engine refuses
  // it inside the same Lua script that would have applied it.
  first.state.creds.me = { id: 'stale@s.whatsapp.net' }
  await assert.rejects(first.saveCreds(), (err) => {
    assert.equal(err.code, 'fenced')
    assert.equal(err.status, 409, 'refused by the server, not locally')
    return true
  })
  await assert.rejects(first.state.keys.set({ 'pre-key': { 9: null } }), { code: 'fenced' })
  await assert.rejects(first.removeSession(), { code: 'fenced' })
  const check = await open(sessionId, { lease: false })
  assert.equal(check.state.creds.me, undefined, 'the fenced write was not applied')
  assert.equal(JSON.stringify(check.state.creds, BufferJSON.replacer).length > 0, true)
  await check.close()
  await first.close()
  await second.removeSession()
})
