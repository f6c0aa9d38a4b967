// fake_redis.hpp -- a redis_actor for actor tests: counts requests by
// script, answers from a function, or holds replies until `flush`.
#pragma once

#include <caf/all.hpp>
#include <functional>
#include <map>

#include "messages/interfaces.hpp"
#include "redis/layout.hpp"
#include "tests/redis_replies.hpp"

namespace authstore::testing {

using answer_fn = std::function<outcome<redis_reply>(const redis_request&)>;

struct fake_state {
  answer_fn answer;
  bool hold = false;
  std::map<redis_script, int>* counts = nullptr;
  std::vector<
    std::pair<redis_request, caf::typed_response_promise<redis_reply>>>
    held;
};

/// A redis_actor that answers with `answer`, or (hold) keeps the promises
/// until it receives flush.
inline redis_actor::behavior_type
fake_redis(redis_actor::stateful_pointer<fake_state> self, answer_fn answer,
           bool hold, std::map<redis_script, int>* counts) {
  self->state.answer = std::move(answer);
  self->state.hold = hold;
  self->state.counts = counts;
  return {
    [=](redis_atom, redis_request& req) -> caf::result<redis_reply> {
      ++(*self->state.counts)[req.script];
      auto rp = self->make_response_promise<redis_reply>();
      if (self->state.hold) {
        self->state.held.emplace_back(std::move(req), rp);
        return rp;
      }
      auto r = self->state.answer(req);
      if (r)
        rp.deliver(*r);
      else
        rp.deliver(make_error(r.error()));
      return rp;
    },
    [=](flush_atom) {
      for (auto& [req, rp] : self->state.held) {
        auto r = self->state.answer(req);
        if (r)
          rp.deliver(*r);
        else
          rp.deliver(make_error(r.error()));
      }
      self->state.held.clear();
    },
  };
}

/// A Redis that holds creds {"a":1} and pre-key 1 = "K" at `*version`, and
/// acknowledges writes at `*next_write_version`.
inline answer_fn scripted(uint64_t* version, uint64_t* next_write_version) {
  return [=](const redis_request& req) -> outcome<redis_reply> {
    switch (req.script) {
      case redis_script::read_creds:
        return array({std::to_string(*version), "a", "1"});
      case redis_script::read_keys: {
        std::vector<std::string> items{std::to_string(*version)};
        std::vector<uint8_t> nil{0};
        // KEYS m, k; ARGV require_trace, then the fields.
        for (size_t i = 3; i < req.args.size(); ++i) {
          bool has = req.args[i] == "pre-key/1";
          items.push_back(has ? "K" : "");
          nil.push_back(has ? 0 : 1);
        }
        return array(items, nil);
      }
      case redis_script::apply_patch:
        *version = (*next_write_version)++;
        return array({std::to_string(*version)});
      case redis_script::exists_session:
        return integer(1);
      default:
        return failure{errc::hot_error, "unexpected script in test"};
    }
  };
}

} // namespace authstore::testing
