// helpers.js -- what several test files share: a silent logger, the repo's
// real Baileys fixtures, an opener with test defaults, and a poll helper.
import { readdir, readFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { BufferJSON } from 'baileys'
import { useAuthstoreAuthState } from '../src/index.js'

export const TOKEN = 'test-secret-0123456789'

export const logger = {
  level: 'silent',
  trace() {}, debug() {}, info() {}, warn() {}, error() {}, fatal() {},
  child() { return logger }
}

/// Opens `sessionId` on `fake` with short test timeouts; `extra` overrides.
export function open(fake, sessionId, extra = {}) {
  return useAuthstoreAuthState({
    url: fake.url, token: TOKEN, sessionId, timeoutMs: 2000, ...extra
  })
}

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..',
  'tests', 'fixtures', 'baileys-v7')

/// The Baileys v7 fixtures of tests/fixtures/baileys-v7 (made by the real
/// baileys package, see its README) of one owner: [{ type, id, text }] for
/// the keys and { text } for creds, `text` exactly as Baileys' file store
/// wrote it.
export async function loadFixtures(owner) {
  const types = ['app-state-sync-version', 'app-state-sync-key', 'sender-key-memory',
    'sender-key', 'pre-key', 'session', 'lid-mapping', 'device-list', 'tctoken',
    'identity-key']
  const keys = []
  let creds
  for (const file of (await readdir(FIXTURES)).sort()) {
    if (!file.startsWith(`${owner}.`)) continue
    const name = file.slice(owner.length + 1, -'.json'.length)
    const text = await readFile(join(FIXTURES, file), 'utf8')
    if (name === 'creds') {
      creds = { text }
      continue
    }
    const type = types.find((t) => name.startsWith(`${t}-`))
    if (!type) throw new Error(`fixture ${file}: unknown key type`)
    // The file store maps '/' to '__' and ':' to '-' in names; the fixture
    // ids used here contain neither except the session/identity addresses,
    // whose ':' became '-' -- keep the file's spelling as the id.
    keys.push({ type, id: name.slice(type.length + 1), text })
  }
  return { keys, creds }
}

/// A fixture's value as Baileys' file store reads it back.
export function parseFixture(text) {
  return JSON.parse(text, BufferJSON.reviver)
}

/// Polls `predicate` every 10 ms until it holds (or fails after `ms`).
export async function eventually(predicate, what, ms = 5000) {
  const deadline = Date.now() + ms
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`not within ${ms} ms: ${what}`)
    await sleep(10)
  }
}
