// fake_cold_worker.hpp -- a cold worker for actor tests: answers at once,
// fails, hangs, answers late, or crashes, as the test commands, and counts
// what reached it.
//
// Why a dynamically typed actor cast to cold_worker_actor: a late answer
// needs an internal timer message that the worker's typed interface does
// not have. The cast is unchecked (CAF-0.17-GUIDE §2), so the handlers below
// must match cold_worker_actor's signatures and reply types exactly; the
// tests exercise every one of them.
//
// All shared fields are atomics or guarded by `mtx`: the test thread sets
// modes while the fake runs on a scheduler thread. Each factory call spawns
// a fresh fake (a restart), and `current()` is the latest one, so a test can
// kill it from outside.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

#include <caf/all.hpp>

#include "actors/cold_supervisor.hpp"
#include "messages/interfaces.hpp"

namespace authstore::testing {

/// How the fake answers data calls.
enum class fake_mode : int {
  /// Answers at once with the configured value.
  succeed,
  /// Answers at once with `fail_code`.
  fail,
  /// Never answers (the promise is kept until the fake stops).
  hang,
  /// Answers with the value after `late_delay`.
  late,
  /// Quits with an error on the call, without answering it.
  crash,
};

/// Shared between the test and every fake the factory spawns.
struct fake_cold_control {
  std::atomic<fake_mode> mode{fake_mode::succeed};
  std::atomic<errc> fail_code{errc::cold_error};
  std::atomic<bool> init_ok{true};
  std::chrono::milliseconds late_delay{100};
  /// Data calls that reached any fake.
  std::atomic<int> calls{0};
  /// Late answers actually sent (after their delay).
  std::atomic<int> late_answers{0};
  /// worker_init calls that reached any fake.
  std::atomic<int> inits{0};
  /// Fakes spawned (1 + restarts).
  std::atomic<int> spawned{0};

  std::mutex mtx;
  /// What load answers for a session not in `store` (guarded by mtx).
  session_snapshot snapshot;
  /// The durable state as a cold_store keeps it, for tests that compare the
  /// cold store with Redis (guarded by mtx). A persist is applied when it
  /// reaches the fake in mode succeed or late (late: applied at once,
  /// answered after the delay), never in fail, hang or crash.
  struct stored_field {
    uint64_t version = 0;
    bool erased = false;
    std::string value;
  };
  struct stored_session {
    bool has_doc = false;
    uint64_t version = 0;
    uint64_t erased_at = 0;
    std::map<std::string, stored_field> fields;
  };
  std::map<std::string, stored_session> store;
  /// Persists applied that changed nothing (all "already newer").
  int noop_persists = 0;
  /// Persists received per session and not answered yet, and how often a
  /// persist arrived while another of the same session was unanswered.
  std::map<std::string, int> unanswered;
  int overlaps = 0;
  /// Every persist received, in order (guarded by mtx).
  std::vector<persist_request> persists;
  /// Spawn times, for backoff checks (guarded by mtx).
  std::vector<std::chrono::steady_clock::time_point> spawn_times;
  /// The latest fake (guarded by mtx).
  caf::actor latest;

  caf::actor current() {
    std::lock_guard<std::mutex> guard{mtx};
    return latest;
  }

  /// Applies `req` with the cold_store rules (messages/cold_store.hpp,
  /// mongo/store.hpp): guarded upserts never regress, a versioned erase
  /// removes fields at or below it and hides older ones for good. Call with
  /// mtx held.
  void apply(const persist_request& req) {
    auto& s = store[req.session_id];
    bool changed = false;
    if (req.erase) {
      if (req.erase_version == 0) {
        changed = s.has_doc || !s.fields.empty();
        s = stored_session{};
      } else {
        changed = s.erased_at < req.erase_version;
        s.has_doc = true;
        s.version = std::max(s.version, req.erase_version);
        s.erased_at = std::max(s.erased_at, req.erase_version);
        for (auto i = s.fields.begin(); i != s.fields.end();)
          i = i->second.version <= req.erase_version ? s.fields.erase(i)
                                                     : std::next(i);
      }
    }
    for (const auto& w : req.fields) {
      auto& f = s.fields[w.field];
      if (f.version >= req.version && f.version != 0)
        continue;
      f = {req.version, w.erase, w.erase ? std::string{} : w.value};
      changed = true;
    }
    if (!req.fields.empty() || !req.erase) {
      if (!s.has_doc || s.version < req.version) {
        s.has_doc = true;
        s.version = req.version;
        changed = true;
      }
    }
    if (!changed)
      ++noop_persists;
  }

