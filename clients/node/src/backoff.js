// backoff.js -- the package's one backoff: exponential with full jitter.
//
// Why full jitter: many clients that failed together (an authstore restart
// drops every connection at once) must not come back together; drawing the
// whole delay uniformly from [0, min(cap, base * 2^attempt)) spreads them
// (the AWS architecture blog's "full jitter"). Used for request retries and
// for lease renewal after a failed renewal.

/// First retry draws from [0, BASE_MS): short, because the errors retried
/// (connection refused, 429/503 not applied) are often momentary.
export const BASE_MS = 50
/// No single wait exceeds this (ms), so a bounded number of retries stays
/// well inside a Baileys operation's patience.
export const CAP_MS = 2000

/// The delay in ms before retry number `attempt` (0 = the first retry).
/// `random` returns a number in [0, 1) (injected for tests).
export function backoffMs(attempt, random = Math.random, baseMs = BASE_MS,
  capMs = CAP_MS) {
  const ceiling = Math.min(capMs, baseMs * 2 ** Math.min(attempt, 30))
  return Math.floor(random() * ceiling)
}
