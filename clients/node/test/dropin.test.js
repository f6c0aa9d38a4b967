// The drop-in property: useAuthstoreAuthState behaves as Baileys' own
// useMultiFileAuthState, checked side by side with the real file store on the
// repo's real Baileys fixtures (all ten key types) and through Baileys' own
// makeCacheableSignalKeyStore and addTransactionCapability.
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import {
  BufferJSON, addTransactionCapability, makeCacheableSignalKeyStore, proto,
  useMultiFileAuthState
} from 'baileys'
import { startFakeServer } from './fake-server.js'
import { TOKEN, loadFixtures, logger, open, parseFixture } from './helpers.js'

let fake
let dir
before(async () => {
  fake = await startFakeServer({ token: TOKEN })
  dir = await mkdtemp(join(tmpdir(), 'authstore-dropin-'))
})
after(async () => {
  await fake.close()
  await rm(dir, { recursive: true, force: true })
})

// Both stores, opened fresh on the same name.
async function both(name) {
  return {
    files: await useMultiFileAuthState(join(dir, name)),
    remote: await open(fake, name)
  }
}

describe('the returned object has useMultiFileAuthState\'s shape', () => {
  test('state.creds, state.keys.get/set, saveCreds, plus flush/close/removeSession', async () => {
    const { files, remote } = await both('shape')
    assert.deepEqual(Object.keys(remote.state).sort(), Object.keys(files.state).sort())
    // Everything the file store's keys have, plus the one extra method
    // `list` (Baileys' development branch's optional keys.list; not in rc14).
    assert.deepEqual(Object.keys(remote.state.keys).filter((k) => k !== 'list').sort(),
      Object.keys(files.state.keys).sort())
    assert.equal(typeof remote.state.keys.list, 'function')
    for (const key of Object.keys(files.state.creds)) {
      assert.equal(typeof remote.state.creds[key], typeof files.state.creds[key], key)
    }
    assert.deepEqual(Object.keys(remote.state.creds), Object.keys(files.state.creds))
    for (const fn of ['saveCreds', 'flush', 'close', 'removeSession']) {
      assert.equal(typeof remote[fn], 'function', fn)
    }
    await remote.close()
  })
})

