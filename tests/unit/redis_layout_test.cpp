// Tests of redis/layout.hpp and the URL parser of
// redis/connection.hpp: requests built, replies read, no data in
// command text.
#include "redis/layout.hpp"

#include <algorithm>

#include <catch2/catch.hpp>

#include "redis/connection.hpp"
#include "redis/scripts.hpp"
#include "tests/redis_replies.hpp"

// The file's own namespace: test files are compiled together in unity
// batches (tests/CMakeLists.txt), so file-local names must not meet.
namespace redis_layout_test {

using namespace authstore;

TEST_CASE("all keys of a session share its hash tag", "[redis-layout]") {
  for (auto k : {redis_layout::meta_key("s1"), redis_layout::creds_key("s1"),
                 redis_layout::keys_key("s1"), redis_layout::outbox_key("s1")})
    CHECK(k.rfind("as:{s1}:", 0) == 0);
}

TEST_CASE("apply_patch sends data only as arguments, last write per field",
          "[redis-layout]") {
  patch p;
  p.set_key("pre-key", "1", "A");
  p.erase_key("pre-key", "1"); // a later write of the same field wins
  p.set_creds("me", "B");
  p.expected_version = 7;
  redis_layout::write_options opts;
  opts.expire_at_ms = 123;
  opts.now_ms = 99;
  opts.track_dirty = true;
  opts.require_trace = true;
  auto req = redis_layout::apply_patch("s1", p, opts);
  CHECK(req.script == redis_script::apply_patch);
  REQUIRE(req.num_keys == 8);
  std::vector<std::string> expected = {"as:{s1}:m",  "as:{s1}:c",
                                       "as:{s1}:k",  "as:{s1}:o",
                                       "as:dirty",   "as:dirty:fields",
                                       "as:{s1}:cl", "as:{s1}:own",
                                       "7",          "123",
                                       "99",         "s1",
                                       "1",          "1",
                                       "d",          "k:pre-key/1",
                                       "",           "s",
                                       "c:me",       "B",
                                       "",           "0"};
  CHECK(req.args == expected);
  p.expected_version = any_version;
  CHECK(redis_layout::apply_patch("s1", p, {}).args[8].empty());
  // A lease goes last: holder, epoch.
  p.lease = {"h-1", 4};
  auto leased = redis_layout::apply_patch("s1", p, {});
  REQUIRE(leased.args.size() >= 2);
  CHECK(leased.args[leased.args.size() - 2] == "h-1");
  CHECK(leased.args.back() == "4");
}

TEST_CASE("issue #19 - an owner's write carries its token as the '@' triple "
          "after the options, a writer without one sends none",
          "[redis-layout][issue-19]") {
  patch p;
  p.set_creds("me", "B");
  p.min_version = 5;
  redis_layout::write_options opts;
  opts.owner = {"tok", 3};
  auto req = redis_layout::apply_patch("s1", p, opts);
  REQUIRE(req.num_keys == 8);
  std::vector<std::string> argv(req.args.begin() + 8, req.args.end());
  std::vector<std::string> expected
    = {"",  "0",   "0", "s1", "0",    "0", "!", "0", "5",
       "@", "tok", "3", "s",  "c:me", "B", "",  "0"};
  CHECK(argv == expected);
  p.min_version = 0;
  auto plain = redis_layout::apply_patch("s1", p, {});
  CHECK(std::find(plain.args.begin(), plain.args.end(), "@")
        == plain.args.end());
  auto del
    = redis_layout::delete_session("s1", false, 1, false, {}, {"tok", 3});
  REQUIRE(del.num_keys == 8);
  CHECK(del.args[7] == "as:{s1}:own");
  CHECK(del.args[del.args.size() - 2] == "tok");
  CHECK(del.args.back() == "3");
}

TEST_CASE("issue #19 - ownership and membership replies: owned, owned "
          "elsewhere (with the owner), the node id in use",
          "[redis-layout][issue-19]") {
  using namespace redis_layout;
  auto own = parse_take_ownership(
    {redis_reply::array, 0, {}, {"7", "3000", "0"}, {0, 0, 0}});
  REQUIRE(own);
  CHECK(own->owned);
  CHECK(own->epoch == 7);
  CHECK(own->ttl_ms == 3000);
  CHECK_FALSE(own->took_over);
  auto over = parse_take_ownership(
    {redis_reply::array, 0, {}, {"8", "3000", "1"}, {0, 0, 0}});
  REQUIRE(over);
  CHECK(over->took_over);
  // The old two-element answer (before takeovers were told) is refused.
  CHECK_FALSE(
    parse_take_ownership({redis_reply::array, 0, {}, {"7", "3000"}, {0, 0}}));
  auto other = parse_take_ownership(
    {redis_reply::array, 0, {}, {"-8", "1200", "node-b"}, {0, 0, 0}});
  REQUIRE(other);
  CHECK_FALSE(other->owned);
  CHECK(other->owner == "node-b");
  CHECK(other->expires_in_ms == 1200);
  CHECK(parse_take_ownership(
          {redis_reply::array, 0, {}, {"0", "3000", "0"}, {0, 0, 0}})
          .error()
          .code
        == errc::hot_error);
  auto members = parse_member_beat({redis_reply::array,
                                    0,
                                    {},
                                    {"1000", "n1", "127.0.0.1:1", "900"},
                                    {0, 0, 0, 0}});
  REQUIRE(members);
  REQUIRE(members->size() == 1);
  CHECK((*members)[0].address == "127.0.0.1:1");
  auto dup
    = parse_member_beat({redis_reply::array, 0, {}, {"-9", "800"}, {0, 0}});
  REQUIRE_FALSE(dup);
  CHECK(dup.error().code == errc::invalid_config);
  CHECK(parse_member_beat({redis_reply::array, 0, {}, {"1000", "n1"}, {0, 0}})
          .error()
          .code
        == errc::hot_error);
}

TEST_CASE("apply_patch replies: a version, or a conflict naming the current",
          "[redis-layout]") {
  redis_reply ok{redis_reply::array, 0, {}, {"42"}, {0}};
  auto v = redis_layout::parse_apply_patch(ok);
  REQUIRE(v);
  CHECK(*v == 42);
  redis_reply conflict{redis_reply::array, 0, {}, {"-1", "9"}, {0, 0}};
  auto c = redis_layout::parse_apply_patch(conflict);
  REQUIRE_FALSE(c);
  CHECK(c.error().code == errc::version_conflict);
  CHECK(c.error().detail.find('9') != std::string::npos);
  redis_reply junk{redis_reply::integer, 5, {}, {}, {}};
  CHECK(redis_layout::parse_apply_patch(junk).error().code == errc::hot_error);
}

TEST_CASE("read_creds: no creds field is a successful not-found",
          "[redis-layout][invariant-4]") {
  redis_reply empty{redis_reply::array, 0, {}, {"0"}, {0}};
  auto r = redis_layout::parse_read_creds(empty);
  REQUIRE(r);
  CHECK_FALSE(r->found);
  CHECK(r->creds_json == "{}");
  redis_reply some{redis_reply::array,
                   0,
                   {},
                   {"3", "me", R"({"id":"x"})", "n", "5"},
                   {0, 0, 0, 0, 0}};
  auto s = redis_layout::parse_read_creds(some);
  REQUIRE(s);
  CHECK(s->found);
  CHECK(s->version == 3);
  CHECK(s->creds_json == R"({"me":{"id":"x"},"n":5})");
  redis_reply odd{redis_reply::array, 0, {}, {"3", "me"}, {0, 0}};
  CHECK_FALSE(redis_layout::parse_read_creds(odd));
}

TEST_CASE("read_keys leaves absent ids out", "[redis-layout]") {
  std::vector<std::string> ids = {"1", "2", "3"};
  auto req = redis_layout::read_keys("s", "pre-key", ids, true);
  CHECK(req.args
        == std::vector<std::string>{"as:{s}:m", "as:{s}:k", "1", "pre-key/1",
                                    "pre-key/2", "pre-key/3"});
  redis_reply r{redis_reply::array, 0, {}, {"4", "A", "", "C"}, {0, 0, 1, 0}};
  auto k = redis_layout::parse_read_keys(r, ids);
  REQUIRE(k);
  CHECK(k->version == 4);
  CHECK(k->values
        == std::map<std::string, std::string>{{"1", "A"}, {"3", "C"}});
}

TEST_CASE("redis URLs: password, database, unix socket; errors hide secrets",
          "[redis-url]") {
  auto a = parse_redis_url("redis://:s3cret@10.0.0.1:6380/2");
  REQUIRE(a);
  CHECK(a->host == "10.0.0.1");
  CHECK(a->port == 6380);
  CHECK(a->database == 2);
  CHECK(a->password == "s3cret");
  CHECK(a->redacted().find("s3cret") == std::string::npos);
  auto b = parse_redis_url("redis://user:pw@localhost");
  REQUIRE(b);
  CHECK(b->user == "user");
  CHECK(b->port == 6379);
  auto u = parse_redis_url("unix:///run/redis.sock?db=3");
  REQUIRE(u);
  CHECK(u->transport == "unix");
  CHECK(u->socket_path == "/run/redis.sock");
  CHECK(u->database == 3);
  auto d = parse_redis_url("redis://");
  REQUIRE(d); // like redis-cli: defaults to 127.0.0.1:6379/0
  CHECK(d->host == "127.0.0.1");
  CHECK(d->port == 6379);
  for (std::string bad : {"http://x", "redis://:pw@host:99999",
                          "redis://:pw@host/abc", "unix://relative.sock"}) {
    auto r = parse_redis_url(bad);
    INFO(bad);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == errc::invalid_config);
    CHECK(r.error().detail.find("pw") == std::string::npos);
  }
}

