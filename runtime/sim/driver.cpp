// driver.cpp -- driver actors of the simulator (sim_driver.hpp).
//
// Each driver is an event-based actor on the scheduler: it never blocks; it
// sends one request, and the reply handler records the latency and sends
// the next. `counters` outlives the drivers (the caller waits for
// drivers_done before destroying it).
//
// A driver has one steady operation in flight at a time. It is sent
// without a CAF timeout (CAF 0.17.6 keeps every request timeout in its
// shared clock until it expires: a cost of the caller that would be
// counted against the engine); instead a watchdog tick, one per op_timeout
// per driver, fails the operation in flight when it is older than
// op_timeout (counted as a timeout error), and its late reply is dropped.
#include "runtime/sim/driver.hpp"

#include <deque>

#include <caf/all.hpp>

#include "runtime/engine/engine_actors.hpp"
#include "runtime/remote/client_actors.hpp"

namespace authstore {

std::string sim_session_id(const sim_plan& plan, size_t i) {
  return "sim-" + std::to_string(plan.seed) + "-" + std::to_string(i);
}

uint64_t sim_counters::total_ops() const {
  uint64_t n = 0;
  for (const auto& h : latency)
    n += h.count();
  return n;
}

uint64_t sim_counters::total_errors() const {
  uint64_t n = 0;
  for (const auto& e : errors)
    n += e.load(std::memory_order_relaxed);
  return n;
}

namespace {

using clock = std::chrono::steady_clock;

/// One read of the verification phase: creds (type empty) or one type.
struct verify_step {
  size_t session = 0;
  std::string type;
};

struct driver_state {
  sim_plan plan;
  sim_counters* counters = nullptr;
  router_actor router;
  std::vector<sim_session> sessions;
  /// Connect bursts are generated one session at a time (a million
  /// sessions' bursts would not fit in memory at once).
  size_t next_connect = 0;
  std::deque<sim_op> connect_queue;
  std::deque<verify_step> verify_queue;
  size_t next_session = 0;
  clock::time_point deadline;
  bool steady_over = false;
  /// The steady operation in flight (one at a time), for the watchdog:
  /// its number, start, kind, session and patch (writes only).
  uint64_t op_id = 0;
  bool op_open = false;
  clock::time_point op_start;
  sim_op_kind op_kind = sim_op_kind::set;
  size_t op_session = 0;
  std::vector<written_field> op_writes;
  static inline const char* name = "authstore.sim_driver";
};

using driver_pointer = caf::stateful_actor<driver_state>*;

void next(driver_pointer self);

void record(driver_pointer self, sim_op_kind kind, clock::time_point start,
            const caf::error* err) {
  auto& c = *self->state.counters;
  auto took = clock::now() - start;
  c.latency[static_cast<size_t>(kind)].record(took);
  auto phase = c.phase.load(std::memory_order_relaxed);
  c.phase_latency[phase < c.phase_latency.size() ? phase : 0]
                 [static_cast<size_t>(kind)]
                   .record(took);
  if (err) {
    c.errors[static_cast<size_t>(kind)].fetch_add(1, std::memory_order_relaxed);
    c.errors_by_code[errc_slot(to_failure(*err).code)].fetch_add(
      1, std::memory_order_relaxed);
  }
}

/// The reply (or error) of operation `id` arrived: false when the
/// watchdog failed it already.
bool take_op(driver_pointer self, uint64_t id) {
  auto& st = self->state;
  if (!st.op_open || st.op_id != id)
    return false;
  st.op_open = false;
  return true;
}

/// Ends the operation in flight with `err` (nullptr: success).
void finish_op(driver_pointer self, const caf::error* err) {
  auto& st = self->state;
  record(self, st.op_kind, st.op_start, err);
  if (st.op_kind == sim_op_kind::set)
    st.sessions[st.op_session].on_write_result(st.op_writes, err == nullptr);
  st.op_writes.clear();
}

/// The watchdog: fails the operation in flight once it is older than
/// op_timeout, then looks again when the next one could be.
void watch(driver_pointer self) {
  auto& st = self->state;
  auto now = clock::now();
  auto wait = st.plan.op_timeout;
  if (st.op_open) {
    auto age = now - st.op_start;
    if (age >= st.plan.op_timeout) {
      auto err = make_error(errc::timeout, "sim: no answer within op_timeout");
      take_op(self, st.op_id);
      finish_op(self, &err);
      next(self);
    } else {
      wait = std::chrono::duration_cast<std::chrono::milliseconds>(
               st.plan.op_timeout - age)
             + std::chrono::milliseconds{1};
    }
  }
  if (!st.steady_over || st.op_open)
    self->delayed_send(self, wait, caf::atom("watch"));
}

/// Sends `op` for session `idx`; the reply handler continues the loop.
void run(driver_pointer self, size_t idx, sim_op op) {
  auto& st = self->state;
  auto id = ++st.op_id;
  st.op_open = true;
  st.op_start = clock::now();
  st.op_kind = op.kind;
  st.op_session = idx;
  auto& sid = st.sessions[idx].id();
  auto on_ok = [self, id] {
    if (!take_op(self, id))
      return;
    finish_op(self, nullptr);
    next(self);
  };
  auto on_error = [self, id](caf::error& err) {
    if (!take_op(self, id))
      return;
    finish_op(self, &err);
    next(self);
  };
  switch (op.kind) {
    case sim_op_kind::set: {
      st.counters->fields_written.fetch_add(op.writes.writes.size(),
                                            std::memory_order_relaxed);
      // The model keeps fields and value hashes, not a copy of the values.
      st.op_writes = model_of(op.writes);
      self
        ->request(st.router, caf::infinite, set_atom::value, sid,
                  std::move(op.writes))
        .then([on_ok](uint64_t) { on_ok(); }, on_error);
      break;
    }
    case sim_op_kind::get_creds:
      self->request(st.router, caf::infinite, get_creds_atom::value, sid)
        .then([on_ok](const creds_reply&) { on_ok(); }, on_error);
      break;
    case sim_op_kind::get_keys:
      self
        ->request(st.router, caf::infinite, get_keys_atom::value, sid, op.type,
                  op.ids)
        .then([on_ok](const keys_reply&) { on_ok(); }, on_error);
      break;
  }
}

/// Compares one stored value with the expectation.
void check_field(sim_counters& c, const expected_field& e, bool present,
                 const std::string& value) {
  if (e.uncertain) {
    c.uncertain.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  c.verified.fetch_add(1, std::memory_order_relaxed);
  if (e.present && (!present || value_hash(value) != e.value_hash))
    c.lost.fetch_add(1, std::memory_order_relaxed);
  else if (!e.present && present)
    c.unexpected.fetch_add(1, std::memory_order_relaxed);
}

void verify_next(driver_pointer self);

/// Reads every session back, one request at a time, and counts lost and
/// unexpected fields. Asynchronous like everything else on the scheduler:
/// a blocking read here could starve the 2 worker threads.
void verify_creds(driver_pointer self, size_t idx) {
  auto& st = self->state;
  self
    ->request(st.router, st.plan.op_timeout, get_creds_atom::value,
              st.sessions[idx].id())
    .then(
      [=](creds_reply& r) {
        auto& c = *self->state.counters;
        auto doc = json::parse(r.creds_json, nullptr, false);
        for (const auto& [field, e] : self->state.sessions[idx].expected()) {
          if (!is_creds_field(field))
            continue;
          auto name = std::string{field_subject(field)};
          bool present = doc.is_object() && doc.contains(name);
          check_field(c, e, present, present ? doc[name].dump() : "");
        }
        verify_next(self);
      },
      [=](caf::error&) {
        self->state.counters->verify_errors.fetch_add(1);
        verify_next(self);
      });
}

void verify_keys(driver_pointer self, size_t idx, const std::string& type) {
  auto& st = self->state;
  const auto& ids = st.sessions[idx].written_ids().at(type);
  self
    ->request(st.router, st.plan.op_timeout, get_keys_atom::value,
              st.sessions[idx].id(), type, ids)
    .then(
      [=](keys_reply& r) {
        auto& s = self->state.sessions[idx];
        for (const auto& id : s.written_ids().at(type)) {
          auto i = r.values.find(id);
          const auto& e = s.expected().at(key_field_name(type, id));
          check_field(*self->state.counters, e, i != r.values.end(),
                      i == r.values.end() ? "" : i->second);
        }
        verify_next(self);
      },
      [=](caf::error&) {
        self->state.counters->verify_errors.fetch_add(1);
        verify_next(self);
      });
}

void next(driver_pointer self) {
  auto& st = self->state;
  while (st.connect_queue.empty() && st.plan.connect_burst
         && st.next_connect < st.sessions.size()) {
    for (auto& op : st.sessions[st.next_connect++].connect_burst())
      st.connect_queue.push_back(std::move(op));
  }
  if (!st.connect_queue.empty()) {
    auto op = std::move(st.connect_queue.front());
    st.connect_queue.pop_front();
    run(self, st.next_connect - 1, std::move(op));
    return;
  }
  bool budget_left = st.plan.ops > 0
                       ? st.counters->steady_tickets.fetch_add(1) < st.plan.ops
                       : clock::now() < st.deadline;
  if (budget_left && !st.sessions.empty()) {
    auto idx = st.next_session++ % st.sessions.size();
    run(self, idx, st.sessions[idx].next_steady(st.plan.read_ratio));
    return;
  }
  if (!st.steady_over) {
    st.steady_over = true;
    st.counters->steady_done.fetch_add(1);
    for (size_t i = 0; i < st.sessions.size(); ++i) {
      st.verify_queue.push_back({i, {}});
      for (const auto& kvp : st.sessions[i].written_ids())
        st.verify_queue.push_back({i, kvp.first});
    }
    verify_next(self);
  }
}

void verify_next(driver_pointer self) {
  auto& st = self->state;
  if (st.verify_queue.empty()) {
    st.counters->drivers_done.fetch_add(1);
    self->quit();
    return;
  }
  auto step = std::move(st.verify_queue.front());
  st.verify_queue.pop_front();
  if (step.type.empty())
    verify_creds(self, step.session);
  else
    verify_keys(self, step.session, step.type);
}

caf::behavior driver_impl(driver_pointer self, sim_plan plan,
                          sim_counters* counters, router_actor router,
                          size_t slot) {
  auto& st = self->state;
  st.plan = plan;
  st.counters = counters;
  st.router = std::move(router);
  for (size_t i = slot; i < plan.sessions; i += plan.concurrency) {
    st.sessions.emplace_back(sim_session_id(plan, i), plan.seed * 1000003 + i);
  }
  st.deadline = clock::now() + plan.duration;
  self->send(self, caf::atom("go"));
  self->delayed_send(self, plan.op_timeout, caf::atom("watch"));
  return {
    [=](caf::atom_value a) {
      if (a == caf::atom("watch"))
        watch(self);
      else
        next(self);
    },
  };
}

} // namespace

namespace {

void spawn_drivers(caf::actor_system& sys, const router_actor& router,
                   const sim_plan& plan, sim_counters& counters) {
  for (size_t slot = 0; slot < plan.concurrency; ++slot)
    sys.spawn(driver_impl, plan, &counters, router, slot);
}

} // namespace

void start_sim_drivers(engine& e, const sim_plan& plan,
                       sim_counters& counters) {
  spawn_drivers(engine_system(e), engine_router(e), plan, counters);
}

void start_sim_drivers(const std::vector<remote_client*>& clients,
                       const sim_plan& plan, sim_counters& counters) {
  // Each client has an actor system of its own: a driver lives in the
  // system of the client it talks through.
  for (size_t slot = 0; slot < plan.concurrency; ++slot) {
    auto& c = *clients[slot % clients.size()];
    remote_client_system(c).spawn(driver_impl, plan, &counters,
                                  remote_client_session(c), slot);
  }
}

} // namespace authstore
