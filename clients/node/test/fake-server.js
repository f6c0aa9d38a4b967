// fake-server.js -- an in-memory authstore HTTP API (docs/HTTP-API.md) for the
// client's tests, with switchable failures. NOT the real server: it follows
// the contract as the client reads it; the real-server tests in test/real/
// run against `authstore serve` when AUTHSTORE_TEST_API_URL is set.
//
// What it implements: every route of the contract, bearer auth, versions
// (one per applied write), expected_version conflicts, leases (holder, epoch,
// expiry; takeover; epochs never reused per session, also across release and
// delete), fencing of writes that carry a lease, the error body shape.
// Values are stored as the JSON the client sent (the client sends the v7
// base64 form only; the real server also normalizes the other two forms).
//
// For tests: `log` holds every request in arrival order ({method, path,
// body}); `applied` every applied write in apply order; `failNext(spec)`
// makes the next matching requests fail (status + error body, `hang`,
// `reset`, or `html`), optionally after applying a write; `delayWrite(fn)`
// holds a write for fn(body) ms before applying it, so a client that sent
// two writes of one session at once would see them applied out of order.
import { createServer } from 'node:http'

function sendJson(res, status, body, headers = {}) {
  const text = JSON.stringify(body)
  res.writeHead(status, { 'content-type': 'application/json', ...headers })
  res.end(text)
}

function sendError(res, status, error, extra = {}) {
  const retryable = status === 429 || status === 503 || status === 504
  sendJson(res, status, {
    error,
    message: `${error} (fake server)`,
    retryable,
    may_have_applied: false,
    ...extra
  }, status === 401 ? { 'www-authenticate': 'Bearer' } : {})
}

class Store {
  constructor() {
    this.sessions = new Map()
  }

  session(sid) {
    let s = this.sessions.get(sid)
    if (!s) {
      s = { creds: new Map(), keys: new Map(), version: 0, exists: false, lease: null, epochs: 0 }
      this.sessions.set(sid, s)
    }
    return s
  }

  // The write of the contract: lease check, expected_version, then all of it.
  write(sid, patch, now) {
    const s = this.session(sid)
    if (patch.lease) {
      const l = s.lease
      if (!l || l.holder !== patch.lease.holder || l.epoch !== patch.lease.epoch
        || l.expiresAt <= now) {
        return { status: 409, error: 'fenced' }
      }
    }
    if (patch.expected_version !== undefined && patch.expected_version !== s.version) {
      return { status: 409, error: 'version_conflict', extra: { current_version: s.version } }
    }
    for (const [field, value] of Object.entries(patch.creds ?? {})) {
      if (value === null) s.creds.delete(field)
      else s.creds.set(field, value)
    }
    for (const [type, ids] of Object.entries(patch.keys ?? {})) {
      let map = s.keys.get(type)
      if (!map) s.keys.set(type, map = new Map())
      for (const [id, value] of Object.entries(ids)) {
        if (value === null) map.delete(id)
        else map.set(id, value)
      }
    }
    s.exists = true
    s.version += 1
    return { status: 200, body: { version: s.version } }
  }

  leaseHolds(sid, lease, now) {
    const l = this.sessions.get(sid)?.lease
    return !!l && l.holder === lease.holder && l.epoch === lease.epoch && l.expiresAt > now
  }

  lease(sid, { holder, ttl_ms: ttlMs, takeover }, now) {
    const s = this.session(sid)
    const live = s.lease && s.lease.expiresAt > now
    if (live && s.lease.holder === holder) {
      s.lease.expiresAt = now + ttlMs
    } else if (live && !takeover) {
      return { status: 409, error: 'session_in_use', extra: { holder_expires_in_ms: s.lease.expiresAt - now } }
    } else {
      s.epochs += 1
      s.lease = { holder, epoch: s.epochs, expiresAt: now + ttlMs }
    }
    return { status: 200, body: { epoch: s.lease.epoch, ttl_ms: ttlMs } }
  }
}

const ROUTES = [
  ['GET', /^\/v1\/health$/, 'health'],
  ['GET', /^\/v1\/sessions\/([^/]+)\/creds$/, 'creds'],
  ['POST', /^\/v1\/sessions\/([^/]+)\/keys\/([^/]+)\/read$/, 'read'],
  ['GET', /^\/v1\/sessions\/([^/]+)\/keys\/([^/]+)$/, 'list'],
  ['POST', /^\/v1\/sessions\/([^/]+)\/write$/, 'write'],
  ['DELETE', /^\/v1\/sessions\/([^/]+)$/, 'delete'],
  ['GET', /^\/v1\/sessions\/([^/]+)\/exists$/, 'exists'],
  ['POST', /^\/v1\/sessions\/([^/]+)\/touch$/, 'touch'],
  ['POST', /^\/v1\/sessions\/([^/]+)\/lease$/, 'lease'],
  ['DELETE', /^\/v1\/sessions\/([^/]+)\/lease$/, 'release']
]

function route(method, path) {
  let known = false
  for (const [m, re, name] of ROUTES) {
    const match = re.exec(path)
    if (!match) continue
    known = true
    if (m === method) {
      return { name, args: match.slice(1).map(decodeURIComponent) }
    }
  }
  return { name: known ? 'method_not_allowed' : 'no_route', args: [] }
}

