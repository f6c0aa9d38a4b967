// traffic.cpp -- see sim_traffic.hpp.
#include "runtime/sim/traffic.hpp"

#include <algorithm>
#include <charconv>
#include <functional>
#include <string_view>

#include "messages/codec.hpp"

namespace authstore {

namespace {

const char* creds_fields[] = {
  "noiseKey",
  "pairingEphemeralKeyPair",
  "signedIdentityKey",
  "signedPreKey",
  "registrationId",
  "advSecretKey",
  "processedHistoryMessages",
  "nextPreKeyId",
  "firstUnuploadedPreKeyId",
  "accountSyncCounter",
  "accountSettings",
  "registered",
  "me",
  "account",
  "signalIdentities",
  "platform",
  "lastAccountSyncTimestamp",
  "myAppStateKeyId",
  "routingInfo",
};

/// splitmix64: 8 bytes of state, good enough for traffic generation.
uint64_t mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

constexpr uint64_t contacts_per_session = 20;
constexpr uint64_t groups_per_session = 4;

} // namespace

uint64_t value_hash(const std::string& value) {
  // std::hash (libstdc++'s _Hash_bytes, word at a time): the hashes are
  // compared within one run only (model vs. what the engine returns), and
  // the byte-at-a-time FNV-1a it replaced was a visible part of the
  // simulator's own cost (issue #18: not the engine's).
  return std::hash<std::string_view>{}(value);
}

const char* to_string(sim_op_kind k) {
  switch (k) {
    case sim_op_kind::set:
      return "set";
    case sim_op_kind::get_creds:
      return "get_creds";
    case sim_op_kind::get_keys:
      return "get_keys";
  }
  return "?";
}

sim_session::sim_session(std::string sid, uint64_t seed)
    : sid_(std::move(sid)), seed_(seed), rng_(seed) {}

uint64_t sim_session::next() {
  rng_ += 0x9e3779b97f4a7c15ULL;
  return mix(rng_);
}

std::string sim_session::contact(uint64_t k) const {
  auto h = mix(seed_ ^ (k * 0x5851f42d4c957f2dULL));
  return std::to_string(5511900000000ULL + h % 100000000) + "."
         + std::to_string((h >> 40) % 3);
}

std::string sim_session::group(uint64_t k) const {
  auto h = mix(~seed_ ^ (k * 0x2545f4914f6cdd1dULL));
  return std::to_string(120363000000000000ULL + h % 1000000) + "@g.us";
}

void sim_session::put_buffer(std::string& out, size_t bytes) {
  // 8 random bytes per draw (not one), base64 written straight into `out`
  // (no temporaries): generating traffic is the simulator's cost, not the
  // engine's (issue #18: it was a fifth of the sim's instructions).
  // Every caller asks for at most 128 bytes.
  char raw[256];
  bytes = std::min(bytes, sizeof raw);
  for (size_t i = 0; i < bytes; i += 8) {
    auto r = next();
    for (size_t b = 0; b < 8 && i + b < bytes; ++b)
      raw[i + b] = static_cast<char>((r >> (8 * b)) & 0xFF);
  }
  out += R"({"type":"Buffer","data":")";
  base64_append(out, std::string_view{raw, bytes});
  out += "\"}";
}

std::string sim_session::buffer(size_t bytes) {
  std::string out;
  out.reserve(32 + bytes * 4 / 3);
  put_buffer(out, bytes);
  return out;
}

void sim_session::put_key_pair(std::string& out) {
  out += R"({"private":)";
  put_buffer(out, 32);
  out += R"(,"public":)";
  put_buffer(out, 32);
  out += '}';
}

std::string sim_session::key_pair() {
  std::string out;
  out.reserve(192);
  put_key_pair(out);
  return out;
}

void sim_session::put_number(std::string& out, uint64_t n) {
  char digits[24];
  out.append(digits, std::to_chars(digits, digits + sizeof digits, n).ptr);
}

