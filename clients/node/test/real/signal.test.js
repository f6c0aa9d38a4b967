// Real Baileys against a real authstore (issue #14): a libsignal two-party
// conversation with both parties' state in authstore through
// useAuthstoreAuthState -- pre-key message, then 20 ratcheted rounds both
// ways -- the consumed one-time pre-key deleted, and a second Node process
// loading both states and continuing the conversation.
//
// Needs `authstore serve --api.port` (party.js); skipped, visibly, without.
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { dirname, join } from 'node:path'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { ALICE, API_TOKEN, API_URL, BOB, openParty, preKeyBundle, realServerSkip, send } from './party.js'
import { useAuthstoreAuthState } from '../../src/index.js'

const here = dirname(fileURLToPath(import.meta.url))
const skip = realServerSkip()
const ROUNDS = 20

test('a libsignal conversation survives in authstore and continues in a second process', { skip }, async () => {
  const run = `node-signal-${process.pid}-${Date.now()}`
  const ids = { alice: `${run}-alice`, bob: `${run}-bob` }
  const alice = await openParty(ALICE, ids.alice)
  const bob = await openParty(BOB, ids.bob)

  await alice.repo.injectE2ESession({ jid: BOB.jid, session: await preKeyBundle(bob, 1) })
  const first = await send(alice, bob, 'hello bob')
  assert.deepEqual(first, { type: 'pkmsg', text: 'hello bob' })
  // libsignal removed the one-time pre-key it consumed; read past the caches.
  assert.deepEqual(await bob.handle.state.keys.get('pre-key', ['1']), { 1: null })
  const rest = await bob.handle.state.keys.get('pre-key', ['2', '3', '4', '5'])
  assert.ok(Object.values(rest).every(Boolean), 'the other pre-keys are still there')

  for (let round = 0; round < ROUNDS; ++round) {
    const reply = await send(bob, alice, `bob ${round}`)
    assert.deepEqual(reply, { type: 'msg', text: `bob ${round}` })
    const next = await send(alice, bob, `alice ${round}`)
    assert.deepEqual(next, { type: 'msg', text: `alice ${round}` }, 'ratcheted, no longer a pre-key message')
  }
  for (const party of [alice, bob]) {
    await party.handle.saveCreds()
    await party.handle.flush()
    await party.handle.close()
  }

  const child = await promisify(execFile)(process.execPath,
    [join(here, 'continue-conversation.js'), ids.alice, ids.bob],
    { env: { ...process.env, AUTHSTORE_TEST_API_URL: API_URL }, timeout: 60_000 })
  assert.deepEqual(JSON.parse(child.stdout.trim().split('\n').at(-1)),
    { ok: true, rounds: 5, types: ['msg'] })

  for (const id of Object.values(ids)) {
    const h = await useAuthstoreAuthState({ url: API_URL, token: API_TOKEN, sessionId: id })
    await h.removeSession()
  }
})
