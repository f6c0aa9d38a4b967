// Real Baileys against a real authstore (issue #14): 2 processes x 8 async
// tasks on ONE session, running Baileys transactions and keys.set calls
// (worker.js), each process checking its own model, then this process
// checking the union: no write of one task or process lost or clobbered by
// another's, the second of two quick writes to one key winning.
//
// Needs `authstore serve --api.port` (party.js); skipped, visibly, without.
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { dirname, join } from 'node:path'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { BufferJSON } from 'baileys'
import { API_TOKEN, API_URL, realServerSkip } from './party.js'
import { useAuthstoreAuthState } from '../../src/index.js'

const here = dirname(fileURLToPath(import.meta.url))
const skip = realServerSkip()

test('2 processes x 8 tasks on one session: every process\'s model holds', { skip }, async () => {
  const sessionId = `node-concurrency-${process.pid}-${Date.now()}`
  const seed = Date.now() % 1_000_000
  const runs = await Promise.allSettled(['p1', 'p2'].map((proc, i) =>
    promisify(execFile)(process.execPath, [join(here, 'worker.js'), sessionId, proc, String(seed + i)],
      { env: { ...process.env, AUTHSTORE_TEST_API_URL: API_URL }, timeout: 120_000 })))
  const reports = runs.map((r, i) => {
    const out = r.status === 'fulfilled' ? r.value.stdout : r.reason.stdout ?? ''
    assert.ok(out.trim() !== '', `worker p${i + 1} (seed ${seed + i}) printed nothing: ${r.reason?.stderr ?? ''}`)
    return JSON.parse(out.trim().split('\n').at(-1))
  })
  for (const report of reports) {
    assert.deepEqual(report.mismatches, [], `${report.proc} (seed ${report.seed})`)
    assert.ok(report.writes > 0)
  }
  const check = await useAuthstoreAuthState({ url: API_URL, token: API_TOKEN, sessionId, lease: false })
  for (const report of reports) {
    for (const [key, want] of Object.entries(report.model)) {
      const [type, id] = key.split(' ')
      const { [id]: got } = await check.state.keys.get(type, [id])
      assert.equal(got ? JSON.stringify(got, BufferJSON.replacer) : null, want,
        `${key} after both processes (seed ${report.seed})`)
    }
  }
  await check.removeSession()
})