std::string sim_session::session_record() {
  // A libsignal session record as Baileys stores it: a current ratchet and
  // 2-10 chain keys, 1-3 KB of JSON in all. Built in one string.
  static const std::string base_key = base64_encode(std::string(33, 'k'));
  std::string out;
  out.reserve(3072);
  out += R"({"_sessions":{")";
  out += base_key;
  out += R"(":{"registrationId":)";
  put_number(out, next() % 16380);
  out += R"(,"currentRatchet":{"ephemeralKeyPair":)";
  put_key_pair(out);
  out += R"(,"lastRemoteEphemeralKey":)";
  put_buffer(out, 33);
  out += R"(,"previousCounter":)";
  put_number(out, next() % 100);
  out += R"(,"rootKey":)";
  put_buffer(out, 32);
  out += R"(},"indexInfo":{"baseKey":)";
  put_buffer(out, 33);
  out += R"(,"baseKeyType":2,"closed":-1,"used":)";
  put_number(out, 1700000000000ULL + next() % 100000000);
  out += R"(,"created":1700000000000,"remoteIdentityKey":)";
  put_buffer(out, 33);
  out += R"(},"chains":[)";
  auto n = 2 + next() % 9;
  for (uint64_t i = 0; i < n; ++i) {
    if (i)
      out += ',';
    out += R"({"chainKey":{"counter":)";
    put_number(out, next() % 500);
    out += R"(,"key":)";
    put_buffer(out, 32);
    out += R"(},"chainType":)";
    put_number(out, 1 + next() % 2);
    out += R"(,"messageKeys":{}})";
  }
  out += R"(]}},"version":"v1"})";
  return out;
}

std::string sim_session::creds_value(const std::string& field) {
  if (field == "registrationId" || field == "nextPreKeyId"
      || field == "firstUnuploadedPreKeyId" || field == "accountSyncCounter"
      || field == "lastAccountSyncTimestamp")
    return std::to_string(next() % 100000);
  if (field == "registered")
    return (next() & 1) ? "true" : "false";
  if (field == "advSecretKey" || field == "myAppStateKeyId")
    return json(base64_encode(std::string(32, 'a' + next() % 26))).dump();
  if (field == "me")
    return R"({"id":")" + contact(0) + R"(@s.whatsapp.net","name":"sim"})";
  if (field == "signedPreKey")
    return R"({"keyPair":)" + key_pair() + R"(,"signature":)" + buffer(64)
           + R"(,"keyId":)" + std::to_string(next() % 1000) + "}";
  if (field == "processedHistoryMessages" || field == "signalIdentities")
    return "[]";
  if (field == "accountSettings")
    return R"({"unarchiveChats":false})";
  if (field == "platform")
    return R"("android")";
  if (field == "account" || field == "routingInfo")
    return R"({"details":)" + buffer(48) + "}";
  return key_pair();
}

void sim_session::upload_pre_keys(patch& p, int n) {
  for (int i = 0; i < n; ++i) {
    auto id = std::to_string(next_pre_key_);
    p.set_key("pre-key", id, key_pair());
    live_pre_keys_.push_back(next_pre_key_++);
  }
  p.set_creds("nextPreKeyId", std::to_string(next_pre_key_));
}

sim_op sim_session::set_op(patch p) {
  sim_op op;
  op.kind = sim_op_kind::set;
  op.writes = std::move(p);
  return op;
}

std::vector<sim_op> sim_session::connect_burst() {
  std::vector<sim_op> ops;
  auto n_creds = 8 + next() % 5;
  for (uint64_t i = 0; i < n_creds; ++i) {
    patch p;
    auto k = 1 + next() % 3;
    for (uint64_t j = 0; j < k; ++j) {
      std::string f = creds_fields[next() % std::size(creds_fields)];
      p.set_creds(f, creds_value(f));
    }
    ops.push_back(set_op(std::move(p)));
  }
  patch pre;
  upload_pre_keys(pre, 30);
  ops.push_back(set_op(std::move(pre)));
  auto n_sync = 3 + next() % 3;
  for (uint64_t i = 0; i < n_sync; ++i) {
    patch p;
    auto id = base64_encode(std::string(6, static_cast<char>('A' + i)));
    p.set_key(
      "app-state-sync-key", id,
      R"({"keyData":")" + base64_encode(std::string(32, 'x'))
        + R"(","fingerprint":{"rawId":)" + std::to_string(next() % 1000)
        + R"(,"currentIndex":1,"deviceIndexes":[0,1]},"timestamp":"1700000000"})");
    ops.push_back(set_op(std::move(p)));
  }
  patch v;
  v.set_key("app-state-sync-version", "regular_high",
            R"({"version":)" + std::to_string(++app_state_version_)
              + R"(,"hash":)" + buffer(128) + R"(,"indexValueMap":{}})");
  ops.push_back(set_op(std::move(v)));
  return ops;
}

