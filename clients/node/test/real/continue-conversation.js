// continue-conversation.js -- the second process of signal.test.js: loads
// alice's and bob's states from authstore (the first process has closed
// them) and continues their conversation; prints one JSON line.
// Usage: node continue-conversation.js <alice-session> <bob-session>
import { ALICE, BOB, openParty, send } from './party.js'

const [aliceId, bobId] = process.argv.slice(2)
const alice = await openParty(ALICE, aliceId, { mustExist: true })
const bob = await openParty(BOB, bobId, { mustExist: true })
const types = new Set()
const ROUNDS = 5
for (let round = 0; round < ROUNDS; ++round) {
  for (const [from, to] of [[alice, bob], [bob, alice]]) {
    const text = `${from.who.name} after restart ${round}`
    const got = await send(from, to, text)
    if (got.text !== text) throw new Error(`round ${round}: decrypted ${JSON.stringify(got.text)}`)
    types.add(got.type)
  }
}
for (const party of [alice, bob]) {
  await party.handle.flush()
  await party.handle.close()
}
console.log(JSON.stringify({ ok: true, rounds: ROUNDS, types: [...types] }))
