// http_server.hpp -- the one small HTTP/1.0 server of a node: GET only,
// one request per connection, bound to loopback unless told otherwise.
//
// It serves /metrics, /healthz and /readyz (runtime/engine/engine.cpp supplies
// the handler). One thread accepts and answers in turn: scrapes and probes are
// rare and small, and a slow client is bounded by a 2 s socket timeout.
// CAF-free.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "messages/errors.hpp"

namespace authstore {

struct http_response {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
};

class http_server {
public:
  using handler = std::function<http_response(const std::string& path)>;

  /// Binds `bind:port` (port 0: the OS picks) and starts answering.
  static outcome<std::unique_ptr<http_server>> start(const std::string& bind,
                                                     uint16_t port, handler h);

  /// Stops accepting and joins the thread.
  ~http_server();

  uint16_t port() const { return port_; }

private:
  http_server() = default;
  void run();
  int listen_fd_ = -1;
  int stop_pipe_[2] = {-1, -1};
  uint16_t port_ = 0;
  handler handler_;
  std::thread thread_;
};

} // namespace authstore
