// transport.js -- HTTP/1.1 to `authstore serve --api.port` through undici,
// with a per-request timeout and bounded retries of requests that cannot
// have been applied.
//
// Why undici: it is the Node project's own client and, measured for issue
// #14, round trips on a keep-alive Pool were about twice as fast as the
// built-in fetch. One Pool per (origin, connections) is shared by every
// handle of the process (a host running 500 accounts keeps a few sockets,
// not 500 pools), reference counted, and closed when its last handle closes.
//
// Guarantees:
//   - every request ends within timeoutMs per attempt (an AbortSignal), and
//     its body is always consumed, so a socket is never left half-read;
//   - a request is retried (at most `retries` times, backoff.js) only when it
//     cannot have been applied: the connection was refused or never made,
//     the server said 429/503 with may_have_applied false, or -- for a read,
//     which applies nothing -- the connection broke. Timeouts and 504 are
//     never retried (the server is slow: asking again adds load, and a
//     write's outcome is unknown).
// Ordering is NOT this layer's job: two requests may travel on two sockets
// and be answered in either order; session.js keeps one write in flight.
import { setTimeout as sleep } from 'node:timers/promises'
import { Pool } from 'undici'
import { backoffMs } from './backoff.js'
import { AuthstoreError, errorFromReply, errorFromTransport } from './errors.js'

const pools = new Map()

function acquirePool(origin, connections) {
  const key = `${origin}|${connections}`
  let entry = pools.get(key)
  if (!entry) {
    entry = {
      // pipelining 1: the server may answer pipelined requests, but one
      // slow request would then hold up every request queued behind it.
      pool: new Pool(origin, { connections, pipelining: 1 }),
      refs: 0
    }
    pools.set(key, entry)
  }
  ++entry.refs
  return {
    pool: entry.pool,
    release: async () => {
      if (--entry.refs === 0) {
        pools.delete(key)
        await entry.pool.close()
      }
    }
  }
}

// mayHaveApplied is false for every failure of a read, and for a write only
// when the server or the socket says nothing ran.
function shouldRetry(err) {
  if (!(err instanceof AuthstoreError) || err.mayHaveApplied) return false
  if (err.code === 'unreachable' || err.code === 'connection_lost') return true
  return err.retryable && (err.status === 429 || err.status === 503)
}

/// One authstore API endpoint: base url, credentials, timeout and retry
/// policy. `request` resolves to the body text of a 2xx reply and rejects
/// with an AuthstoreError otherwise.
export class Transport {
  constructor({ url, token, timeoutMs, retries, connections }) {
    const base = new URL(url)
    this.basePath_ = base.pathname.replace(/\/+$/, '')
    this.headers_ = token ? { authorization: `Bearer ${token}` } : {}
    this.timeoutMs_ = timeoutMs
    this.retries_ = retries
    const { pool, release } = acquirePool(base.origin, connections)
    this.pool_ = pool
    this.release_ = release
  }

  /// `write`: the request can change state (decides mayHaveApplied when no
  /// reply says otherwise, and so whether a broken connection is retried).
  async request({ method, path, body, write = false }) {
    for (let attempt = 0; ; ++attempt) {
      try {
        return await this.once_(method, path, body, write)
      } catch (err) {
        if (attempt >= this.retries_ || !shouldRetry(err)) {
          throw err
        }
        await sleep(backoffMs(attempt))
      }
    }
  }

  async once_(method, path, body, write) {
    const controller = new AbortController()
    let timedOut = false
    const timer = setTimeout(() => {
      timedOut = true
      controller.abort()
    }, this.timeoutMs_)
    const headers = body === undefined
      ? this.headers_
      : { ...this.headers_, 'content-type': 'application/json' }
    try {
      const reply = await this.pool_.request({
        method,
        path: this.basePath_ + path,
        headers,
        body,
        signal: controller.signal
      })
      const text = await reply.body.text()
      if (reply.statusCode >= 200 && reply.statusCode < 300) {
        return text
      }
      throw errorFromReply(reply.statusCode, text, write)
    } catch (err) {
      if (err instanceof AuthstoreError) throw err
      throw errorFromTransport(err, { write, timedOut, timeoutMs: this.timeoutMs_ })
    } finally {
      clearTimeout(timer)
    }
  }

  /// Drops this endpoint's reference to the shared pool (closing it when it
  /// was the last); requests still in flight complete first.
  release() {
    return this.release_()
  }
}
