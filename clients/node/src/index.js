// index.js -- useAuthstoreAuthState: Baileys' useMultiFileAuthState, with the
// state in authstore instead of a folder.
//
// Why: a folder of JSON files is one machine's disk and has no fencing; an
// authstore session is shared, durable (Redis + cold store) and versioned.
// A user changes one line -- useMultiFileAuthState(folder) becomes
// useAuthstoreAuthState({ url, token, sessionId }) -- and keeps
// makeWASocket({ auth: { creds: state.creds, keys:
// makeCacheableSignalKeyStore(state.keys, logger) } }) and
// sock.ev.on('creds.update', saveCreds).
//
// Opening, in order: take the lease (unless lease: false), read the creds,
// and only when the server answers 404 not_found create new ones with
// Baileys' initAuthCreds(). Any other outcome -- authstore, Redis or the cold
// store down, a timeout, a 5xx, a proxy's error page -- rejects: a fresh
// identity for an existing account logs the account out (invariant 4).
// The semantics of state.keys and saveCreds are the file store's, value for
// value (codec.js); the ordering and failure rules are session.js's; the
// lease is lease.js's; the wire is transport.js's.
import { initAuthCreds } from 'baileys'
import { encodeCredsPatch, encodeKeysPatch } from './codec.js'
import { AuthstoreError } from './errors.js'
import { Lease } from './lease.js'
import { Session } from './session.js'
import { Transport } from './transport.js'

export { AuthstoreError } from './errors.js'

/// Defaults, each with its reason.
export const DEFAULTS = Object.freeze({
  /// Per request attempt (ms): the server's own bound is
  /// session.request-timeout-ms plus its margin, well under this.
  timeoutMs: 10_000,
  /// Retries of a request that cannot have been applied (429/503 with
  /// may_have_applied false, connection refused): rides out a restart.
  retries: 3,
  /// Lease time to live (ms), renewed every third: a crashed process blocks
  /// its account for at most this long (or until a takeover).
  leaseTtlMs: 30_000,
  /// Sockets per authstore origin, shared by every session of the process:
  /// one write per session is in flight, so a few sockets serve many.
  connections: 16
})

function invalid(what) {
  return new AuthstoreError('invalid_argument', what)
}

function positiveInteger(value, name, min) {
  if (!Number.isSafeInteger(value) || value < min) {
    throw invalid(`${name} must be an integer >= ${min}`)
  }
  return value
}

function checkOptions(options) {
  if (!options || typeof options !== 'object') {
    throw invalid('useAuthstoreAuthState({ url, token, sessionId }) takes an options object')
  }
  const { url, sessionId } = options
  let parsed
  try {
    parsed = new URL(url)
  } catch {
    throw invalid('url must be the authstore API base url, e.g. http://127.0.0.1:8080')
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw invalid('url must start with http:// or https://')
  }
  if (typeof sessionId !== 'string' || sessionId === '') {
    throw invalid('sessionId must be a non-empty string')
  }
  const token = options.token ?? process.env.AUTHSTORE_SECRET
  if (token !== undefined && typeof token !== 'string') {
    throw invalid('token must be a string (the node\'s shared secret)')
  }
  const lease = options.lease ?? true
  const takeover = options.takeover ?? false
  if (takeover && !lease) throw invalid('takeover: true needs the lease (lease: false given)')
  if (options.onLeaseLost !== undefined && typeof options.onLeaseLost !== 'function') {
    throw invalid('onLeaseLost must be a function')
  }
  return {
    url: parsed.href,
    sessionId,
    token: token || undefined,
    lease: lease !== false,
    takeover: takeover === true,
    onLeaseLost: options.onLeaseLost,
    timeoutMs: positiveInteger(options.timeoutMs ?? DEFAULTS.timeoutMs, 'timeoutMs', 1),
    retries: positiveInteger(options.retries ?? DEFAULTS.retries, 'retries', 0),
    leaseTtlMs: positiveInteger(options.leaseTtlMs ?? DEFAULTS.leaseTtlMs, 'leaseTtlMs', 100),
    connections: positiveInteger(options.connections ?? DEFAULTS.connections, 'connections', 1)
  }
}

function inUse(err, sessionId) {
  const expires = err.holderExpiresInMs === undefined
    ? ''
    : ` (its lease expires in ${err.holderExpiresInMs} ms)`
  return new AuthstoreError('session_in_use',
    `session ${sessionId} is open in another process${expires}; two processes on one account cause "Bad MAC" errors: stop the other one, wait for its lease, or open with takeover: true`,
    { status: err.status, holderExpiresInMs: err.holderExpiresInMs })
}

async function open(session, opts, transport) {
  if (opts.lease) {
    const lease = new Lease(transport, session.path, {
      ttlMs: opts.leaseTtlMs,
      takeover: opts.takeover,
      onLost: opts.onLeaseLost
    })
    try {
      await lease.acquire()
    } catch (err) {
      // A lost reply may hide a granted lease: give it back rather than
      // block the account until it expires.
      if (err.mayHaveApplied) await lease.release()
      if (err.code === 'session_in_use') throw inUse(err, opts.sessionId)
      throw err
    }
    session.lease = lease
  }
  return session.readCreds()
}

/// Opens session `sessionId` on the authstore API at `url`; resolves to what
/// Baileys' useMultiFileAuthState resolves to, plus flush, close and
/// removeSession (index.d.ts documents every option).
export async function useAuthstoreAuthState(options) {
  const opts = checkOptions(options)
  const transport = new Transport(opts)
  const session = new Session(transport, opts.sessionId)
  let stored
  try {
    stored = await open(session, opts, transport)
  } catch (err) {
    await session.close()
    throw err
  }
  const creds = stored ?? initAuthCreds()
  const knownFields = new Set(Object.keys(stored ?? {}))

  return {
    state: {
      creds,
      keys: {
        get: async (type, ids) => session.readKeys(type, ids),
        set: async (data) => {
          const part = encodeKeysPatch(data)
          if (part !== undefined) await session.write([part])
        },
        // Not in Baileys 7.0.0-rc14's SignalKeyStore (its development
        // branch adds an optional list for its auth-state migration): an
        // extra method, ignored by Baileys itself.
        list: async (type) => session.listKeys(type)
      }
    },
    saveCreds: async () => {
      await session.write([encodeCredsPatch(creds, knownFields)])
    },
    flush: () => session.flush(),
    close: () => session.close(),
    removeSession: () => session.remove()
  }
}
