// http_client.hpp -- a raw-socket HTTP/1.1 client for the HTTP API tests:
// exactly the bytes a test writes go on the wire (partial requests,
// pipelines, oversized headers, bodies announced and never sent), plain or
// over TLS (OpenSSL, with or without a client certificate), and responses
// are parsed one at a time in order (1xx interim responses skipped).
// Every read has a deadline, so a server that does not answer fails the
// test instead of hanging it.
#pragma once

#include <arpa/inet.h>
#include <chrono>
#include <map>
#include <memory>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <optional>
#include <poll.h>
#include <string>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "runtime/node/node_settings.hpp"

namespace http_test {

using std::chrono::milliseconds;

struct response {
  int status = 0;
  /// Header names in lower case.
  std::map<std::string, std::string> headers;
  std::string body;

  std::string header(const std::string& name) const {
    auto i = headers.find(name);
    return i == headers.end() ? std::string{} : i->second;
  }
};

/// One request's bytes: method, target, optional body; Host and
/// Content-Length added; `extra` header lines ("Name: value") as given.
inline std::string request(const std::string& method, const std::string& target,
                           const std::string& body = {},
                           const std::vector<std::string>& extra = {}) {
  std::string out = method + " " + target + " HTTP/1.1\r\nHost: test\r\n";
  for (const auto& h : extra)
    out += h + "\r\n";
  if (!body.empty() || method == "POST")
    out += "Content-Type: application/json\r\nContent-Length: "
           + std::to_string(body.size()) + "\r\n";
  out += "\r\n" + body;
  return out;
}

/// `Authorization: Bearer <secret>`.
inline std::string bearer(const std::string& secret) {
  return "Authorization: Bearer " + secret;
}

class connection {
public:
  /// Plain TCP to 127.0.0.1:port; null when it cannot connect.
  static std::unique_ptr<connection> open(uint16_t port) {
    auto c = std::unique_ptr<connection>{new connection};
    if (!c->connect_tcp(port))
      return nullptr;
    return c;
  }

  /// TLS to 127.0.0.1:port trusting `ca`, presenting `client` (cert, key)
  /// when given; null when the handshake fails (`why` says how).
  static std::unique_ptr<connection>
  open_tls(uint16_t port, const std::string& ca,
           const authstore::tls_files* client, std::string* why = nullptr) {
    auto c = std::unique_ptr<connection>{new connection};
    if (!c->connect_tcp(port))
      return nullptr;
    c->ctx_ = SSL_CTX_new(TLS_client_method());
    SSL_CTX_load_verify_locations(c->ctx_, ca.c_str(), nullptr);
    SSL_CTX_set_verify(c->ctx_, SSL_VERIFY_PEER, nullptr);
    if (client) {
      SSL_CTX_use_certificate_chain_file(c->ctx_, client->cert.c_str());
      SSL_CTX_use_PrivateKey_file(c->ctx_, client->key.c_str(),
                                  SSL_FILETYPE_PEM);
    }
    c->ssl_ = SSL_new(c->ctx_);
    SSL_set_fd(c->ssl_, c->fd_);
    ERR_clear_error();
    if (SSL_connect(c->ssl_) != 1) {
      if (why)
        *why = ERR_error_string(ERR_get_error(), nullptr);
      return nullptr;
    }
    // TLS 1.3: a refused client certificate shows at the first read, so
    // one round trip proves the connection (the caller's next read fails
    // otherwise).
    return c;
  }

  ~connection() {
    if (ssl_) {
      SSL_free(ssl_);
      SSL_CTX_free(ctx_);
    }
    if (fd_ >= 0)
      ::close(fd_);
  }

  /// Writes all of `bytes`; false when the peer is gone.
  bool send(const std::string& bytes) {
    size_t off = 0;
    while (off < bytes.size()) {
      ssize_t n = ssl_ ? SSL_write(ssl_, bytes.data() + off,
                                   static_cast<int>(bytes.size() - off))
                       : ::send(fd_, bytes.data() + off, bytes.size() - off,
                                MSG_NOSIGNAL);
      if (n <= 0)
        return false;
      off += static_cast<size_t>(n);
    }
    return true;
  }

  /// The next final response, within `bound`; nullopt when the peer closed
  /// or nothing complete arrived in time.
  std::optional<response> read(milliseconds bound = milliseconds{10000}) {
    auto deadline = std::chrono::steady_clock::now() + bound;
    for (;;) {
      if (auto r = parse(); r) {
        if (r->status >= 100 && r->status < 200)
          continue; // interim (100 Continue)
        return r;
      }
      if (!fill(deadline))
        return std::nullopt;
    }
  }

  /// Whether the peer closes the connection within `bound` (data that
  /// arrives meanwhile is kept for read()).
  bool closed_within(milliseconds bound) {
    auto deadline = std::chrono::steady_clock::now() + bound;
    while (!eof_)
      if (!fill(deadline))
        return eof_;
    return true;
  }

  int fd() const { return fd_; }

private:
  connection() = default;

  bool connect_tcp(uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
      return false;
    int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return true;
  }

  /// Reads more into buf_ before `deadline`; false at EOF or timeout.
  bool fill(std::chrono::steady_clock::time_point deadline) {
    if (eof_)
      return false;
    char chunk[16384];
    for (;;) {
      if (!ssl_ || SSL_pending(ssl_) == 0) {
        auto left = std::chrono::duration_cast<milliseconds>(
                      deadline - std::chrono::steady_clock::now())
                      .count();
        if (left <= 0)
          return false;
        pollfd p{fd_, POLLIN, 0};
        if (::poll(&p, 1, static_cast<int>(left)) <= 0)
          return false;
      }
      ssize_t n = ssl_ ? SSL_read(ssl_, chunk, sizeof chunk)
                       : ::recv(fd_, chunk, sizeof chunk, 0);
      if (n > 0) {
        buf_.append(chunk, static_cast<size_t>(n));
        return true;
      }
      if (ssl_
          && SSL_get_error(ssl_, static_cast<int>(n)) == SSL_ERROR_WANT_READ)
        continue;
      eof_ = true;
      return false;
    }
  }

  /// One complete response from the front of buf_, if there is one.
  std::optional<response> parse() {
    auto end = buf_.find("\r\n\r\n");
    if (end == std::string::npos)
      return std::nullopt;
    response r;
    auto line_end = buf_.find("\r\n");
    auto status_line = buf_.substr(0, line_end);
    if (status_line.size() < 12)
      return std::nullopt;
    r.status = std::stoi(status_line.substr(9, 3));
    size_t pos = line_end + 2;
    while (pos < end) {
      auto e = buf_.find("\r\n", pos);
      auto line = buf_.substr(pos, e - pos);
      auto colon = line.find(':');
      std::string name = line.substr(0, colon);
      for (auto& ch : name)
        ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      auto value = line.substr(colon + 1);
      value.erase(0, value.find_first_not_of(' '));
      r.headers[name] = value;
      pos = e + 2;
    }
    size_t length = 0;
    if (auto cl = r.header("content-length"); !cl.empty())
      length = std::stoul(cl);
    if (buf_.size() < end + 4 + length)
      return std::nullopt;
    r.body = buf_.substr(end + 4, length);
    buf_.erase(0, end + 4 + length);
    return r;
  }

  int fd_ = -1;
  SSL_CTX* ctx_ = nullptr;
  SSL* ssl_ = nullptr;
  std::string buf_;
  bool eof_ = false;
};

} // namespace http_test