/// Starts the fake on loopback `port` (0 = a free one). `token`: the shared
/// secret (undefined = no auth). Resolves to the control object described above.
export async function startFakeServer({ token, port: wanted = 0, now = () => Date.now() } = {}) {
  const store = new Store()
  const log = []
  const applied = []
  const failures = []
  const hung = new Set()
  let writeDelay = () => 0

  const handle = async (req, res, text) => {
    const url = new URL(req.url, 'http://fake')
    let body
    if (text !== '') {
      if (!String(req.headers['content-type']).startsWith('application/json')) {
        return sendError(res, 400, 'invalid_argument', { detail: 'a body needs Content-Type: application/json' })
      }
      try {
        body = JSON.parse(text)
      } catch {
        return sendError(res, 400, 'bad_json')
      }
    }
    const { name, args } = route(req.method, url.pathname)
    const entry = { method: req.method, path: url.pathname, route: name, sid: args[0], body }
    log.push(entry)
    if (name !== 'health' && token !== undefined
      && req.headers.authorization !== `Bearer ${token}`) {
      return sendError(res, 401, 'unauthorized')
    }
    const failure = failures.find((f) => f.count > 0 && f.match(entry))
    if (failure) {
      failure.count -= 1
      if (failure.apply && name === 'write') {
        applied.push({ sid: args[0], body })
        store.write(args[0], body, now())
      }
      if (failure.mode === 'hang') {
        hung.add(res)
        return undefined
      }
      if (failure.mode === 'reset') {
        req.socket.destroy()
        return undefined
      }
      if (failure.mode === 'html') {
        res.writeHead(failure.status ?? 502, { 'content-type': 'text/html' })
        return res.end('<html><body>Bad Gateway</body></html>')
      }
      return sendJson(res, failure.status, {
        error: failure.error,
        message: `${failure.error} (fake server, injected)`,
        retryable: failure.retryable ?? [429, 503, 504].includes(failure.status),
        may_have_applied: failure.mayHaveApplied ?? false
      })
    }
    const sid = args[0]
    switch (name) {
      case 'health':
        return sendJson(res, 200, { status: 'ok' })
      case 'creds': {
        const s = store.sessions.get(sid)
        if (!s || s.creds.size === 0) return sendError(res, 404, 'not_found')
        return sendJson(res, 200, { version: s.version, creds: Object.fromEntries(s.creds) })
      }
      case 'read': {
        const s = store.sessions.get(sid)
        const map = s?.keys.get(args[1])
        const keys = {}
        for (const id of body?.ids ?? []) {
          if (map?.has(id)) keys[id] = map.get(id)
        }
        return sendJson(res, 200, { version: s?.version ?? 0, keys })
      }
      case 'list': {
        const s = store.sessions.get(sid)
        return sendJson(res, 200, { version: s?.version ?? 0, ids: [...(s?.keys.get(args[1])?.keys() ?? [])] })
      }
      case 'write': {
        const delay = writeDelay(body)
        if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay))
        const result = store.write(sid, body, now())
        if (result.status !== 200) {
          return sendError(res, result.status, result.error, result.extra)
        }
        applied.push({ sid, body })
        return sendJson(res, 200, result.body)
      }
      case 'delete': {
        // The contract's DELETE may carry {"lease": {holder, epoch}},
        // fenced like a write.
        if (body?.lease && !store.leaseHolds(sid, body.lease, now())) {
          return sendError(res, 409, 'fenced')
        }
        const s = store.session(sid)
        const existed = s.exists
        s.creds.clear()
        s.keys.clear()
        s.exists = false
        s.version += 1
        applied.push({ sid, body: 'DELETE' })
        return sendJson(res, 200, { existed, version: s.version })
      }
      case 'exists':
      case 'touch':
        return sendJson(res, 200, { exists: store.sessions.get(sid)?.exists ?? false })
      case 'lease': {
        const result = store.lease(sid, body, now())
        if (result.status !== 200) return sendError(res, result.status, result.error, result.extra)
        return sendJson(res, 200, result.body)
      }
      case 'release': {
        const s = store.sessions.get(sid)
        const released = !!s?.lease && s.lease.holder === body?.holder && s.lease.expiresAt > now()
        if (released) s.lease.expiresAt = 0
        return sendJson(res, 200, { released })
      }
      case 'method_not_allowed':
        return sendError(res, 405, 'method_not_allowed')
      default:
        return sendError(res, 404, 'no_route')
    }
  }

  const server = createServer((req, res) => {
    const chunks = []
    req.on('data', (c) => chunks.push(c))
    req.on('end', () => {
      handle(req, res, Buffer.concat(chunks).toString('utf8')).catch((err) => {
        sendError(res, 500, 'internal', { detail: String(err) })
      })
    })
  })
  await new Promise((resolve) => server.listen(wanted, '127.0.0.1', resolve))
  const { port } = server.address()

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    store,
    log,
    applied,
    /// Requests so far that match `pred` (an entry predicate or a route name).
    count(pred) {
      const p = typeof pred === 'string' ? (e) => e.route === pred : pred
      return log.filter(p).length
    },
    /// The next `count` requests matching `match` (default all but health)
    /// fail as `mode` (`status` default, `hang`, `reset`, `html`) with
    /// `status`/`error`/`mayHaveApplied`; `apply: true` applies a write first.
    failNext({ count = 1, match = (e) => e.route !== 'health', mode = 'status', ...rest }) {
      const spec = { count, match, mode, ...rest }
      failures.push(spec)
      return spec
    },
    clearFailures() {
      failures.length = 0
    },
    delayWrite(fn) {
      writeDelay = fn
    },
    session(sid) {
      return store.sessions.get(sid)
    },
    async close() {
      for (const res of hung) res.destroy()
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
    }
  }
}
