// auth.hpp -- the shared secret of remote access and the challenge/response
// that proves knowledge of it (issue #6).
//
// Why: `authstore serve` publishes an actor on a TCP port; CAF's middleman
// has no authentication of its own, so every peer that can connect could
// otherwise read and write every session. The published gate (see
// runtime/remote/server.hpp) hands out a session handle only after a
// handshake in which both sides prove that they hold the same secret,
// without ever sending it:
//
//   client                                  server (auth gate)
//   hello(version, cn)               --->   checks version, picks sn
//                                    <---   (sn, server_proof(cn, sn))
//   checks server_proof
//   auth(sn, client_proof(sn, cn))   --->   sn single-use, same peer node
//                                    <---   session handle (router_actor)
//
// Proofs are HMAC-SHA256(secret, transcript); the transcripts of the two
// roles differ (domain separation), so neither side's answer can be
// replayed as the other's, and nonces are single-use, so an old answer is
// worthless. SHA-256 and HMAC are implemented here (FIPS 180-4, RFC 2104)
// to avoid a new link dependency; tests/unit/auth_test.cpp checks them
// against the FIPS and RFC 4231 vectors.
//
// What this does NOT give: confidentiality or integrity of the traffic
// after the handshake. Without TLS, anyone on the network path can read the
// data and take over an authenticated connection. See README "Remote
// access".
//
// Secrets come only from a file or the environment, never from a
// command-line value (other users can read /proc/PID/cmdline). No function
// here puts a secret or a proof into an error text. CAF-free.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "messages/errors.hpp"

namespace authstore {

/// A SHA-256 digest.
using sha256_digest = std::array<uint8_t, 32>;

/// SHA-256 of `data` (FIPS 180-4).
sha256_digest sha256(std::string_view data);

/// HMAC-SHA256 of `data` under `key` (RFC 2104; any key length).
sha256_digest hmac_sha256(std::string_view key, std::string_view data);

/// Lowercase hex of `bytes`.
std::string to_hex(std::string_view bytes);

/// Lowercase hex of a digest.
std::string to_hex(const sha256_digest& digest);

/// 32 bytes from the OS random source (getrandom), as 64 hex characters.
/// Fails (internal) only if the kernel cannot supply randomness.
outcome<std::string> make_nonce();

/// Whether `x` looks like a nonce of make_nonce (64 lowercase hex).
bool is_nonce(std::string_view x);

/// The server's answer to a hello: HMAC over the version and both nonces.
std::string server_proof(std::string_view secret, uint32_t version,
                         std::string_view client_nonce,
                         std::string_view server_nonce);

/// The client's answer to the server's nonce; a different transcript from
/// server_proof, so one can never stand in for the other.
std::string client_proof(std::string_view secret, uint32_t version,
                         std::string_view server_nonce,
                         std::string_view client_nonce);

/// Compares two proofs in time independent of where they differ.
bool proofs_equal(std::string_view a, std::string_view b);

/// Shortest secret accepted, in bytes (128 bits of a random secret).
constexpr size_t min_secret_bytes = 16;

/// The environment variable that may hold the secret.
constexpr const char* secret_env_var = "AUTHSTORE_SECRET";

/// The secret in `text`, the contents of the file or variable `source`
/// names: trailing whitespace and newlines dropped. Errors (invalid_config):
/// empty, or shorter than min_secret_bytes; the texts name `source`, never
/// the secret.
outcome<std::string> parse_secret(std::string_view text,
                                  const std::string& source);

/// The secrets a server accepts: during a rotation two at once (issue #17).
struct shared_secrets {
  /// The first line: what clients of this node send, and accepted.
  std::string current;
  /// The second line ("" when none): accepted too, so clients that still
  /// hold it keep working until the rotation ends.
  std::string previous;
};

/// The shared secrets: the lines of the file at `path` when it is not empty
/// (one or two non-empty lines, each without trailing whitespace), else the
/// environment variable AUTHSTORE_SECRET (one secret), else "" (no secret
/// configured). The file takes precedence. Errors (invalid_config):
/// unreadable file, more than two lines, an empty or too short secret; the
/// texts name the source and line, never a secret.
outcome<shared_secrets> load_secrets(const std::string& path);

/// load_secrets(path).current: the secret a client presents.
outcome<std::string> load_secret(const std::string& path);

/// The hello answer of a server with `secrets`: server_proof under the
/// current secret, then (with a previous secret) ',' and the proof under
/// it. A client accepts the answer when any proof in it is its own
/// (server_proved), so clients with either secret connect during a
/// rotation.
std::string server_proofs(const shared_secrets& secrets, uint32_t version,
                          std::string_view client_nonce,
                          std::string_view server_nonce);

/// Whether `answer` (server_proofs' text) holds `expected`, compared in
/// constant time per proof.
bool server_proved(std::string_view answer, std::string_view expected);

} // namespace authstore
