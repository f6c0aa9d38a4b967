// helpers.js -- what several test files share: a silent logger, the repo's
// real Baileys fixtures, an opener with test defaults, and a poll helper.
import { readdir, readFile } from 'node:fs/promises'
import { createServer } from 'node:net'
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
    // The id is the file name's spelling: the file store had mapped ':' to
    // '-' (a sender key's "g.us::1555::12" is "g.us--1555--12" here), which
    // is still a valid id; the values are what matter.
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

/// A loopback port nothing listens on (the kernel picked it, then it was
/// closed again).
export function freePort() {
  return new Promise((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address()
      probe.close(() => resolve(port))
    })
  })
}