TEST_CASE("redis error replies are classified once", "[redis-layout]") {
  CHECK(classify_redis_error("OOM command not allowed")
        == errc::hot_out_of_memory);
  CHECK(classify_redis_error("LOADING Redis is loading")
        == errc::hot_unavailable);
  CHECK(classify_redis_error("BUSY Redis is busy") == errc::hot_unavailable);
  CHECK(classify_redis_error("ERR something") == errc::hot_error);
}

TEST_CASE("an outbox read becomes a persist at the version it was read at",
          "[redis-layout][outbox]") {
  // {version, (field, mark, value-or-nil)...}
  redis_reply r{
    redis_reply::array,
    0,
    {},
    {"9", "c:me", "7", "{\"id\":1}", "k:pre-key/1", "9", "", "!erase", "5", ""},
    {0, 0, 0, 0, 0, 0, 1, 0, 0, 1}};
  auto read = redis_layout::parse_read_dirty(r, "s1");
  REQUIRE(read);
  CHECK_FALSE(read->claimed_elsewhere);
  CHECK(read->marks == 3);
  const auto& req = read->request;
  CHECK(req.session_id == "s1");
  CHECK(req.version == 9);
  CHECK(req.erase);
  CHECK(req.erase_version == 5);
  REQUIRE(req.fields.size() == 2);
  CHECK(req.fields[0] == field_write{"c:me", false, "{\"id\":1}"});
  // A dirty field with no value was deleted: a tombstone.
  CHECK(req.fields[1] == field_write{"k:pre-key/1", true, ""});
}

