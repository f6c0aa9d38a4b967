// http_bench.cpp -- round-trip latency and throughput of the HTTP API of
// `authstore serve` (issue #14): a small load generator, so that the
// numbers use the same histogram (observe/latency_histogram.hpp) as
// latency_bench's in-process and middleman figures.
//
// Method: C keep-alive connections on one epoll thread; each connection
// keeps exactly one request in flight (send, read the whole response, send
// the next), like one Baileys process per connection. A sample is the time
// from writing a request to having its whole response; warm-up requests
// (the first `warmup` per connection) are not recorded. Phases:
//   set_creds_small   POST /v1/sessions/bench-http-<c>/write {"creds":{...}}
//   get_creds_cached  GET  /v1/sessions/bench-http-<c>/creds
// Requests/s = recorded requests / wall time of the phase. One thread is
// enough to keep 64 connections busy here (it spends most of its time in
// epoll_wait), and it leaves the second core to the server.
//
// Usage: http_bench --connect HOST:PORT [--clients C] [--n N per client]
//        [--warmup W]; the secret from AUTHSTORE_SECRET. Prints JSON.
#include <arpa/inet.h>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <vector>

#include "messages/codec.hpp"
#include "observe/latency_histogram.hpp"

using namespace authstore;
using clock_type = std::chrono::steady_clock;

namespace {

struct client {
  int fd = -1;
  size_t sent = 0;
  size_t done = 0;
  std::string out;
  size_t out_off = 0;
  std::string in;
  clock_type::time_point started;
  bool errors = false;
};

int connect_to(const std::string& host, uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  ::inet_pton(AF_INET, host.c_str(), &a.sin_addr);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    std::perror("connect");
    std::exit(1);
  }
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

/// The length of the first complete response in `in`, or 0; sets `status`.
size_t complete_response(const std::string& in, int& status) {
  auto end = in.find("\r\n\r\n");
  if (end == std::string::npos)
    return 0;
  auto cl = in.find("Content-Length: ");
  if (cl == std::string::npos || cl > end)
    return 0;
  size_t length = std::strtoul(in.c_str() + cl + 16, nullptr, 10);
  if (in.size() < end + 4 + length)
    return 0;
  status = std::atoi(in.c_str() + 9);
  return end + 4 + length;
}

struct phase_result {
  latency_histogram hist;
  double seconds = 0;
  uint64_t errors = 0;
};

/// Runs one phase over fresh connections; `make(c, i)` is request i of c.
template <class Make>
void run_phase(const std::string& host, uint16_t port, size_t clients, size_t n,
               size_t warmup, Make make, phase_result& res) {
  std::vector<client> cs(clients);
  int ep = ::epoll_create1(0);
  auto send_next = [&](size_t k) {
    auto& c = cs[k];
    c.out = make(k, c.sent++);
    c.out_off = 0;
    c.started = clock_type::now();
    auto w = ::send(c.fd, c.out.data(), c.out.size(), MSG_NOSIGNAL);
    c.out_off = w > 0 ? static_cast<size_t>(w) : 0;
    epoll_event ev{};
    ev.events = EPOLLIN | (c.out_off < c.out.size() ? uint32_t{EPOLLOUT} : 0u);
    ev.data.u64 = k;
    ::epoll_ctl(ep, EPOLL_CTL_MOD, c.fd, &ev);
  };
  for (size_t k = 0; k < clients; ++k) {
    cs[k].fd = connect_to(host, port);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = k;
    ::epoll_ctl(ep, EPOLL_CTL_ADD, cs[k].fd, &ev);
  }
  size_t total = clients * (n + warmup);
  size_t finished = 0;
  clock_type::time_point measure_start;
  size_t warm_done = 0;
  for (size_t k = 0; k < clients; ++k)
    send_next(k);
  std::vector<epoll_event> evs(clients);
  char buf[65536];
  while (finished < total) {
    int m = ::epoll_wait(ep, evs.data(), static_cast<int>(evs.size()), 10000);
    if (m <= 0) {
      std::cerr << "http_bench: no progress for 10 s\n";
      std::exit(1);
    }
    for (int e = 0; e < m; ++e) {
      auto k = evs[e].data.u64;
      auto& c = cs[k];
      if (evs[e].events & EPOLLOUT && c.out_off < c.out.size()) {
        auto w = ::send(c.fd, c.out.data() + c.out_off,
                        c.out.size() - c.out_off, MSG_NOSIGNAL);
        if (w > 0)
          c.out_off += static_cast<size_t>(w);
      }
      if (!(evs[e].events & EPOLLIN))
        continue;
      auto r = ::recv(c.fd, buf, sizeof buf, 0);
      if (r <= 0) {
        std::cerr << "http_bench: the server closed a connection\n";
        std::exit(1);
      }
      c.in.append(buf, static_cast<size_t>(r));
      int status = 0;
      while (auto len = complete_response(c.in, status)) {
        c.in.erase(0, len);
        auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                    clock_type::now() - c.started)
                    .count();
        if (c.done++ >= warmup) {
          res.hist.record(static_cast<uint64_t>(ns));
          if (status != 200)
            ++res.errors;
        } else if (++warm_done == clients * warmup) {
          measure_start = clock_type::now();
        }
        ++finished;
        if (c.sent < n + warmup)
          send_next(k);
      }
    }
  }
  if (warmup == 0)
    measure_start = clock_type::now(); // unreachable in practice
  res.seconds
    = std::chrono::duration<double>(clock_type::now() - measure_start).count();
  for (auto& c : cs)
    ::close(c.fd);
  ::close(ep);
}

