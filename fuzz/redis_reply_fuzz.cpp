// redis_reply_fuzz.cpp -- arbitrary bytes as a Redis server's answer: read
// by hiredis's RESP reader (the one the connection uses), each reply
// flattened (redis/reply.hpp) and handed to every reply reader of the
// layout (redis/layout.hpp), as a reply to each script could be.
//
// Properties: flattening gives one nil flag per item; a reader that accepts
// a reply accepts only the payload answer (never a sentinel), and answers
// within the reply's own bounds (read_keys returns only asked-for ids,
// read_dirty only fields the reply names); error replies classify to a
// hot_* code. Not reached: the socket, EVALSHA/NOSCRIPT handling and the
// pipeline bookkeeping of redis/connection.cpp (they need a server).
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <hiredis/hiredis.h>

#include "fuzz/fuzz_check.hpp"
#include "redis/connection.hpp"
#include "redis/layout.hpp"
#include "redis/reply.hpp"

using namespace authstore;
namespace rl = authstore::redis_layout;

namespace {

void read_everything(const redis_reply& r) {
  FUZZ_CHECK(r.item_nil.size() == r.items.size());
  auto answer = rl::answer_of(r);
  bool payload = answer == rl::script_answer::payload;
  FUZZ_CHECK(rl::untraced(r) == (answer == rl::script_answer::untraced));

  auto applied = rl::parse_apply_patch(r);
  FUZZ_CHECK(applied || applied.error().code == errc::hot_error
             || applied.error().code == errc::version_conflict
             || applied.error().code == errc::fenced
             || applied.error().code == errc::not_owner);
  if (applied)
    FUZZ_CHECK(payload);
  if (!applied && applied.error().code == errc::version_conflict)
    FUZZ_CHECK(answer == rl::script_answer::conflict);

  if (auto creds = rl::parse_read_creds(r)) {
    FUZZ_CHECK(payload);
    FUZZ_CHECK(creds->found == (r.items.size() > 1));
  }

  std::vector<std::string> ids;
  for (size_t i = 1; i < r.items.size(); ++i)
    ids.push_back(std::to_string(i));
  if (auto keys = rl::parse_read_keys(r, ids)) {
    FUZZ_CHECK(payload);
    FUZZ_CHECK(keys->values.size() <= ids.size());
  }

  if (auto del = rl::parse_delete_session(r))
    FUZZ_CHECK(payload);

  if (auto dirty = rl::parse_read_dirty(r, "fuzz-session")) {
    FUZZ_CHECK(dirty->claimed_elsewhere
               == (answer == rl::script_answer::claimed));
    FUZZ_CHECK(dirty->request.fields.size() <= dirty->marks);
    for (const auto& f : dirty->request.fields)
      FUZZ_CHECK(f.field.compare(0, 2, "c:") == 0
                 || f.field.compare(0, 2, "k:") == 0);
  }

  if (auto cleared = rl::parse_clear_dirty(r))
    FUZZ_CHECK(payload);
  if (auto candidates = rl::parse_dirty_candidates(r))
    FUZZ_CHECK(candidates->size() == r.items.size());
  if (auto stats = rl::parse_outbox_stats(r, 1700000000000))
    FUZZ_CHECK(stats->oldest_age_ms >= 0);
  if (auto swept = rl::parse_sweep_dirty(r))
    FUZZ_CHECK(payload);
  if (auto flag = rl::parse_flag(r))
    FUZZ_CHECK(r.kind == redis_reply::integer);
}

/// Whether `data` declares an array ("*N") of more elements than it has
/// bytes. hiredis 0.14 callocs an array's element table as soon as it
/// reads the header (*922330277 asks for 7.4 GB), before any element
/// arrives: that is hiredis's behaviour, not a reader of ours, and a Redis
/// server is trusted not to send it (fuzz/README.md, "Findings"). Such
/// inputs are skipped; the check is coarse (any "*digits"), which only
/// skips some inputs that would have been fine.
bool declares_huge_array(const uint8_t* data, size_t size) {
  for (size_t i = 0; i < size; ++i) {
    if (data[i] != '*')
      continue;
    uint64_t n = 0;
    for (size_t j = i + 1; j < size && data[j] >= '0' && data[j] <= '9'; ++j)
      if ((n = n * 10 + (data[j] - '0')) > size)
        return true;
  }
  return false;
}

struct reader_deleter {
  void operator()(redisReader* r) const { redisReaderFree(r); }
};

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (declares_huge_array(data, size))
    return 0;
  std::unique_ptr<redisReader, reader_deleter> reader{redisReaderCreate()};
  FUZZ_CHECK(reader);
  if (redisReaderFeed(reader.get(), reinterpret_cast<const char*>(data), size)
      != REDIS_OK)
    return 0;
  for (;;) {
    void* raw = nullptr;
    if (redisReaderGetReply(reader.get(), &raw) != REDIS_OK || !raw)
      return 0; // a protocol error, or the reply is incomplete
    std::unique_ptr<redisReply, decltype(&freeReplyObject)> reply{
      static_cast<redisReply*>(raw), &freeReplyObject};
    if (reply->type == REDIS_REPLY_ERROR) {
      auto kind = classify_redis_error(std::string(reply->str, reply->len));
      FUZZ_CHECK(kind == errc::hot_error || kind == errc::hot_unavailable
                 || kind == errc::hot_out_of_memory);
      continue;
    }
    read_everything(flatten_reply(*reply));
  }
}