TEST_CASE("a malformed outbox is invalid_argument, a claimed one is skipped",
          "[redis-layout][outbox]") {
  redis_reply claimed{redis_reply::array, 0, {}, {"-2"}, {0}};
  auto c = redis_layout::parse_read_dirty(claimed, "s1");
  REQUIRE(c);
  CHECK(c->claimed_elsewhere);
  redis_reply bad_mark{
    redis_reply::array, 0, {}, {"3", "c:me", "x", "1"}, {0, 0, 0, 0}};
  CHECK(redis_layout::parse_read_dirty(bad_mark, "s1").error().code
        == errc::invalid_argument);
  redis_reply future{
    redis_reply::array, 0, {}, {"3", "c:me", "4", "1"}, {0, 0, 0, 0}};
  CHECK(redis_layout::parse_read_dirty(future, "s1").error().code
        == errc::invalid_argument);
  redis_reply bad_field{
    redis_reply::array, 0, {}, {"3", "zz", "2", "1"}, {0, 0, 0, 0}};
  CHECK(redis_layout::parse_read_dirty(bad_field, "s1").error().code
        == errc::invalid_argument);
  redis_reply clean{redis_reply::array, 0, {}, {"3"}, {0}};
  CHECK(redis_layout::parse_read_dirty(clean, "s1")->marks == 0);
}

