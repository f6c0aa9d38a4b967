// session.js -- one open session: its ordered writes, its reads, flush,
// close and removal.
//
// Ordering (why one write in flight): the keep-alive pool may put two
// requests of one session on two sockets, and the server may then apply them
// in either order -- "set key K to A, then to B" could end with A. So a
// session's writes form one queue: a write is sent only after the previous
// one was answered, in the order saveCreds/keys.set were called. A read waits
// for the writes issued before it (a process reads its own writes) but not
// for writes issued after it; reads do not wait for each other.
//
// Failure: a failed write rejects its own promise only; later writes still
// go (each carries whole values, so nothing later depends on an earlier one
// having landed). flush() reports the failures of the writes issued since
// the previous flush(). A write answered `fenced` marks the lease lost, and
// every later write is refused here, without a request.
//
// Closing: close() refuses new operations, waits for the queued writes and
// the reads in flight, releases the lease, then drops the pool reference.
// removeSession() is a write in the queue (so nothing issued before it lands
// after it, and nothing issued after it recreates the session), then close().
import { reviveKey, reviveValue } from './codec.js'
import { AuthstoreError } from './errors.js'

const sessionsPath = (sessionId) => `/v1/sessions/${encodeURIComponent(sessionId)}`

function parseReply(text, what) {
  try {
    return JSON.parse(text)
  } catch {
    throw new AuthstoreError('bad_response', `the ${what} reply is not JSON`)
  }
}

/// The authstore side of one Baileys auth state.
export class Session {
  constructor(transport, sessionId) {
    this.transport_ = transport
    this.sessionId = sessionId
    this.path = sessionsPath(sessionId)
    this.lease = null
    this.tail_ = Promise.resolve()
    this.issued_ = 0
    this.flushedUpTo_ = 0
    this.failures_ = new Map()
    this.reads_ = new Set()
    this.closing_ = null
    this.removed_ = false
  }

  /// The stored creds (revived), or undefined when the server says the
  /// session has none (404 not_found: a successful read of nothing). Every
  /// other failure rejects: a store error must never look like a new account.
  async readCreds() {
    try {
      const text = await this.read_({ method: 'GET', path: `${this.path}/creds` })
      const reply = parseReply(text, 'creds')
      if (!reply || typeof reply.creds !== 'object' || reply.creds === null
        || Array.isArray(reply.creds)) {
        throw new AuthstoreError('bad_response', 'the creds reply has no creds object')
      }
      return reviveValue(reply.creds)
    } catch (err) {
      if (err.status === 404 && err.code === 'not_found') return undefined
      throw err
    }
  }

  /// keys.get: every requested id present, null when absent (as Baileys'
  /// file store returns it).
  async readKeys(type, ids) {
    const out = {}
    if (ids.length === 0) return out
    const text = await this.read_({
      method: 'POST',
      path: `${this.path}/keys/${encodeURIComponent(type)}/read`,
      body: JSON.stringify({ ids: ids.map(String) })
    })
    const reply = parseReply(text, 'keys read')
    const keys = reply?.keys
    if (!keys || typeof keys !== 'object' || Array.isArray(keys)) {
      throw new AuthstoreError('bad_response', 'the keys read reply has no keys object')
    }
    for (const id of ids) {
      out[id] = Object.hasOwn(keys, id) ? reviveKey(type, keys[id]) : null
    }
    return out
  }

  /// keys.list (an extra method): every id stored for `type`, sorted as
  /// the server sorts them (byte order).
  async listKeys(type) {
    const text = await this.read_({
      method: 'GET',
      path: `${this.path}/keys/${encodeURIComponent(type)}`
    })
    const reply = parseReply(text, 'keys list')
    if (!Array.isArray(reply?.ids) || !reply.ids.every((id) => typeof id === 'string')) {
      throw new AuthstoreError('bad_response', 'the keys list reply has no ids array')
    }
    return reply.ids
  }

  /// Queues one patch (its creds/keys parts already serialized) behind the
  /// session's earlier writes; resolves to the new version.
  write(parts) {
    return this.enqueue_(() => this.sendPatch_(parts))
  }

  /// Resolves once every write issued before the call was acknowledged;
  /// rejects with the first failure among the writes issued since the
  /// previous flush() (or the open).
  async flush() {
    const from = this.flushedUpTo_
    const upTo = this.issued_
    this.flushedUpTo_ = upTo
    await this.tail_
    let first
    for (let seq = from + 1; seq <= upTo; ++seq) {
      if (this.failures_.has(seq)) {
        first ??= this.failures_.get(seq)
        this.failures_.delete(seq)
      }
    }
    if (first) throw first
  }

  /// Deletes the session (after the writes issued before), then closes.
  async remove() {
    await this.enqueue_(async () => {
      // The DELETE carries the lease: the server fences it in the same Lua
      // script as the delete, so a process that lost the session cannot
      // delete its new holder's state.
      if (this.lease?.lost) throw this.lease.lost
      const body = this.lease ? `{${this.lease.json()}}` : undefined
      try {
        await this.transport_.request({ method: 'DELETE', path: this.path, body, write: true })
      } catch (err) {
        if (err.code === 'fenced' && this.lease) this.lease.markLost(err)
        throw err
      }
      this.removed_ = true
    })
    await this.close()
  }

  /// Refuses new operations, drains, releases the lease and the pool.
  close() {
    this.closing_ ??= this.shutdown_()
    return this.closing_
  }

  async shutdown_() {
    await this.tail_
    await Promise.allSettled([...this.reads_])
    if (this.lease) await this.lease.release()
    await this.transport_.release()
  }

  checkOpen_() {
    if (this.closing_ || this.removed_) {
      throw new AuthstoreError('closed', this.removed_
        ? `session ${this.sessionId} was removed through this handle; open it again to start over`
        : `the handle of session ${this.sessionId} is closed`)
    }
  }

  enqueue_(job) {
    try {
      this.checkOpen_()
    } catch (err) {
      return Promise.reject(err)
    }
    const seq = ++this.issued_
    const done = this.tail_.then(() => {
      this.refuseIfRemoved_()
      return job()
    })
    this.tail_ = done.then(() => {}, (err) => { this.failures_.set(seq, err) })
    return done
  }

  // A write queued before close() still runs; one queued behind a
  // successful removal does not (it would recreate the session).
  refuseIfRemoved_() {
    if (this.removed_) {
      throw new AuthstoreError('closed',
        `session ${this.sessionId} was removed through this handle; the write was not sent`)
    }
  }

  async sendPatch_(parts) {
    if (this.lease?.lost) throw this.lease.lost
    const fields = this.lease ? [...parts, this.lease.json()] : parts
    try {
      const text = await this.transport_.request({
        method: 'POST',
        path: `${this.path}/write`,
        body: `{${fields.join(',')}}`,
        write: true
      })
      return parseReply(text, 'write').version
    } catch (err) {
      if (err.code === 'fenced' && this.lease) this.lease.markLost(err)
      throw err
    }
  }

  // A read waits for the writes issued before it, then runs unordered.
  async read_(request) {
    this.checkOpen_()
    const run = this.tail_.then(() => this.transport_.request(request))
    this.reads_.add(run)
    try {
      return await run
    } finally {
      this.reads_.delete(run)
    }
  }
}
