// worker.js -- one process of concurrency.test.js: 8 async tasks on one
// session, each running Baileys transactions and keys.set calls on ids it
// owns, through the same layers a socket uses, keeping a model of what the
// store must hold. At the end it reads every modelled key past the caches
// and prints one JSON line: { proc, seed, writes, model, mismatches }.
// Usage: node worker.js <session> <proc-name> <seed>
import { BufferJSON } from 'baileys'
import { openParty } from './party.js'

const [sessionId, proc, seedArg] = process.argv.slice(2)
const TASKS = 8
const OPS = 40
const IDS = 4

// Seeded xorshift32: a failing run can be repeated with its seed.
let state = Number(seedArg) >>> 0 || 1
const rand = (n) => {
  state ^= state << 13; state >>>= 0
  state ^= state >>> 17
  state ^= state << 5; state >>>= 0
  return state % n
}

// Two processes on one session is the point here, so no lease (the lease
// would refuse the second process: that is lease.test.js's subject).
const party = await openParty({ name: proc, jid: `${proc}@s.whatsapp.net` }, sessionId, { lease: false })
const { keys } = party.auth
const model = new Map()
const encode = (v) => (v ? JSON.stringify(v, BufferJSON.replacer) : null)
const remember = (type, id, value) => model.set(`${type} ${id}`, encode(value))
let writes = 0

async function task(t) {
  for (let op = 0; op < OPS; ++op) {
    const id = `${proc}.${t}.${rand(IDS)}`
    switch (rand(4)) {
      case 0: { // read-modify-write in one transaction, two types in one commit
        const expected = Number(JSON.parse(model.get(`sender-key-memory ${id}`) ?? '{"n":0}').n) + 1
        await keys.transaction(async () => {
          const { [id]: cur } = await keys.get('sender-key-memory', [id])
          const n = (cur?.n ?? 0) + 1
          await keys.set({
            'sender-key-memory': { [id]: { n, [proc]: true } },
            session: { [id]: Buffer.from(`counter ${n}`) }
          })
        }, `tx-${proc}-${t}`)
        remember('sender-key-memory', id, { n: expected, [proc]: true })
        remember('session', id, Buffer.from(`counter ${expected}`))
        ++writes
        break
      }
      case 1: { // a pre-key written, or deleted
        const value = rand(3) === 0 ? null : { public: Buffer.from([t, op]), private: Buffer.from([op, t, 1]) }
        await keys.set({ 'pre-key': { [id]: value } })
        remember('pre-key', id, value)
        ++writes
        break
      }
      case 2: { // the same key twice in quick succession: the second wins
        const first = keys.set({ 'lid-mapping': { [id]: `first ${op}` } })
        const second = keys.set({ 'lid-mapping': { [id]: `second ${op}` } })
        await Promise.all([first, second])
        remember('lid-mapping', id, `second ${op}`)
        writes += 2
        break
      }
      default: { // several types in one call
        const list = [String(op), String(t)]
        const token = { token: Buffer.from(`${proc}${op}`), timestamp: String(op) }
        await keys.set({ 'device-list': { [id]: list }, tctoken: { [id]: token } })
        remember('device-list', id, list)
        remember('tctoken', id, token)
        ++writes
      }
    }
  }
}

await Promise.all(Array.from({ length: TASKS }, (_, t) => task(t)))
await party.handle.flush()
const mismatches = []
for (const [key, want] of model) {
  const [type, id] = key.split(' ')
  const { [id]: got } = await party.handle.state.keys.get(type, [id])
  if (encode(got) !== want) mismatches.push({ key, want, got: encode(got) })
}
await party.handle.close()
console.log(JSON.stringify({ proc, seed: seedArg, writes, model: Object.fromEntries(model), mismatches }))
process.exit(mismatches.length === 0 ? 0 : 1)