TEST_CASE("untraced replies are told apart from every ordinary reply",
          "[redis-layout][read-through]") {
  redis_reply untraced{redis_reply::array, 0, {}, {"-3"}, {0}};
  CHECK(redis_layout::untraced(untraced));
  // exists is a script like the others, so it answers "untraced" the same
  // way.
  auto ex = redis_layout::exists_session("s", true);
  CHECK(ex.script == redis_script::exists_session);
  CHECK(ex.args == std::vector<std::string>{"as:{s}:m", "1"});
  // A session at version 3 with no creds, a conflict, a flag: all traced.
  CHECK_FALSE(redis_layout::untraced({redis_reply::array, 0, {}, {"3"}, {0}}));
  CHECK_FALSE(
    redis_layout::untraced({redis_reply::array, 0, {}, {"-1", "4"}, {0, 0}}));
  CHECK_FALSE(redis_layout::untraced({redis_reply::integer, 0, {}, {}, {}}));
}

TEST_CASE("a snapshot from the cold store is checked before it reaches Redis",
          "[redis-layout][read-through]") {
  session_snapshot ok{
    true, 3, {{"c:me", false, "1"}, {"k:pre-key/1", false, "2"}}};
  CHECK(redis_layout::check_snapshot(ok));
  auto req = redis_layout::warm_session("s", ok, 0);
  CHECK(req.script == redis_script::warm_session);
  CHECK(req.args
        == std::vector<std::string>{"as:{s}:m", "as:{s}:c", "as:{s}:k",
                                    "as:{s}:o", "0", "3", "1", "c:me", "1",
                                    "k:pre-key/1", "2"});
  session_snapshot bad_name{true, 3, {{"x:me", false, "1"}}};
  auto b = redis_layout::check_snapshot(bad_name);
  REQUIRE_FALSE(b);
  CHECK(b.error().code == errc::cold_error);
  session_snapshot no_value{true, 3, {{"c:me", false, ""}}};
  CHECK_FALSE(redis_layout::check_snapshot(no_value));
}

using testing::array;
using testing::integer;
using testing::text;

TEST_CASE("sentinel answers are named, and only their exact shape is one",
          "[redis-layout]") {
  using redis_layout::answer_of;
  CHECK(answer_of(array({"-1", "9"})) == redis_layout::script_answer::conflict);
  CHECK(answer_of(array({"-2"})) == redis_layout::script_answer::claimed);
  CHECK(answer_of(array({"-3"})) == redis_layout::script_answer::untraced);
  CHECK(answer_of(array({"-4"})) == redis_layout::script_answer::fenced);
  CHECK(answer_of(array({"-5", "9"})) == redis_layout::script_answer::in_use);
  CHECK(answer_of(array({"-6", "9"})) == redis_layout::script_answer::too_many);
  CHECK(answer_of(array({"-7", "3", "0"}))
        == redis_layout::script_answer::too_large);
  CHECK(answer_of(array({"-10"})) == redis_layout::script_answer::not_owner);
  // Anything else is a payload for the script's own reader to judge.
  for (const auto& r :
       {array({"-1"}), array({"-2", "x"}), array({"-3", "x"}),
        array({"-4", "x"}), array({"-5"}), array({"-6"}), array({"-7"}),
        array({"-10", "x"}), array({"-3 "}), array({"3"}), array({}),
        array({"-3"}, {1}), array({"abc"}), integer(-3), text("-3"),
        redis_reply{}}) {
    INFO("kind " << int{r.kind} << ", " << r.items.size() << " items");
    CHECK(answer_of(r) == redis_layout::script_answer::payload);
  }
  // item_nil not covering the items is no sentinel either.
  redis_reply short_nil{redis_reply::array, 0, {}, {"-3"}, {}};
  CHECK(answer_of(short_nil) == redis_layout::script_answer::payload);
}