describe('keys: the file store\'s semantics, value for value', () => {
  for (const owner of ['alice', 'bob']) {
    test(`${owner}: every fixture value set and read back equals the file store's (all ten types)`, async () => {
      const { keys } = await loadFixtures(owner)
      const { files, remote } = await both(`fixtures-${owner}`)
      const data = {}
      for (const { type, id, text } of keys) {
        data[type] ??= {}
        data[type][id] = parseFixture(text)
      }
      await files.state.keys.set(data)
      const writesBefore = fake.count('write')
      await remote.state.keys.set(data)
      assert.equal(fake.count('write') - writesBefore, 1, 'one request for all types of the call')
      for (const { type, id, text } of keys) {
        const fromFiles = await files.state.keys.get(type, [id, 'absent-id'])
        const fromRemote = await remote.state.keys.get(type, [id, 'absent-id'])
        assert.deepEqual(fromRemote, fromFiles, `${type} ${id}`)
        assert.equal(fromRemote['absent-id'], null, 'an absent id reads as null, as in the file store')
        // Byte-equal: written back the Baileys way, the text is the fixture's.
        assert.equal(JSON.stringify(fromRemote[id], BufferJSON.replacer),
          JSON.stringify(fromFiles[id], BufferJSON.replacer))
        if (type === 'app-state-sync-key') {
          assert.ok(fromRemote[id] instanceof proto.Message.AppStateSyncKeyData,
            'app-state-sync-key rebuilt with AppStateSyncKeyData.fromObject')
          assert.ok(Buffer.isBuffer(fromRemote[id].keyData) || fromRemote[id].keyData instanceof Uint8Array)
        } else {
          assert.equal(JSON.stringify(fromRemote[id], BufferJSON.replacer), text,
            `${type} ${id} byte-equal to the fixture`)
        }
      }
      const types = new Set(keys.map((k) => k.type))
      if (owner === 'alice') assert.equal(types.size, 9)
      if (owner === 'bob') assert.ok(types.has('identity-key'))
      await remote.close()
    })
  }

  test('Buffers come back as Buffers, byte-equal, including the empty one', async () => {
    const remote = await open(fake, 'buffers')
    const values = {
      empty: Buffer.alloc(0),
      bytes: Buffer.from([0, 1, 2, 253, 254, 255]),
      u8: new Uint8Array([9, 8, 7]),
      nested: { a: Buffer.from('abc'), list: [Buffer.from([1]), 'text'] }
    }
    await remote.state.keys.set({ session: values })
    const got = await remote.state.keys.get('session', Object.keys(values))
    assert.ok(Buffer.isBuffer(got.empty) && got.empty.length === 0)
    assert.ok(Buffer.isBuffer(got.bytes) && got.bytes.equals(values.bytes))
    assert.ok(Buffer.isBuffer(got.u8) && got.u8.equals(Buffer.from(values.u8)))
    assert.ok(Buffer.isBuffer(got.nested.a) && got.nested.a.equals(values.nested.a))
    assert.ok(Buffer.isBuffer(got.nested.list[0]))
    assert.equal(got.nested.list[1], 'text')
    await remote.close()
  })

  test('an unknown future key type passes through untouched', async () => {
    const { files, remote } = await both('future-type')
    const data = { 'future-type': { 'x:1': { blob: Buffer.from([5, 6]), n: 3, s: 'str' }, 2: ['a'] } }
    await files.state.keys.set(data)
    await remote.state.keys.set(data)
    assert.deepEqual(await remote.state.keys.get('future-type', ['x:1', '2', '3']),
      await files.state.keys.get('future-type', ['x:1', '2', '3']))
    await remote.close()
  })

  test('values map with all-numeric ids and number values is revived per value, as the file store does', async () => {
    const { files, remote } = await both('numeric-map')
    const data = { 'future-counter': { 1: 5, 2: 7 } }
    await files.state.keys.set(data)
    await remote.state.keys.set(data)
    const got = await remote.state.keys.get('future-counter', ['1', '2'])
    assert.deepEqual(got, await files.state.keys.get('future-counter', ['1', '2']))
    assert.deepEqual(got, { 1: 5, 2: 7 })
    await remote.close()
  })

  test('null, undefined (and any falsy value) delete, as the file store\'s `value ? write : remove`', async () => {
    const { files, remote } = await both('deletes')
    const initial = { 'pre-key': { 1: { public: Buffer.from([1]), private: Buffer.from([2]) } },
      'lid-mapping': { a: 'x', b: 'y', c: 'z' } }
    for (const s of [files, remote]) await s.state.keys.set(initial)
    const deletes = { 'pre-key': { 1: null }, 'lid-mapping': { a: undefined, b: '', c: null } }
    for (const s of [files, remote]) await s.state.keys.set(deletes)
    assert.deepEqual(fake.applied.at(-1).body.keys,
      { 'pre-key': { 1: null }, 'lid-mapping': { a: null, b: null, c: null } })
    for (const [type, ids] of [['pre-key', ['1']], ['lid-mapping', ['a', 'b', 'c']]]) {
      const got = await remote.state.keys.get(type, ids)
      assert.deepEqual(got, await files.state.keys.get(type, ids))
      assert.ok(Object.values(got).every((v) => v === null))
    }
    await remote.close()
  })

  test('an empty get and an empty set send nothing', async () => {
    const remote = await open(fake, 'empty-ops')
    const before = fake.log.length
    assert.deepEqual(await remote.state.keys.get('session', []), {})
    await remote.state.keys.set({})
    await remote.state.keys.set({ session: {} })
    assert.equal(fake.log.length, before)
    await remote.state.keys.set({ session: {}, 'sender-key': { g: Buffer.from([1]) } })
    assert.deepEqual(Object.keys(fake.applied.at(-1).body.keys), ['sender-key'], 'an empty type is not sent')
    await remote.close()
  })
})