  /// What a load of `sid` would return: live fields newer than the erase.
  session_snapshot view(const std::string& sid) {
    std::lock_guard<std::mutex> guard{mtx};
    session_snapshot snap;
    auto i = store.find(sid);
    if (i == store.end())
      return snap;
    const auto& s = i->second;
    snap.version = s.version;
    for (const auto& [name, f] : s.fields)
      if (!f.erased && f.version > s.erased_at)
        snap.fields.push_back({name, false, f.value});
    snap.found = (s.has_doc && s.version > s.erased_at) || !snap.fields.empty();
    return snap;
  }
};

using fake_late_atom = caf::atom_constant<caf::atom("fakelate")>;
/// Test to fake: quit with an error now (a crash between calls).
using fake_crash_atom = caf::atom_constant<caf::atom("fakecrash")>;

struct fake_cold_state {
  std::shared_ptr<fake_cold_control> ctl;
  uint64_t next_id = 1;
  /// Deliveries of late answers, by id.
  std::map<uint64_t, std::function<void()>> late;
  /// Promises of hung calls, kept so they are never answered.
  std::vector<std::function<void()>> hung;
};

using fake_cold_pointer = caf::stateful_actor<fake_cold_state>*;

/// Answers one data call with `value` according to the current mode.
template <class T>
caf::result<T> fake_answer(fake_cold_pointer self, T value) {
  auto& ctl = *self->state.ctl;
  ++ctl.calls;
  switch (ctl.mode.load()) {
    case fake_mode::succeed:
      return value;
    case fake_mode::fail:
      return make_error(ctl.fail_code.load(), "fake cold failure");
    case fake_mode::hang: {
      auto rp = self->make_response_promise<T>();
      self->state.hung.emplace_back([rp] {});
      return rp;
    }
    case fake_mode::late: {
      auto rp = self->make_response_promise<T>();
      auto id = self->state.next_id++;
      auto* ctlp = &ctl;
      self->state.late.emplace(id, [rp, value, ctlp]() mutable {
        ++ctlp->late_answers;
        rp.deliver(value);
      });
      self->delayed_send(self, ctl.late_delay, fake_late_atom::value, id);
      return rp;
    }
    case fake_mode::crash:
    default: {
      auto rp = self->make_response_promise<T>();
      self->quit(make_error(errc::internal, "fake cold worker crashed"));
      return rp;
    }
  }
}

inline caf::behavior fake_cold_worker(fake_cold_pointer self,
                                      std::shared_ptr<fake_cold_control> ctl) {
  self->state.ctl = ctl;
  return {
    [=](persist_atom, const persist_request& req) -> caf::result<uint64_t> {
      auto& ctl = *self->state.ctl;
      auto mode = ctl.mode.load();
      {
        std::lock_guard<std::mutex> guard{ctl.mtx};
        ctl.persists.push_back(req);
        if (mode == fake_mode::succeed || mode == fake_mode::late)
          ctl.apply(req);
        if (mode == fake_mode::late && ctl.unanswered[req.session_id]++ > 0)
          ++ctl.overlaps;
      }
      if (mode == fake_mode::late) {
        // Counted unanswered until the late answer goes out.
        auto rp = self->make_response_promise<uint64_t>();
        auto id = self->state.next_id++;
        auto* ctlp = &ctl;
        auto sid = req.session_id;
        auto version = req.version;
        ++ctl.calls;
        self->state.late.emplace(id, [rp, version, ctlp, sid]() mutable {
          {
            std::lock_guard<std::mutex> guard{ctlp->mtx};
            --ctlp->unanswered[sid];
          }
          ++ctlp->late_answers;
          rp.deliver(version);
        });
        self->delayed_send(self, ctl.late_delay, fake_late_atom::value, id);
        return rp;
      }
      return fake_answer<uint64_t>(self, req.version);
    },
    [=](load_atom, const std::string& sid) -> caf::result<session_snapshot> {
      // A session the fake stored (persists reached it) is answered from
      // that state, as a cold_store would; any other from `snapshot`.
      session_snapshot snap;
      bool stored = false;
      {
        std::lock_guard<std::mutex> guard{self->state.ctl->mtx};
        stored = self->state.ctl->store.count(sid) > 0;
        snap = self->state.ctl->snapshot;
      }
      if (stored)
        snap = self->state.ctl->view(sid);
      return fake_answer<session_snapshot>(self, snap);
    },
    [=](worker_init_atom) {
      ++self->state.ctl->inits;
      bool ok = self->state.ctl->init_ok.load();
      return caf::make_message(ok, std::string{ok ? ""
                                                  : "ensure indexes: "
                                                    "network (fake)"});
    },
    [=](fake_crash_atom) {
      self->quit(make_error(errc::internal, "fake cold worker crashed"));
    },
    [=](fake_late_atom, uint64_t id) {
      auto i = self->state.late.find(id);
      if (i == self->state.late.end())
        return;
      i->second();
      self->state.late.erase(i);
    },
  };
}

/// A factory for cold_supervisor_config::make_worker that spawns fakes.
inline cold_worker_factory
fake_cold_factory(std::shared_ptr<fake_cold_control> ctl) {
  return [ctl](caf::actor_system& sys) {
    auto worker = sys.spawn(fake_cold_worker, ctl);
    {
      std::lock_guard<std::mutex> guard{ctl->mtx};
      ctl->latest = worker;
      ctl->spawn_times.push_back(std::chrono::steady_clock::now());
    }
    ++ctl->spawned;
    return caf::actor_cast<cold_worker_actor>(worker);
  };
}

} // namespace authstore::testing