TEST_CASE("each reader refuses a reply of the wrong shape with hot_error",
          "[redis-layout][invariant-4]") {
  // A malformed reply is a backend failure, never "not found".
  using namespace redis_layout;
  std::vector<std::string> ids = {"1", "2"};
  auto check_hot_error = [](const auto& result, const char* what) {
    INFO(what);
    REQUIRE_FALSE(result);
    CHECK(result.error().code == errc::hot_error);
  };
  for (const auto& r :
       {integer(1), text("1"), redis_reply{}, array({"-3"}), array({"-2"})}) {
    INFO("kind " << int{r.kind} << ", first item "
                 << (r.items.empty() ? "-" : r.items[0]));
    check_hot_error(parse_apply_patch(r), "apply_patch");
    check_hot_error(parse_read_creds(r), "read_creds");
    check_hot_error(parse_read_keys(r, ids), "read_keys");
    check_hot_error(parse_delete_session(r), "delete_session");
    check_hot_error(parse_clear_dirty(r), "clear_dirty");
    check_hot_error(parse_outbox_stats(r, 0), "outbox_stats");
    check_hot_error(parse_sweep_dirty(r), "sweep_dirty");
  }
  check_hot_error(parse_apply_patch(array({})), "apply_patch: empty");
  check_hot_error(parse_apply_patch(array({"x"})), "apply_patch: text");
  check_hot_error(parse_apply_patch(array({"4", "5"})),
                  "apply_patch: two items");
  check_hot_error(parse_apply_patch(array({"-1", "x"})),
                  "apply_patch: conflict without a version");
  check_hot_error(parse_read_creds(array({"x"})), "read_creds: version");
  check_hot_error(parse_read_creds(array({"", "me", "1"}, {1, 0, 0})),
                  "read_creds: nil version");
  check_hot_error(parse_read_keys(array({"1", "A"}), ids),
                  "read_keys: fewer values than ids");
  check_hot_error(parse_read_keys(array({"x", "A", "B"}), ids),
                  "read_keys: version");
  redis_reply nil_short{redis_reply::array, 0, {}, {"1", "A", "B"}, {0}};
  check_hot_error(parse_read_keys(nil_short, ids),
                  "read_keys: nil flags do not cover the items");
  check_hot_error(parse_delete_session(array({"1"})), "delete: one item");
  check_hot_error(parse_delete_session(array({"2", "5"})),
                  "delete: existed is not 0/1");
  check_hot_error(parse_delete_session(array({"1", "x"})), "delete: version");
  check_hot_error(parse_read_dirty(integer(1), "s"), "read_dirty: integer");
  check_hot_error(parse_read_dirty(array({}), "s"), "read_dirty: empty");
  check_hot_error(parse_read_dirty(array({"3", "c:me"}), "s"),
                  "read_dirty: not triples");
  check_hot_error(parse_read_dirty(array({"x"}), "s"), "read_dirty: version");
  check_hot_error(parse_read_dirty(array({"-3"}), "s"),
                  "read_dirty: untraced is not an outbox reply");
  check_hot_error(parse_clear_dirty(array({"1", "x"})), "clear: remaining");
  check_hot_error(parse_clear_dirty(array({"1"})), "clear: one item");
  check_hot_error(parse_outbox_stats(array({"1", "2", ""}), 0),
                  "stats: three items");
  check_hot_error(parse_outbox_stats(array({"x", "2", "", "0"}), 0),
                  "stats: sessions");
  check_hot_error(parse_sweep_dirty(array({"0", "x"})), "sweep: count");
  check_hot_error(parse_dirty_candidates(integer(0)), "candidates");
  check_hot_error(parse_flag(array({"1"})), "flag: array");
  check_hot_error(parse_flag(text("1")), "flag: text");
}

TEST_CASE("readers of the other scripts' payloads", "[redis-layout]") {
  using namespace redis_layout;
  auto d = parse_delete_session(array({"1", "8"}));
  REQUIRE(d);
  CHECK(d->existed);
  CHECK(d->version == 8);
  auto none = parse_delete_session(array({"0", "0"}));
  REQUIRE(none);
  CHECK_FALSE(none->existed);
  auto c = parse_clear_dirty(array({"3", "1"}));
  REQUIRE(c);
  CHECK(c->cleared == 3);
  CHECK(c->remaining == 1);
  auto s = parse_outbox_stats(array({"2", "7", "1000", "1"}), 1500);
  REQUIRE(s);
  CHECK(s->sessions == 2);
  CHECK(s->fields == 7);
  CHECK(s->oldest_age_ms == 500);
  CHECK(s->quarantined == 1);
  // An empty index has no oldest entry; a counter edited below zero and a
  // clock behind the stamp both read as zero.
  auto empty = parse_outbox_stats(array({"0", "-4", "", "0"}), 1500);
  REQUIRE(empty);
  CHECK(empty->fields == 0);
  CHECK(empty->oldest_age_ms == 0);
  auto ahead = parse_outbox_stats(array({"1", "1", "2000", "0"}), 1500);
  REQUIRE(ahead);
  CHECK(ahead->oldest_age_ms == 0);
  auto w = parse_sweep_dirty(array({"17", "2"}));
  REQUIRE(w);
  CHECK(w->cursor == "17");
  CHECK(w->reindexed == 2);
  // A session id may be any text, even one that looks like a sentinel.
  auto ids = parse_dirty_candidates(array({"-3"}));
  REQUIRE(ids);
  CHECK(*ids == std::vector<std::string>{"-3"});
  auto yes = parse_flag(integer(1));
  auto no = parse_flag(integer(0));
  REQUIRE(yes);
  REQUIRE(no);
  CHECK(*yes);
  CHECK_FALSE(*no);
}

