// cold_store_contract_mongowiretest.cpp -- the cold-store contract suite
// (tests/contract/cold_store_contract.hpp), the one pg_store passes against
// PostgreSQL, run against mongo_store: always on mini_mongod (a stateful
// MongoDB wire server in Python, NOT a real MongoDB), and on a real MongoDB
// when AUTHSTORE_TEST_MONGODB_URI is set.
//
// Without the variable the real-MongoDB cases are registered hidden ("[.]":
// not run, not counted) and one visible case WARNs that they did not run,
// as mongo_store_contract_mongowiretest does; the mini_mongod cases run.
// Each case works in a database of its own.
#include "mongo/store.hpp"

#include <cstdlib>
#include <memory>
#include <string>

#include <mongoc/mongoc.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "tests/contract/cold_store_contract.hpp"
#include "tests/mongowire/mini_mongod.hpp"

// The file's own namespace: test files are compiled together in unity
// batches (tests/CMakeLists.txt), so file-local names must not meet.
namespace cold_store_contract_mongowiretest {

using namespace authstore;

namespace {

const char* real_uri() {
  const char* uri = std::getenv("AUTHSTORE_TEST_MONGODB_URI");
  return uri && *uri ? uri : nullptr;
}

// Decided before the TEST_CASEs below register (same translation unit).
const bool real_enabled = real_uri() != nullptr;

const char* const real_not_run
  = "real MongoDB cold-store contract NOT run: AUTHSTORE_TEST_MONGODB_URI is "
    "not set";

std::string next_database() {
  static int counter = 0;
  return "authstore_cc_" + std::to_string(getpid()) + "_"
         + std::to_string(++counter);
}

std::unique_ptr<mongo_store> open_store(const mongo_store_config& cfg) {
  auto store = mongo_store::open(cfg);
  if (!store)
    FAIL("mongo_store::open: " << store.error().render());
  auto indexes = (*store)->prepare();
  if (!indexes)
    FAIL("prepare: " << indexes.error().render());
  return std::move(*store);
}

test::mini_mongod& shared_mini() {
  static test::mini_mongod server;
  return server;
}

struct mini_fixture {
  mini_fixture() {
    auto& server = shared_mini();
    if (server.port() == 0)
      FAIL("mini_mongod did not start: " << server.log());
    mongo_store_config cfg;
    cfg.uri = server.uri("serverSelectionTimeoutMS=2000&connectTimeoutMS=1000"
                         "&socketTimeoutMS=5000");
    cfg.database = next_database();
    cfg.write_w = "1";
    store_ = open_store(cfg);
  }
  mongo_store& store() { return *store_; }
  std::unique_ptr<mongo_store> store_;
};

struct real_fixture {
  real_fixture() {
    if (!real_enabled)
      FAIL(real_not_run);
    cfg_.uri = real_uri();
    cfg_.database = next_database();
    store_ = open_store(cfg_);
  }
  ~real_fixture() {
    store_.reset();
    mongoc_client_t* client = mongoc_client_new(cfg_.uri.c_str());
    if (!client)
      return;
    mongoc_database_t* db
      = mongoc_client_get_database(client, cfg_.database.c_str());
    mongoc_database_drop(db, nullptr);
    mongoc_database_destroy(db);
    mongoc_client_destroy(client);
  }
  mongo_store& store() { return *store_; }
  mongo_store_config cfg_;
  std::unique_ptr<mongo_store> store_;
};

} // namespace

AUTHSTORE_COLD_STORE_CONTRACT(mini_fixture, "mini_mongod", "[mini_mongod]")

TEST_CASE(real_not_run,
          real_enabled ? "[.][realmongo-notice]" : "[realmongo-notice]") {
  WARN(real_not_run);
}

AUTHSTORE_COLD_STORE_CONTRACT(real_fixture, "real MongoDB",
                              real_enabled ? "[realmongo]" : "[.][realmongo]")

} // namespace cold_store_contract_mongowiretest
