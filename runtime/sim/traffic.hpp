// traffic.hpp -- what one simulated WhatsApp session does to its store,
// modelled on Baileys v7, and what its store must hold afterwards.
//
// At connect: 8-12 creds updates, one upload of 30 pre-keys in one set, 3-5
// app-state-sync-key writes, an app-state-sync-version update. In steady
// state: per message a session-record write (1-3 KB) and, for groups, a
// sender-key write; pre-key consumption (delete) and refills below 10 left;
// lid-mapping, device-list and tctoken writes; reads of sessions, pre-keys
// and creds. Values are 32-byte keys as v7 Buffers
// ({"type":"Buffer","data":"<base64>"}), i.e. already in normalized form, so
// the codec is not on the timed path.
//
// Memory: a million sessions must fit beside the engine, so a session keeps
// an 8-byte generator state, derives its contacts from its seed instead of
// storing them, and remembers each written field as a 64-bit hash of its
// final value. The model counts only acknowledged writes; a write that
// failed may or may not have been applied, so its fields become "uncertain"
// and are not verified. CAF-free and deterministic per seed.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "messages/model.hpp"

namespace authstore {

/// The operations of the simulation, as reported.
enum class sim_op_kind : uint8_t { set, get_creds, get_keys };

/// The report label of an operation kind.
const char* to_string(sim_op_kind k);

/// One operation to run against the store.
struct sim_op {
  sim_op_kind kind = sim_op_kind::set;
  patch writes;
  std::string type;
  std::vector<std::string> ids;
};

/// What a field of the store must hold after the run.
struct expected_field {
  /// false: must be absent (deleted).
  bool present = false;
  /// A write to it failed: its state is unknown and it is not verified.
  bool uncertain = false;
  /// Hash of the value it must hold (when present).
  uint64_t value_hash = 0;
};

/// Hash used to compare stored values with expectations.
uint64_t value_hash(const std::string& value);

/// What the model keeps of one write of a patch in flight: the field, and
/// the hash of its value (0 for an erase) -- not the value itself.
struct written_field {
  std::string field;
  bool erase = false;
  uint64_t value_hash = 0;
};

/// The model's view of `p` (taken before the patch is sent).
std::vector<written_field> model_of(const patch& p);

/// Write `i` of a fault run's writer (the PostgreSQL outage test and
/// bench, one writer per session, i counting that session's writes): creds
/// `me` and `lastWrite` = i, a 600-byte session record of one of three
/// peers, pre-key i, and the deletion of pre-key i - 3 -- a bounded state
/// in which every write moves a delete watermark.
patch fault_writer_patch(uint64_t i);

class sim_session {
public:
  sim_session(std::string sid, uint64_t seed);

  const std::string& id() const { return sid_; }

  /// The connect burst, in order.
  std::vector<sim_op> connect_burst();

  /// One steady-state operation; reads with probability read_ratio.
  sim_op next_steady(double read_ratio);

  /// Records the outcome of a write (acknowledged or failed).
  void on_write_result(const patch& p, bool acknowledged);
  void on_write_result(const std::vector<written_field>& writes,
                       bool acknowledged);

  /// Expected state of every field ever written.
  const std::unordered_map<std::string, expected_field>& expected() const {
    return expected_;
  }

  /// Key ids ever written, by type (what verification reads back).
  const std::unordered_map<std::string, std::vector<std::string>>&
  written_ids() const {
    return ids_by_type_;
  }

private:
  uint64_t next();
  std::string buffer(size_t bytes);
  void put_buffer(std::string& out, size_t bytes);
  std::string key_pair();
  void put_key_pair(std::string& out);
  static void put_number(std::string& out, uint64_t n);
  std::string session_record();
  std::string creds_value(const std::string& field);
  std::string contact(uint64_t k) const;
  std::string group(uint64_t k) const;
  void upload_pre_keys(patch& p, int n);
  static sim_op set_op(patch p);

  std::string sid_;
  uint64_t seed_;
  uint64_t rng_;
  uint32_t next_pre_key_ = 1;
  std::vector<uint32_t> live_pre_keys_;
  uint64_t app_state_version_ = 0;
  std::unordered_map<std::string, expected_field> expected_;
  std::unordered_map<std::string, std::vector<std::string>> ids_by_type_;
};

} // namespace authstore