TEST_CASE("each builder passes as many keys as it declares, keys first",
          "[redis-layout]") {
  using namespace redis_layout;
  patch p;
  p.set_creds("me", "1");
  session_snapshot snap{true, 2, {{"c:me", false, "1"}}};
  const std::vector<std::pair<redis_request, uint32_t>> calls = {
    {apply_patch("s", p, {}), 8},
    {read_creds("s"), 2},
    {read_keys("s", "pre-key", {"1"}), 2},
    {delete_session("s", true, 1), 8},
    {touch_session("s", 0), 4},
    {read_dirty("s"), 4},
    {claim_dirty("s", "t", 100), 5},
    {clear_dirty("s", 3, "t", 1), 7},
    {hold_claim("s", "t", 100), 1},
    {outbox_stats(), 3},
    {sweep_dirty("0", 10, 1), 2},
    {warm_session("s", snap, 0), 4},
    {exists_session("s"), 1},
    {read_session("s", 10, 100), 3},
    {scan_sessions("0", 10), 0},
    {list_key_ids("s", "pre-key"), 2},
    {take_lease("s", {"h", 1000, false}), 1},
    {take_ownership("s", {"t", 1}, "n", 1000), 1},
    {member_beat("n", "t", "127.0.0.1:1", 1000), 2},
  };
  CHECK(calls.size() == all_scripts().size());
  for (const auto& [req, keys] : calls) {
    INFO(script_name(req.script));
    CHECK(req.num_keys == keys);
    REQUIRE(req.args.size() >= keys);
    for (uint32_t i = 0; i < keys; ++i)
      CHECK(req.args[i].rfind("as:", 0) == 0);
    // The first argument after the keys is never a key name.
    if (req.args.size() > keys)
      CHECK(req.args[keys].rfind("as:", 0) != 0);
  }
}

TEST_CASE("issue #17 - a creds field name that is not UTF-8 is hot_error, "
          "not an exception",
          "[redis-layout][issue-17]") {
  // Found by fuzz/redis_reply_fuzz.cpp: the creds document is assembled
  // from the stored names, and nlohmann's dump() threw on a name that is
  // not UTF-8 -- an exception out of the session actor's handler.
  using namespace redis_layout;
  for (std::string name :
       {std::string{"m\xa0"}, std::string{"\xc3"}, std::string{"\xed\xa0\x80"},
        std::string(129, 'a'), std::string{}}) {
    auto r = parse_read_creds(array({"3", name, "true"}));
    REQUIRE_FALSE(r);
    CHECK(r.error().code == errc::hot_error);
  }
  auto ok = parse_read_creds(array({"3", "caf\xc3\xa9", "true"}));
  REQUIRE(ok);
  CHECK(ok->creds_json == "{\"caf\xc3\xa9\":true}");
}

TEST_CASE("issue #17 - an oldest-entry score outside int64 gives a clamped "
          "age, not undefined behaviour",
          "[redis-layout][issue-17]") {
  // Found by fuzz/redis_reply_fuzz.cpp under UBSan: the score was cast to
  // int64 as it came (-9223372036854775808:2 parses as -9.2e18).
  using namespace redis_layout;
  auto age = [](const std::string& score) {
    auto s = parse_outbox_stats(array({"1", "1", score, "0"}), 1500);
    REQUIRE(s);
    return s->oldest_age_ms;
  };
  CHECK(age("-9223372036854775808:217000000") == INT64_MAX);
  CHECK(age("-1e300") == INT64_MAX);
  CHECK(age("1e300") == 0);
  CHECK(age("inf") == 0);
  CHECK(age("-inf") == INT64_MAX);
  CHECK(age("nan") == 0);
  CHECK(age("1000") == 500);
  CHECK(age("1000.9") == 499); // the age is truncated, as before
}

} // namespace redis_layout_test