json summary(const phase_result& r) {
  auto us = [](uint64_t ns) {
    return static_cast<double>(ns) / 1000.0;
  };
  return {{"count", r.hist.count()},
          {"errors", r.errors},
          {"throughput_ops_s", static_cast<double>(r.hist.count()) / r.seconds},
          {"latency_us",
           {{"p50", us(r.hist.quantile(0.5))},
            {"p90", us(r.hist.quantile(0.9))},
            {"p99", us(r.hist.quantile(0.99))},
            {"p999", us(r.hist.quantile(0.999))},
            {"max", us(r.hist.max())}}}};
}

} // namespace

int main(int argc, char** argv) {
  std::string endpoint;
  size_t clients = 1;
  size_t n = 20000;
  size_t warmup = 200;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i];
    if (k == "--connect")
      endpoint = argv[i + 1];
    else if (k == "--clients")
      clients = std::stoul(argv[i + 1]);
    else if (k == "--n")
      n = std::stoul(argv[i + 1]);
    else if (k == "--warmup")
      warmup = std::max<size_t>(1, std::stoul(argv[i + 1]));
  }
  const char* secret = std::getenv("AUTHSTORE_SECRET");
  auto colon = endpoint.rfind(':');
  if (!secret || colon == std::string::npos) {
    std::cerr << "usage: AUTHSTORE_SECRET=... http_bench --connect HOST:PORT "
                 "[--clients C] [--n N] [--warmup W]\n";
    return 2;
  }
  auto host = endpoint.substr(0, colon);
  auto port = static_cast<uint16_t>(std::stoi(endpoint.substr(colon + 1)));
  std::string auth = std::string{"Authorization: Bearer "} + secret + "\r\n";
  auto write = [&](size_t c, size_t i) {
    auto body = R"({"creds":{"accountSyncCounter":)" + std::to_string(i) + "}}";
    return "POST /v1/sessions/bench-http-" + std::to_string(c)
           + "/write HTTP/1.1\r\nHost: b\r\n" + auth
           + "Content-Type: application/json\r\nContent-Length: "
           + std::to_string(body.size()) + "\r\n\r\n" + body;
  };
  auto read = [&](size_t c, size_t) {
    return "GET /v1/sessions/bench-http-" + std::to_string(c)
           + "/creds HTTP/1.1\r\nHost: b\r\n" + auth + "\r\n";
  };
  auto w = std::make_unique<phase_result>();
  auto r = std::make_unique<phase_result>();
  run_phase(host, port, clients, n, warmup, write, *w);
  run_phase(host, port, clients, n, warmup, read, *r);
  json out;
  out["mode"] = "http " + endpoint;
  out["clients"] = clients;
  out["n_per_client"] = n;
  out["warmup_per_client"] = warmup;
  out["operations"]["set_creds_small"] = summary(*w);
  out["operations"]["get_creds_cached"] = summary(*r);
  std::cout << out.dump(2) << '\n';
  return 0;
}
