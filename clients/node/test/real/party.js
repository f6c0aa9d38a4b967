// party.js -- shared by the real-server tests and their child processes: the
// environment they need, and a Baileys "party" (the auth state of one
// account) driven without a socket, the way tests/fixtures/make-fixtures.mjs
// does it: Baileys' own makeCacheableSignalKeyStore, addTransactionCapability
// and libsignal repository over useAuthstoreAuthState.
//
// These tests need a real `authstore serve --api.port` (AUTHSTORE_TEST_API_URL,
// token from AUTHSTORE_TEST_API_TOKEN or AUTHSTORE_SECRET). Without it they
// are skipped and say so on stdout in the words CTest's
// SKIP_REGULAR_EXPRESSION matches (tests/CMakeLists.txt): a skipped test is
// never counted as passed.
import {
  addTransactionCapability, generateSignalPubKey, getNextPreKeys,
  makeCacheableSignalKeyStore
} from 'baileys'
import { makeLibSignalRepository } from 'baileys/lib/Signal/libsignal.js'
import { useAuthstoreAuthState } from '../../src/index.js'

export const API_URL = process.env.AUTHSTORE_TEST_API_URL
export const API_TOKEN = process.env.AUTHSTORE_TEST_API_TOKEN ?? process.env.AUTHSTORE_SECRET

/// The `skip` option of every real-server test: false when the server is
/// configured, else the reason, also printed once for CTest.
export function realServerSkip() {
  if (API_URL) return false
  const reason = 'real-server tests NOT run: AUTHSTORE_TEST_API_URL is not set (start `authstore serve --api.port P` and set it to http://127.0.0.1:P)'
  console.log(reason)
  return reason
}

export const logger = {
  level: 'silent',
  trace() {}, debug() {}, info() {}, warn() {}, error() {}, fatal() {},
  child() { return logger }
}

export const ALICE = { name: 'alice', jid: '15550001111:12@s.whatsapp.net' }
export const BOB = { name: 'bob', jid: '15550002222@s.whatsapp.net' }

/// Opens one account's state in authstore and layers Baileys on it as a
/// socket does. A new account gets its creds saved and 5 one-time pre-keys;
/// with `mustExist`, a new account is an error (the state was not loaded).
export async function openParty(who, sessionId, { mustExist = false, ...options } = {}) {
  const handle = await useAuthstoreAuthState({ url: API_URL, token: API_TOKEN, sessionId, ...options })
  if (mustExist && handle.state.creds.nextPreKeyId === 1) {
    await handle.close()
    throw new Error(`${who.name}: the state came back fresh, the stored creds were not loaded`)
  }
  const keys = addTransactionCapability(makeCacheableSignalKeyStore(handle.state.keys, logger),
    logger, { maxCommitRetries: 1, delayBetweenTriesMs: 1 })
  const auth = { creds: handle.state.creds, keys }
  const repo = makeLibSignalRepository(auth, logger, async () => undefined)
  if (handle.state.creds.nextPreKeyId === 1) {
    const { update } = await getNextPreKeys(auth, 5)
    Object.assign(auth.creds, update)
    await handle.saveCreds()
  }
  return { who, handle, auth, repo }
}

/// The pre-key bundle a server would hand out for `party` (one-time pre-key
/// `preKeyId`), as parseAndInjectE2ESessions builds it (the same bundle as
/// tests/fixtures/make-fixtures.mjs's preKeyBundle, which runs on import and
/// so cannot be imported).
export async function preKeyBundle(party, preKeyId) {
  const { creds, keys } = party.auth
  const { [preKeyId]: preKey } = await keys.get('pre-key', [String(preKeyId)])
  return {
    registrationId: creds.registrationId,
    identityKey: generateSignalPubKey(creds.signedIdentityKey.public),
    signedPreKey: {
      keyId: creds.signedPreKey.keyId,
      publicKey: generateSignalPubKey(creds.signedPreKey.keyPair.public),
      signature: creds.signedPreKey.signature
    },
    preKey: { keyId: preKeyId, publicKey: generateSignalPubKey(preKey.public) }
  }
}

/// `from` encrypts `text` to `to`, `to` decrypts; resolves to the message
/// type and the plaintext `to` read.
export async function send(from, to, text) {
  const { type, ciphertext } = await from.repo.encryptMessage({ jid: to.who.jid, data: Buffer.from(text) })
  const plain = await to.repo.decryptMessage({ jid: from.who.jid, type, ciphertext })
  return { type, text: Buffer.from(plain).toString() }
}
