// lease.js -- the client lease: one process drives one WhatsApp account.
//
// Why: two processes with the same Signal state answer messages with
// diverging ratchets ("Bad MAC" storms), and Baileys' own locks are
// in-process. The lease (docs/HTTP-API.md, "Leases") is (holder, epoch,
// expiry) in Redis; every write carries {holder, epoch} and the engine checks
// it in the same Lua script as the write, so a process that lost the lease
// cannot write, however late its request arrives.
//
// Lifecycle:
//
//   acquire ──ok──▶ held ──renew ok (same epoch, in time)──▶ held
//      │              │
//      │              ├─ renew: session_in_use, another epoch, or the renewal
//      │              │  was sent after the lease may have expired ──▶ lost
//      │              ├─ a write answered `fenced` (markLost) ─────────▶ lost
//      │              └─ release (close) ──▶ released
//      └─ session_in_use ──▶ open fails
//
// `lost` is final: the process's in-memory Signal state may differ from the
// stored one, so it must reopen (and reload) rather than carry on.
// Renewal: every ttl/3 (so two renewals can fail before expiry); after a
// failed renewal, sooner (backoff.js). "May have expired" is judged on a
// monotonic clock from the send time of the last successful renewal: the
// server's expiry is at least that send time + ttl.
// Timers are unref'd: a lease never keeps a process alive on its own.
import { randomUUID } from 'node:crypto'
import { performance } from 'node:perf_hooks'
import { backoffMs } from './backoff.js'
import { AuthstoreError } from './errors.js'

/// Holder and epoch of a lease held by this process, renewed while open.
export class Lease {
  constructor(transport, sessionPath, { ttlMs, takeover, onLost }) {
    this.transport_ = transport
    this.path_ = `${sessionPath}/lease`
    this.ttlMs_ = ttlMs
    this.takeover_ = takeover
    this.onLost_ = onLost
    this.holder = randomUUID()
    this.epoch = undefined
    this.lost = null
    this.validUntil_ = 0
    this.timer_ = null
    this.renewing_ = null
    this.failures_ = 0
    this.stopped_ = false
  }

  /// The lease field every write carries.
  json() {
    return `"lease":${JSON.stringify({ holder: this.holder, epoch: this.epoch })}`
  }

  /// Takes the lease (or, with takeover, takes it from its holder); rejects
  /// with session_in_use when another holder's lease is live.
  async acquire() {
    const sent = performance.now()
    const reply = await this.post_(this.takeover_)
    this.epoch = reply.epoch
    this.ttlMs_ = reply.ttl_ms
    this.validUntil_ = sent + reply.ttl_ms
    this.schedule_(reply.ttl_ms / 3)
  }

  /// Marks the lease lost (a write was fenced); stops renewing.
  markLost(err) {
    if (this.lost) return
    this.lost = err
    this.stop_()
    if (this.onLost_) {
      // A throwing callback surfaces as an uncaught exception, not as a
      // failure of the write that found out.
      queueMicrotask(() => this.onLost_(err))
    }
  }

  /// Stops renewing, waits for a renewal in flight (else it could take the
  /// lease again after the release), and releases. Resolves to whether the
  /// server released it; false also when the release failed (the lease then
  /// expires after its ttl).
  async release() {
    this.stop_()
    await this.renewing_
    // Sent even when lost: a renewal that found the lease re-taken (another
    // epoch) holds it now, and the server releases only the holder's own.
    try {
      const text = await this.transport_.request({
        method: 'DELETE',
        path: this.path_,
        body: JSON.stringify({ holder: this.holder }),
        write: true
      })
      return JSON.parse(text).released === true
    } catch {
      return false
    }
  }

  /// Renews now and resolves once the lease is confirmed held; rejects with
  /// `fenced` when it is not, or with the renewal's error (used before
  /// deleting the session).
  async confirm() {
    await this.renewing_
    if (this.lost) throw this.lost
    if (this.timer_) {
      clearTimeout(this.timer_)
      this.timer_ = null
    }
    const renewal = this.renew_()
    this.renewing_ = renewal.finally(() => { this.renewing_ = null })
    const failure = await renewal
    if (this.lost) throw this.lost
    if (failure) throw failure
  }

  async post_(takeover) {
    const text = await this.transport_.request({
      method: 'POST',
      path: this.path_,
      body: JSON.stringify({ holder: this.holder, ttl_ms: this.ttlMs_, takeover }),
      write: true
    })
    const reply = JSON.parse(text)
    if (!Number.isSafeInteger(reply?.epoch) || !(reply.ttl_ms > 0)) {
      throw new AuthstoreError('bad_response', 'lease reply without epoch and ttl_ms')
    }
    return reply
  }

  schedule_(delayMs) {
    if (this.stopped_) return
    this.timer_ = setTimeout(() => {
      this.timer_ = null
      this.renewing_ = this.renew_().finally(() => { this.renewing_ = null })
    }, delayMs)
    this.timer_.unref()
  }

  // Resolves to the error of a failed renewal that did not lose the lease
  // (a retry is scheduled), else undefined.
  async renew_() {
    const sent = performance.now()
    let reply
    try {
      reply = await this.post_(false)
    } catch (err) {
      if (err.code === 'session_in_use') {
        this.lose_('another holder took the session')
        return undefined
      }
      ++this.failures_
      this.schedule_(Math.max(10, backoffMs(this.failures_ - 1, Math.random,
        this.ttlMs_ / 20, this.ttlMs_ / 6)))
      return err
    }
    if (reply.epoch !== this.epoch) {
      this.lose_(`the lease was taken again (epoch ${this.epoch} -> ${reply.epoch})`)
    } else if (sent > this.validUntil_) {
      this.lose_('renewals failed until the lease may have expired')
    } else {
      this.failures_ = 0
      this.ttlMs_ = reply.ttl_ms
      this.validUntil_ = sent + reply.ttl_ms
      this.schedule_(reply.ttl_ms / 3)
    }
  }

  lose_(why) {
    this.markLost(new AuthstoreError('fenced',
      `this process no longer holds the session's lease (${why}); its writes are refused: reopen to reload the state`,
      { status: 409 }))
  }

  stop_() {
    this.stopped_ = true
    if (this.timer_) {
      clearTimeout(this.timer_)
      this.timer_ = null
    }
  }
}
