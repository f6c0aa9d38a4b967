// errors.js -- the one error type of the package, and the one place that
// turns an HTTP reply or a transport failure into it.
//
// Why one place: whether a request may be retried, whether it may have been
// applied, and whether "not found" is true are decisions the rest of the
// package reads from the error's fields (code, status, retryable,
// mayHaveApplied), never from message text. The server's contract
// (docs/HTTP-API.md, "Errors") says which replies carry which fields; a reply
// that does not follow it (a proxy's HTML 502, a truncated body) is mapped
// conservatively: a write whose outcome is unknown has mayHaveApplied true.
//
// Codes are the server's tokens (`hot_unavailable`, `fenced`, ...) plus the
// client's own, for failures that never produced a server reply:
//   unreachable      the connection could not be made; nothing was sent
//   connection_lost  the connection broke after the request may have been sent
//   timeout          no reply within timeoutMs (status 0); 504 is the server's
//   bad_response     a reply that does not follow the contract
//   closed           the handle was closed (or its session removed)
//   fenced           (also local) the lease was lost; writes are refused
// Not to be confused with the server's `not_owner` (503, retryable, nothing
// applied): with several authstore nodes, the node asked could not hand the
// request to the node owning the session (issue #19); it says nothing about
// this client's lease, and transport.js retries it like any 503.
//   invalid_argument bad options passed to useAuthstoreAuthState

/// An authstore failure. `code` is a stable token; `status` the HTTP status
/// (0 when no reply arrived); `retryable` says a later retry may succeed;
/// `mayHaveApplied` says a write may have been applied despite the failure.
export class AuthstoreError extends Error {
  constructor(code, message, fields = {}) {
    super(message.startsWith(`${code}:`) ? message : `${code}: ${message}`,
      fields.cause ? { cause: fields.cause } : undefined)
    this.name = 'AuthstoreError'
    this.code = code
    this.status = fields.status ?? 0
    this.retryable = fields.retryable ?? false
    this.mayHaveApplied = fields.mayHaveApplied ?? false
    if (fields.currentVersion !== undefined) {
      this.currentVersion = fields.currentVersion
    }
    if (fields.holderExpiresInMs !== undefined) {
      this.holderExpiresInMs = fields.holderExpiresInMs
    }
  }
}

// Statuses the contract marks retryable (overload, backend down, engine
// timeout); used only when a reply has no parsable error body.
const RETRYABLE_STATUS = new Set([429, 503, 504])

/// The AuthstoreError for a non-2xx reply. `write` says whether the request
/// could change state (decides mayHaveApplied for replies without a body).
export function errorFromReply(status, text, write) {
  let body
  try {
    body = JSON.parse(text)
  } catch {
    body = undefined
  }
  if (!body || typeof body !== 'object' || typeof body.error !== 'string') {
    return new AuthstoreError('bad_response',
      `HTTP ${status} without an authstore error body (a proxy in between, or not an authstore API?)`,
      {
        status,
        retryable: RETRYABLE_STATUS.has(status),
        // Unknown outcome: a 5xx from something in between may hide an
        // applied write; a 4xx was refused before anything ran.
        mayHaveApplied: write && status >= 500
      })
  }
  const detail = typeof body.message === 'string' && body.message !== ''
    ? body.message
    : `HTTP ${status}`
  return new AuthstoreError(body.error, detail, {
    status,
    retryable: body.retryable === true,
    // The contract: every 4xx has may_have_applied false; trust the server
    // for 5xx, and assume the worst for a write when the field is missing.
    mayHaveApplied: typeof body.may_have_applied === 'boolean'
      ? body.may_have_applied
      : write && status >= 500,
    currentVersion: body.current_version,
    holderExpiresInMs: body.holder_expires_in_ms
  })
}

// Socket and DNS errors raised before a single byte of the request left: the
// request cannot have been applied, so every request may be retried.
const NOT_SENT = new Set([
  'ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH',
  'UND_ERR_CONNECT_TIMEOUT'
])

function transportCode(err) {
  return err?.code ?? err?.cause?.code
}

/// The AuthstoreError for a request that got no reply. `timedOut` says our
/// own timer aborted it.
export function errorFromTransport(err, { write, timedOut, timeoutMs }) {
  if (timedOut) {
    return new AuthstoreError('timeout',
      `no reply within ${timeoutMs} ms (timeoutMs); ${write ? 'the write may or may not have been applied: re-read before retrying' : 'nothing was changed'}`,
      { retryable: true, mayHaveApplied: write })
  }
  const code = transportCode(err)
  if (NOT_SENT.has(code)) {
    return new AuthstoreError('unreachable',
      `cannot connect to authstore (${code}); nothing was sent: is \`authstore serve --api.port\` running at this url?`,
      { retryable: true, mayHaveApplied: false, cause: err })
  }
  return new AuthstoreError('connection_lost',
    `the connection failed (${code ?? err?.message ?? 'unknown'}); ${write ? 'the write may or may not have been applied' : 'nothing was changed'}`,
    { retryable: true, mayHaveApplied: write, cause: err })
}
