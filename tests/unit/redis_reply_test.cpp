// Tests of redis/reply.hpp: RESP bytes read by hiredis's reader (as the
// connection reads them), flattened into redis_reply.
#include "redis/reply.hpp"

#include <memory>
#include <string>

#include <catch2/catch.hpp>
#include <hiredis/hiredis.h>

// The file's own namespace: test files are compiled together in unity
// batches (tests/CMakeLists.txt), so file-local names must not meet.
namespace redis_reply_test {

using namespace authstore;

namespace {

/// The one reply in `resp`, flattened.
redis_reply read_one(const std::string& resp) {
  std::unique_ptr<redisReader, void (*)(redisReader*)> reader{
    redisReaderCreate(), &redisReaderFree};
  REQUIRE(redisReaderFeed(reader.get(), resp.data(), resp.size()) == REDIS_OK);
  void* raw = nullptr;
  REQUIRE(redisReaderGetReply(reader.get(), &raw) == REDIS_OK);
  REQUIRE(raw != nullptr);
  std::unique_ptr<redisReply, void (*)(void*)> reply{
    static_cast<redisReply*>(raw), &freeReplyObject};
  return flatten_reply(*reply);
}

} // namespace

TEST_CASE("scalars keep their kind and bytes", "[redis-reply]") {
  auto i = read_one(":-42\r\n");
  CHECK(i.kind == redis_reply::integer);
  CHECK(i.number == -42);
  auto s = read_one(std::string{"$3\r\na\0b\r\n", 9});
  CHECK(s.kind == redis_reply::text);
  CHECK(s.str == std::string("a\0b", 3));
  auto st = read_one("+OK\r\n");
  CHECK(st.kind == redis_reply::status);
  CHECK(st.str == "OK");
  CHECK(read_one("$-1\r\n").kind == redis_reply::nil);
  CHECK(read_one("*-1\r\n").kind == redis_reply::nil);
}

TEST_CASE("an array flattens to texts with one nil flag per item",
          "[redis-reply]") {
  auto a = read_one("*5\r\n:7\r\n$2\r\nme\r\n$-1\r\n+st\r\n*1\r\n:1\r\n");
  CHECK(a.kind == redis_reply::array);
  CHECK(a.items == std::vector<std::string>{"7", "me", "", "st", ""});
  CHECK(a.item_nil == std::vector<uint8_t>{0, 0, 1, 0, 0});
  auto empty = read_one("*0\r\n");
  CHECK(empty.kind == redis_reply::array);
  CHECK(empty.items.empty());
  CHECK(empty.item_nil.empty());
}

} // namespace redis_reply_test
