// Type declarations of @authstore/baileys (checked by `npm run typecheck`,
// tsc --noEmit over test/types/dropin.ts, which uses them with Baileys' own
// makeWASocket and makeCacheableSignalKeyStore).
import type { AuthenticationState } from 'baileys'

/** Error tokens: the server's (docs/HTTP-API.md) and the client's own. */
export type AuthstoreErrorCode =
  // server: bad input, nothing applied
  | 'invalid_session_id' | 'invalid_argument' | 'value_too_large' | 'too_deep'
  | 'too_many_fields' | 'invalid_buffer' | 'bad_json' | 'body_too_large'
  | 'headers_too_large' | 'method_not_allowed' | 'no_route'
  // server: auth, conflicts, leases
  | 'unauthorized' | 'not_found' | 'version_conflict' | 'session_in_use' | 'fenced'
  // server: load and backends
  | 'overloaded' | 'hot_unavailable' | 'hot_out_of_memory' | 'cold_unavailable'
  | 'cold_error' | 'shutting_down' | 'timeout' | 'internal' | 'hot_error'
  // server, several nodes (issue #19): 503, nothing applied, retried
  | 'not_owner'
  // client: no usable reply
  | 'unreachable' | 'connection_lost' | 'bad_response' | 'closed'
  // a token added by a newer server
  | (string & {})

/** Every failure of this package. */
export declare class AuthstoreError extends Error {
  readonly name: 'AuthstoreError'
  /** Stable token; test this, not the message. */
  readonly code: AuthstoreErrorCode
  /** HTTP status; 0 when no reply arrived (unreachable, connection_lost, timeout). */
  readonly status: number
  /** A later retry may succeed (429, 503, 504, transport failures). */
  readonly retryable: boolean
  /** A write may have been applied although it failed (504, a lost reply): re-read before retrying. */
  readonly mayHaveApplied: boolean
  /** version_conflict: the session's version now. */
  readonly currentVersion?: number
  /** session_in_use: how long the other holder's lease still runs (ms). */
  readonly holderExpiresInMs?: number
}

export interface AuthstoreOptions {
  /** Base url of `authstore serve --api.port`, e.g. `http://127.0.0.1:8080` (a path prefix is kept). */
  url: string | URL
  /** The node's shared secret (Bearer); default: the AUTHSTORE_SECRET environment variable. */
  token?: string
  /** The session (one WhatsApp account); any string the server's session-id allow-list accepts. */
  sessionId: string
  /** Take the exclusive client lease on open (default true). */
  lease?: boolean
  /** Take the lease from a live holder, fencing it (default false). */
  takeover?: boolean
  /** Lease time to live in ms, renewed every third (default 30000). */
  leaseTtlMs?: number
  /** Called once when this process loses the lease (taken over, or expired); its writes are refused from then on. */
  onLeaseLost?: (err: AuthstoreError) => void
  /** Per request attempt, in ms (default 10000). */
  timeoutMs?: number
  /** Retries of a request that cannot have been applied (default 3). */
  retries?: number
  /** Keep-alive sockets per authstore origin, shared by the process's sessions (default 16). */
  connections?: number
}

/** What useMultiFileAuthState returns, plus flush, close and removeSession. */
export interface AuthstoreAuthState {
  state: AuthenticationState & {
    keys: AuthenticationState['keys'] & {
      /** Extra (not in Baileys 7.0.0-rc14's SignalKeyStore; its development branch adds an optional list): every id stored for `type`, sorted. */
      list: (type: string) => Promise<string[]>
    }
  }
  /** Writes a snapshot of state.creds taken now; for `sock.ev.on('creds.update', saveCreds)`. */
  saveCreds: () => Promise<void>
  /** Resolves once every write issued so far is acknowledged; rejects with the first failure among the writes since the previous flush(). */
  flush: () => Promise<void>
  /** Waits for queued writes, releases the lease and the connections (idempotent); later reads and writes reject with `closed`. */
  close: () => Promise<void>
  /** Logout: deletes the session (after the writes issued before), then closes. */
  removeSession: () => Promise<void>
}

/** Opens a session; rejects on every failure except "the session does not exist" (then new creds from initAuthCreds). */
export declare function useAuthstoreAuthState(options: AuthstoreOptions): Promise<AuthstoreAuthState>

/** The defaults of the options above. */
export declare const DEFAULTS: Readonly<{
  timeoutMs: number
  retries: number
  leaseTtlMs: number
  connections: number
}>