sim_op sim_session::next_steady(double read_ratio) {
  auto contact = this->contact(next() % contacts_per_session);
  if (static_cast<double>(next() >> 11) * 0x1.0p-53 < read_ratio) {
    sim_op op;
    auto r = next() % 10;
    if (r < 2) {
      op.kind = sim_op_kind::get_creds;
    } else if (r < 7) {
      op.kind = sim_op_kind::get_keys;
      op.type = "session";
      op.ids = {contact};
    } else {
      op.kind = sim_op_kind::get_keys;
      op.type = "pre-key";
      op.ids = {std::to_string(1 + next() % next_pre_key_)};
    }
    return op;
  }
  patch p;
  auto w = next() % 100;
  if (w < 55) { // a message: session record, sometimes a group sender key
    p.set_key("session", contact, session_record());
    if (w < 15) {
      auto id = group(next() % groups_per_session) + "::" + contact;
      p.set_key("sender-key", id,
                R"([{"senderKeyId":)" + std::to_string(next() % 100000)
                  + R"(,"senderChainKey":{"iteration":)"
                  + std::to_string(next() % 1000) + R"(,"seed":)" + buffer(32)
                  + R"(},"senderSigningKey":{"public":)" + buffer(33)
                  + R"(},"senderMessageKeys":[]}])");
    }
  } else if (w < 75 && !live_pre_keys_.empty()) { // pre-key consumed
    auto i = next() % live_pre_keys_.size();
    p.erase_key("pre-key", std::to_string(live_pre_keys_[i]));
    live_pre_keys_.erase(live_pre_keys_.begin() + static_cast<long>(i));
    if (live_pre_keys_.size() < 10)
      upload_pre_keys(p, 30);
  } else if (w < 85) {
    auto lid = std::to_string(next() % 100000000000ULL) + "@lid";
    p.set_key("lid-mapping", contact, json(lid).dump());
    p.set_key("device-list", contact, R"(["0","1"])");
  } else if (w < 95) {
    p.set_key("tctoken", contact,
              R"({"token":)" + buffer(24) + R"(,"timestamp":")"
                + std::to_string(1700000000 + next() % 1000000) + "\"}");
  } else {
    p.set_creds("accountSyncCounter", std::to_string(next() % 100000));
  }
  return set_op(std::move(p));
}

patch fault_writer_patch(uint64_t i) {
  patch p;
  p.set_creds("me", "{\"id\":\"" + std::to_string(i % 97)
                      + "@s.whatsapp.net\",\"name\":\"n\"}");
  p.set_creds("lastWrite", std::to_string(i));
  std::string record(600, 'a' + static_cast<char>(i % 26));
  p.set_key("session", "peer" + std::to_string(i % 3),
            "{\"type\":\"Buffer\",\"data\":\"" + record + "\"}");
  p.set_key("pre-key", std::to_string(i),
            "{\"public\":{\"type\":\"Buffer\",\"data\":\"AQID\"}}");
  if (i >= 3)
    p.erase_key("pre-key", std::to_string(i - 3));
  return p;
}

std::vector<written_field> model_of(const patch& p) {
  std::vector<written_field> out;
  out.reserve(p.writes.size());
  for (const auto& w : p.writes)
    out.push_back({w.field, w.erase, w.erase ? 0 : value_hash(w.value)});
  return out;
}

void sim_session::on_write_result(const patch& p, bool acknowledged) {
  on_write_result(model_of(p), acknowledged);
}

void sim_session::on_write_result(const std::vector<written_field>& writes,
                                  bool acknowledged) {
  for (const auto& w : writes) {
    auto [i, added] = expected_.try_emplace(w.field);
    std::string_view type, id;
    if (added && split_key_field(w.field, type, id))
      ids_by_type_[std::string{type}].emplace_back(id);
    auto& e = i->second;
    if (!acknowledged) {
      e.uncertain = true;
      continue;
    }
    e.present = !w.erase;
    e.value_hash = w.value_hash;
  }
}

} // namespace authstore
