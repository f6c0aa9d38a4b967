// in_process.cpp -- the in-process API in one page: start the engine inside
// your program, write Baileys auth state, read it back.
//
// Usage: in_process [REDIS_URL]   (default: $AUTHSTORE_REDIS_URL, then
// redis://127.0.0.1:6379/0). Exits non-zero if anything does not round-trip.
#include <cstdlib>
#include <iostream>

#include "runtime/engine/engine.hpp"

int main(int argc, char** argv) {
  using namespace authstore;
  // --(example-start)--
  std::map<std::string, std::string> flags;
  if (argc > 1)
    flags["redis"] = argv[1];
  auto cfg = settings::load(flags); // flags > AUTHSTORE_* env > file > default
  if (!cfg) {
    std::cerr << cfg.error().render() << '\n';
    return 2;
  }
  auto store = engine::start(*cfg);
  if (!store) {
    std::cerr << store.error().render() << '\n';
    return 1;
  }
  auto& e = **store;
  // Baileys' saveCreds + keys.set in one atomic patch; the number-array
  // Buffer is normalized to the v7 form on the way in.
  auto v = e.set_json("example-5511999", R"({
    "creds": {"registered": true, "me": {"id": "5511999@s.whatsapp.net"}},
    "keys": {"pre-key": {"1": {"public": {"type": "Buffer", "data": [1, 2, 3]}}}}
  })");
  if (!v) {
    std::cerr << "set failed: " << v.error().render() << '\n';
    return 1;
  }
  auto creds = e.get_creds("example-5511999"); // found=false: no session
  auto keys = e.get_keys("example-5511999", "pre-key", {"1", "2"});
  // --(example-end)--
  if (!creds || !keys) {
    std::cerr << "read failed\n";
    return 1;
  }
  std::cout << "version " << *v << "\ncreds " << creds->creds_json
            << "\npre-key 1 " << keys->values["1"] << '\n';
  bool ok
    = creds->found
      && creds->creds_json
           == R"({"registered":true,"me":{"id":"5511999@s.whatsapp.net"}})"
      && keys->values.size() == 1
      && keys->values["1"] == R"({"public":{"type":"Buffer","data":"AQID"}})";
  e.del("example-5511999");
  return ok ? 0 : 1;
}
