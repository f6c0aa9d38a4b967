// useMultiFileAuthState's file names both ways (runtime/cli/
// baileys_names.hpp): the fixtures' own names (written by baileys@7.0.0-rc14),
// Baileys-shaped ids of every known type, exhaustive small domains of
// names, unknown types and refusals.
#include "runtime/cli/baileys_names.hpp"

#include <catch2/catch.hpp>
#include <dirent.h>
#include <map>
#include <string>
#include <vector>

#include "messages/codec.hpp"
#include "messages/model.hpp"

// The file's own namespace: test files are compiled together in unity
// batches (tests/CMakeLists.txt), so file-local names must not meet.
namespace baileys_names_test {

using namespace authstore;

namespace {

/// The file names of tests/fixtures/baileys-v7 without their owner prefix.
std::vector<std::string> fixture_names() {
  std::vector<std::string> names;
  auto* d = ::opendir("tests/fixtures/baileys-v7");
  REQUIRE(d != nullptr);
  while (auto* e = ::readdir(d)) {
    std::string n = e->d_name;
    auto dot = n.find('.');
    if (n[0] == '.' || dot == std::string::npos)
      continue;
    names.push_back(n.substr(dot + 1));
  }
  ::closedir(d);
  return names;
}

} // namespace

TEST_CASE("every file name Baileys wrote in the fixtures reads back as the "
          "key it stored, and is written again under the same name",
          "[baileys-names][issue-16]") {
  // The ids as Baileys' code made them (make-fixtures.mjs).
  const std::map<std::string, std::pair<std::string, std::string>> expected = {
    {"app-state-sync-key-AAAAAFoc.json", {"app-state-sync-key", "AAAAAFoc"}},
    {"app-state-sync-version-critical_block.json",
     {"app-state-sync-version", "critical_block"}},
    {"device-list-15550002222.json", {"device-list", "15550002222"}},
    {"lid-mapping-15550002222.json", {"lid-mapping", "15550002222"}},
    {"lid-mapping-222222222222222_reverse.json",
     {"lid-mapping", "222222222222222_reverse"}},
    {"pre-key-1.json", {"pre-key", "1"}},
    {"sender-key-120363000000000001@g.us--15550001111--12.json",
     {"sender-key", "120363000000000001@g.us::15550001111::12"}},
    {"sender-key-memory-120363000000000001@g.us.json",
     {"sender-key-memory", "120363000000000001@g.us"}},
    {"session-222222222222222_1.0.json", {"session", "222222222222222_1.0"}},
    {"tctoken-222222222222222@lid.json", {"tctoken", "222222222222222@lid"}},
    {"identity-key-15550001111.12.json", {"identity-key", "15550001111.12"}},
    {"session-15550001111.12.json", {"session", "15550001111.12"}},
  };
  auto names = fixture_names();
  REQUIRE(names.size() >= 20);
  size_t checked = 0;
  for (const auto& name : names) {
    INFO(name);
    if (name == "creds.json")
      continue;
    auto key = parse_key_file_name(name);
    REQUIRE(key);
    CHECK(key->known_type);
    CHECK(key_file_name(key->type, key->id) == name);
    if (auto i = expected.find(name); i != expected.end()) {
      CHECK(key->type == i->second.first);
      CHECK(key->id == i->second.second);
      ++checked;
    }
  }
  CHECK(checked >= 10);
}

TEST_CASE("Baileys-shaped ids of every known type survive file name and "
          "back",
          "[baileys-names][issue-16]") {
  // What Baileys 7 puts into ids (baileys_names.hpp): per type.
  std::vector<std::pair<std::string, std::string>> keys;
  for (auto group : {"120363000000000001@g.us", "15551234567-1600000000@g.us",
                     "status@broadcast"})
    for (auto user : {"15550001111", "111111111111111_1", "0"})
      for (auto device : {"0", "12", "99"})
        keys.emplace_back("sender-key",
                          std::string{group} + "::" + user + "::" + device);
  // Base64 key ids, including '/' and '+' (bytes 0xff, 0xfb).
  for (auto raw : {std::string{"\0\0\0\0Z\x1c", 6}, std::string{"\xff\xff\xff"},
                   std::string{"\xfb\xef\xbe\xff\x00"}, std::string{"?>?"}})
    keys.emplace_back("app-state-sync-key", base64_encode(raw));
  for (auto id : {"1", "16777215"})
    keys.emplace_back("pre-key", id);
  for (auto id : {"15550001111.0", "222222222222222_1.0", "15550001111.12"}) {
    keys.emplace_back("session", id);
    keys.emplace_back("identity-key", id);
  }
  for (auto id :
       {"critical_block", "critical_unblock_low", "regular_high", "regular"})
    keys.emplace_back("app-state-sync-version", id);
  for (auto id : {"15550002222", "222222222222222_reverse"})
    keys.emplace_back("lid-mapping", id);
  keys.emplace_back("device-list", "15550002222");
  keys.emplace_back("sender-key-memory", "120363000000000001@g.us");
  for (auto id :
       {"222222222222222@lid", "15550002222@s.whatsapp.net", "__index"})
    keys.emplace_back("tctoken", id);
  for (const auto& [type, id] : keys) {
    auto file = key_file_name(type, id);
    INFO(type << " " << id << " -> " << file);
    CHECK(file.find(':') == std::string::npos);
    CHECK(file.find('/') == std::string::npos);
    auto back = parse_key_file_name(file);
    REQUIRE(back);
    CHECK(back->type == type);
    CHECK(back->id == id);
    CHECK(back->known_type);
  }
  // Every one of the ten types was covered.
  std::map<std::string, int> per_type;
  for (const auto& k : keys)
    ++per_type[k.first];
  CHECK(per_type.size() == baileys_key_types.size());
}

TEST_CASE("a name read back is written under the same name: exhaustive over "
          "short names Baileys can write",
          "[baileys-names][issue-16]") {
  // fixFileName never writes ':' or '/'; every other byte of an id may
  // appear. Short stems over an alphabet with the separators that matter.
  const std::string alphabet = "a1-_.@";
  std::vector<std::string> stems{""};
  for (int len = 1; len <= 4; ++len) {
    std::vector<std::string> next;
    for (const auto& s : stems)
      if (static_cast<int>(s.size()) == len - 1)
        for (char c : alphabet)
          next.push_back(s + c);
    stems.insert(stems.end(), next.begin(), next.end());
  }
  auto types = baileys_key_types;
  types.push_back("future-type");
  size_t parsed = 0;
  for (const auto& type : types)
    for (const auto& stem : stems) {
      auto name = type + "-" + stem + ".json";
      auto key = parse_key_file_name(name);
      if (!key)
        continue;
      ++parsed;
      INFO(name << " -> " << key->type << " / " << key->id);
      CHECK(key_file_name(key->type, key->id) == name);
    }
  CHECK(parsed > 10000);
}

TEST_CASE("unknown key types pass through: lowercase words are the type, the "
          "id is the rest as written",
          "[baileys-names][issue-16]") {
  const std::vector<std::tuple<std::string, std::string, std::string>> cases = {
    {"new-type-123.json", "new-type", "123"},
    {"bot-123.json", "bot", "123"},
    {"foo-bar.json", "foo", "bar"},
    {"foo-bar-baz.json", "foo-bar", "baz"},
    {"a-b-c-.json", "a-b", "c-"},
    {"call-token-15550001111--12.json", "call-token", "15550001111--12"},
    {"thing-a__b.json", "thing", "a__b"},
  };
  for (const auto& [name, type, id] : cases) {
    INFO(name);
    auto key = parse_key_file_name(name);
    REQUIRE(key);
    CHECK_FALSE(key->known_type);
    CHECK(key->type == type);
    CHECK(key->id == id);
  }
  // The longest known type wins over a shorter one it starts with.
  auto mem = parse_key_file_name("sender-key-memory-1@g.us.json");
  REQUIRE(mem);
  CHECK(mem->type == "sender-key-memory");
  auto ver = parse_key_file_name("app-state-sync-version-regular.json");
  REQUIRE(ver);
  CHECK(ver->type == "app-state-sync-version");
}

TEST_CASE("names that are no Baileys key file are refused with the reason",
          "[baileys-names][issue-16]") {
  const std::vector<std::pair<std::string, std::string>> cases = {
    {"notes.txt", "not a Baileys file"},
    {"pre-key-1.json.bak", "not a Baileys file"},
    {".json", "not a Baileys file"},
    {"Thumbs.db", "not a Baileys file"},
    {"pre-key-.json", "no <type>-<id>"},
    {"pre-key.json", "no <type>-<id>"},
    {"UPPER-1.json", "no <type>-<id>"},
    {"1-2.json", "no <type>-<id>"},
    {"creds-.json", "no <type>-<id>"},
    {"..\\..\\etc-passwd.json", "path separator"},
    {"pre-key-a\\b.json", "path separator"},
    {"sender-key-group.json", "--<user>--<device>"},
    {"sender-key-g--u--x.json", "digits"},
    {"sender-key-g--u-v--1.json", "no '-'"},
  };
  for (const auto& [name, why] : cases) {
    INFO(name);
    auto key = parse_key_file_name(name);
    REQUIRE_FALSE(key);
    CHECK(key.error().code == errc::invalid_argument);
    CHECK(key.error().detail.find(why) != std::string::npos);
  }
  // An id over 256 bytes is no valid id (model.hpp).
  auto long_id
    = parse_key_file_name("pre-key-" + std::string(257, '1') + ".json");
  REQUIRE_FALSE(long_id);
}

} // namespace baileys_names_test
