// sim_traffic.hpp -- what one simulated WhatsApp session does to its store,
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
// The model of the expected state counts only acknowledged writes; a write
// that failed may or may not have been applied, so its fields become
// "uncertain" and are not verified. CAF-free and deterministic per seed.
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <unordered_map>
#include <unordered_set>
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
  std::string value;
};

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
  std::string buffer(size_t bytes);
  std::string key_pair();
  std::string session_record();
  std::string creds_value(const std::string& field);
  sim_op set_op(patch p);
  void upload_pre_keys(patch& p, int n);
  void note_id(const std::string& type, const std::string& id);

  std::string sid_;
  std::mt19937_64 rng_;
  uint32_t next_pre_key_ = 1;
  std::vector<uint32_t> live_pre_keys_;
  std::vector<std::string> contacts_;
  std::vector<std::string> groups_;
  uint64_t app_state_version_ = 0;
  std::unordered_map<std::string, expected_field> expected_;
  std::unordered_map<std::string, std::vector<std::string>> ids_by_type_;
  std::unordered_set<std::string> noted_;
};

} // namespace authstore