describe('creds: saved and loaded as the file store does', () => {
  test('real creds (paired alice) survive save and reopen, equal to the file store\'s reload', async () => {
    const { creds } = await loadFixtures('alice')
    const { files, remote } = await both('creds-roundtrip')
    for (const s of [files, remote]) {
      Object.assign(s.state.creds, parseFixture(creds.text))
      await s.saveCreds()
    }
    await remote.close()
    const filesAgain = await useMultiFileAuthState(join(dir, 'creds-roundtrip'))
    const remoteAgain = await open(fake, 'creds-roundtrip')
    assert.deepEqual(remoteAgain.state.creds, filesAgain.state.creds)
    assert.equal(JSON.stringify(remoteAgain.state.creds, BufferJSON.replacer), creds.text)
    assert.ok(Buffer.isBuffer(remoteAgain.state.creds.noiseKey.private))
    await remoteAgain.close()
  })

  test('a field removed from creds is gone after reopen (the file store rewrites the file)', async () => {
    const { files, remote } = await both('creds-removed')
    for (const s of [files, remote]) {
      s.state.creds.me = { id: '1555:1@s.whatsapp.net', name: 'x' }
      await s.saveCreds()
      delete s.state.creds.me
      s.state.creds.lastPropHash = undefined
      await s.saveCreds()
    }
    await remote.close()
    const filesAgain = await useMultiFileAuthState(join(dir, 'creds-removed'))
    const remoteAgain = await open(fake, 'creds-removed')
    assert.equal(remoteAgain.state.creds.me, undefined)
    assert.equal(filesAgain.state.creds.me, undefined)
    // (Each store drew its own identity, so compare the fields held.)
    assert.deepEqual(Object.keys(remoteAgain.state.creds).sort(),
      Object.keys(filesAgain.state.creds).sort())
    await remoteAgain.close()
  })
})

describe('through Baileys\' own wrappers', () => {
  test('makeCacheableSignalKeyStore over state.keys: cached reads, writes through', async () => {
    const remote = await open(fake, 'cacheable')
    const keys = makeCacheableSignalKeyStore(remote.state.keys, logger)
    await keys.set({ session: { a: Buffer.from([1]) }, 'sender-key': { g: Buffer.from([2]) } })
    const reads = fake.count('read')
    assert.deepEqual(await keys.get('session', ['a']), { a: Buffer.from([1]) })
    assert.equal(fake.count('read'), reads, 'served from the cache')
    assert.deepEqual(await keys.get('session', ['b']), {}, 'the wrapper drops absent (null) ids')
    assert.equal(fake.count('read'), reads + 1)
    await remote.close()
    const again = await open(fake, 'cacheable')
    assert.deepEqual(await again.state.keys.get('sender-key', ['g']), { g: Buffer.from([2]) })
    await again.close()
  })

  test('addTransactionCapability: a transaction commits every type in one write', async () => {
    const remote = await open(fake, 'transaction')
    const keys = addTransactionCapability(
      makeCacheableSignalKeyStore(remote.state.keys, logger), logger,
      { maxCommitRetries: 1, delayBetweenTriesMs: 1 })
    await keys.set({ 'pre-key': { 1: { public: Buffer.from([1]), private: Buffer.from([1]) } } })
    const writes = fake.count('write')
    const result = await keys.transaction(async () => {
      await keys.set({ session: { s1: Buffer.from([1]) } })
      // As libsignal does: load the one-time pre-key, then remove it (the
      // transaction deletes only pre-keys it has read).
      assert.ok((await keys.get('pre-key', ['1']))[1])
      await keys.set({ 'sender-key-memory': { g: { a: true } }, 'pre-key': { 1: null } })
      assert.deepEqual(await keys.get('session', ['s1']), { s1: Buffer.from([1]) })
      return 'done'
    }, 'tx-key')
    assert.equal(result, 'done')
    assert.equal(fake.count('write'), writes + 1, 'one commit')
    assert.deepEqual(Object.keys(fake.applied.at(-1).body.keys).sort(),
      ['pre-key', 'sender-key-memory', 'session'])
    assert.deepEqual(await remote.state.keys.get('pre-key', ['1']), { 1: null })
    await remote.close()
  })
})
