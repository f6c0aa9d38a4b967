// http_get.hpp -- a minimal HTTP/1.0 GET for tests that scrape /metrics or
// read /healthz (and, through tests/metrics_sample.hpp, the value of one
// Prometheus sample). Header-only; needs Catch2 included first (it
// REQUIREs a well-formed answer).
#pragma once

#include <string>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tests/metrics_sample.hpp"

namespace authstore::test {

struct http_reply {
  int status = 0;
  std::string body;
};

/// GET `path` from 127.0.0.1:`port`, reading until the server closes.
inline http_reply http_get(uint16_t port, const std::string& path) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0);
  std::string req = "GET " + path + " HTTP/1.0\r\n\r\n";
  REQUIRE(::send(fd, req.data(), req.size(), 0)
          == static_cast<ssize_t>(req.size()));
  std::string resp;
  char buf[4096];
  ssize_t n;
  while ((n = ::recv(fd, buf, sizeof(buf), 0)) > 0)
    resp.append(buf, static_cast<size_t>(n));
  ::close(fd);
  http_reply r;
  // The server answers an HTTP/1.0 request as an HTTP/1.1 server does
  // (RFC 9110 §6.2): with its own version, and closes after it.
  REQUIRE(resp.rfind("HTTP/1.1 ", 0) == 0);
  r.status = std::stoi(resp.substr(9, 3));
  auto body = resp.find("\r\n\r\n");
  REQUIRE(body != std::string::npos);
  r.body = resp.substr(body + 4);
  return r;
}

} // namespace authstore::test
