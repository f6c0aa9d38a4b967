// The dashboard and the alert rules in deploy/ name only metrics the engine
// emits (a renamed metric would silently blank a panel or mute an alert).
#include "runtime/engine/metrics.hpp"

#include <fstream>
#include <iterator>
#include <regex>
#include <set>

#include <catch2/catch.hpp>

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
