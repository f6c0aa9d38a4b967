// http_server.cpp -- see http_server.hpp.
#include "runtime/http/http_server.hpp"

#include <arpa/inet.h>
#include <cstring>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

namespace authstore {

namespace {

const char* reason(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 503:
      return "Service Unavailable";
    default:
      return "Error";
  }
}

void send_all(int fd, const std::string& data) {
  size_t off = 0;
  while (off < data.size()) {
    auto n = ::send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL);
    if (n <= 0)
      return;
    off += static_cast<size_t>(n);
  }
}

} // namespace

outcome<std::unique_ptr<http_server>>
http_server::start(const std::string& bind, uint16_t port, handler h) {
  std::unique_ptr<http_server> s{new http_server};
  s->handler_ = std::move(h);
  s->listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  ::setsockopt(s->listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  if (::inet_pton(AF_INET, bind.c_str(), &addr.sin_addr) != 1)
    return failure{errc::invalid_config,
                   "http.bind: '" + bind + "' is not an IPv4 address"};
  socklen_t len = sizeof(addr);
  if (::bind(s->listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr))
        != 0
      || ::listen(s->listen_fd_, 16) != 0
      || ::getsockname(s->listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len)
           != 0) {
    auto why = std::string{std::strerror(errno)};
    ::close(s->listen_fd_);
    s->listen_fd_ = -1;
    return failure{errc::invalid_config, "http.port: cannot listen on " + bind
                                           + ":" + std::to_string(port) + ": "
                                           + why};
  }
  s->port_ = ntohs(addr.sin_port);
  if (::pipe(s->stop_pipe_) != 0)
    return failure{errc::internal, "pipe failed"};
  s->thread_ = std::thread{[p = s.get()] {
    p->run();
  }};
  return s;
}

http_server::~http_server() {
  if (stop_pipe_[1] >= 0) {
    char c = 'x';
    [[maybe_unused]] auto n = ::write(stop_pipe_[1], &c, 1);
  }
  if (thread_.joinable())
    thread_.join();
  for (int fd : {listen_fd_, stop_pipe_[0], stop_pipe_[1]})
    if (fd >= 0)
      ::close(fd);
}

void http_server::run() {
  for (;;) {
    pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {stop_pipe_[0], POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0)
      continue;
    if (fds[1].revents)
      return;
    int fd = ::accept(listen_fd_, nullptr, nullptr);
    if (fd < 0)
      continue;
    timeval tv{2, 0}; // a slow or silent client holds us 2 s at most
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    std::string req;
    char buf[1024];
    while (req.find("\r\n") == std::string::npos && req.size() < 8192) {
      auto n = ::recv(fd, buf, sizeof(buf), 0);
      if (n <= 0)
        break;
      req.append(buf, static_cast<size_t>(n));
    }
    http_response resp;
    auto line_end = req.find("\r\n");
    auto sp1 = req.find(' ');
    auto sp2 = sp1 == std::string::npos ? sp1 : req.find(' ', sp1 + 1);
    if (line_end == std::string::npos || sp2 == std::string::npos
        || sp2 > line_end) {
      resp = {400, "text/plain", "bad request\n"};
    } else if (req.compare(0, sp1, "GET") != 0) {
      resp = {405, "text/plain", "only GET\n"};
    } else {
      auto path = req.substr(sp1 + 1, sp2 - sp1 - 1);
      path = path.substr(0, path.find('?'));
      resp = handler_(path);
    }
    send_all(fd, "HTTP/1.0 " + std::to_string(resp.status) + " "
                   + reason(resp.status)
                   + "\r\nContent-Type: " + resp.content_type
                   + "\r\nContent-Length: " + std::to_string(resp.body.size())
                   + "\r\nConnection: close\r\n\r\n" + resp.body);
    ::close(fd);
  }
}

} // namespace authstore
