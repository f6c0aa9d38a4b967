// The dashboard and the alert rules in deploy/ name only metrics the engine
// emits (a renamed metric would silently blank a panel or mute an alert),
// and the systemd unit keeps its hardening and outwaits serve's drain.
#include "runtime/engine/metrics.hpp"

#include <chrono>
#include <fstream>
#include <iterator>
#include <regex>
#include <set>
#include <sstream>

#include <catch2/catch.hpp>

#include "runtime/cli/cmd_common.hpp"
#include "runtime/node/config.hpp"
#include "runtime/remote/server.hpp"

// The file's own namespace: test files are compiled together in unity
// batches (tests/CMakeLists.txt), so file-local names must not meet.
namespace deploy_test {

using namespace authstore;

namespace {

std::set<std::string> referenced_metrics(const std::string& path) {
  std::ifstream in{path};
  REQUIRE(in);
  std::string text{std::istreambuf_iterator<char>{in}, {}};
  std::set<std::string> names;
  std::regex metric{R"((authstore|process)_[a-z_]+)"};
  for (auto i = std::sregex_iterator(text.begin(), text.end(), metric);
       i != std::sregex_iterator(); ++i) {
    auto name = i->str();
    for (std::string suffix : {"_bucket", "_count", "_sum"})
      if (name.size() > suffix.size()
          && name.compare(name.size() - suffix.size(), suffix.size(), suffix)
               == 0)
        name.resize(name.size() - suffix.size());
    names.insert(name);
  }
  return names;
}

} // namespace

TEST_CASE("every metric the dashboard and alerts reference is emitted",
          "[metrics][deploy]") {
  auto emitted_list = metric_family_names();
  std::set<std::string> emitted(emitted_list.begin(), emitted_list.end());
  REQUIRE(emitted.size() >= 15);
  for (auto file : {"deploy/grafana-dashboard.json", "deploy/alerts.yml"}) {
    auto used = referenced_metrics(file);
    CHECK(used.size() >= 3); // the regex found the references at all
    for (const auto& name : used) {
      INFO(file << " references " << name);
      CHECK(emitted.count(name) == 1);
    }
  }
}

TEST_CASE("metric names follow Prometheus conventions", "[metrics]") {
  std::regex ok{R"((authstore|process)_[a-z_]+)"};
  for (const auto& name : metric_family_names()) {
    INFO(name);
    CHECK(std::regex_match(name, ok));
  }
}

namespace {

/// The value of `directive` in the unit template ("" when absent); fails
/// the test when it is given twice.
std::string unit_value(const std::string& unit, const std::string& directive) {
  std::istringstream in{unit};
  std::string line;
  std::string value;
  int found = 0;
  while (std::getline(in, line))
    if (line.rfind(directive + "=", 0) == 0) {
      value = line.substr(directive.size() + 1);
      ++found;
    }
  INFO(directive);
  CHECK(found <= 1);
  return value;
}

std::string read_unit() {
  std::ifstream in{"deploy/systemd/authstore.service.in"};
  REQUIRE(in);
  return {std::istreambuf_iterator<char>{in}, {}};
}

} // namespace

TEST_CASE("systemd waits for serve's drain and watchdog before it kills",
          "[deploy][systemd]") {
  auto unit = read_unit();
  auto stop = unit_value(unit, "TimeoutStopSec");
  REQUIRE(stop.size() > 1);
  REQUIRE(stop.back() == 's');
  std::chrono::seconds timeout{std::stoi(stop.substr(0, stop.size() - 1))};
  auto cfg = settings::load({});
  REQUIRE(cfg);
  // What serve waits after SIGTERM at the defaults: two drains one after
  // the other (the HTTP front door's, then the remote sessions'; each bound
  // by every forwarded request's timeout), then the watchdog's margin
  // (runtime/cli/cmd_serve.cpp).
  auto drain = remote_server_config::from(*cfg).forward_timeout;
  CHECK(timeout > 2 * drain + serve_watchdog_margin);
  CHECK(unit_value(unit, "KillSignal") == "SIGTERM");
}

TEST_CASE("the unit runs serve as its own user, unprivileged, on a read-only "
          "system, with the secret as a credential",
          "[deploy][systemd]") {
  auto unit = read_unit();
  std::pair<const char*, const char*> expected[] = {
    {"User", "authstore"},
    {"NoNewPrivileges", "yes"},
    {"CapabilityBoundingSet", ""},
    {"ProtectSystem", "strict"},
    {"ProtectHome", "yes"},
    {"PrivateTmp", "yes"},
    {"PrivateDevices", "yes"},
    {"ProtectKernelTunables", "yes"},
    {"ProtectKernelModules", "yes"},
    {"ProtectKernelLogs", "yes"},
    {"RestrictAddressFamilies", "AF_INET AF_INET6 AF_UNIX"},
    {"MemoryDenyWriteExecute", "yes"},
    {"LockPersonality", "yes"},
    {"Restart", "on-failure"},
    {"RestartPreventExitStatus", "2 243"},
    {"LoadCredential", "secret:@AUTHSTORE_SECRET_FILE@"},
    {"ExecStart", "@AUTHSTORE_BINARY@ serve --config @AUTHSTORE_CONF_FILE@ "
                  "--secret-file %d/secret"},
  };
  for (auto [directive, value] : expected) {
    INFO(directive);
    CHECK(unit_value(unit, directive) == value);
  }
  // The node keeps no files: nothing is made writable.
  CHECK(unit.find("\nReadWritePaths=") == std::string::npos);
  // CapabilityBoundingSet= is present (empty: no capabilities at all).
  CHECK(unit.find("\nCapabilityBoundingSet=\n") != std::string::npos);
  CHECK(std::stoi(unit_value(unit, "LimitNOFILE")) >= 4096);
}

} // namespace deploy_test
