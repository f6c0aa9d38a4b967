// connection.cpp -- see redis/connection.hpp.
#include "redis/connection.hpp"

#include <algorithm>
#include <charconv>
#include <cstring>
#include <sys/time.h>

#include <hiredis/hiredis.h>

#include "redis/reply.hpp"
#include "redis/scripts.hpp"

namespace authstore {

namespace {

timeval to_timeval(std::chrono::milliseconds ms) {
  timeval tv;
  tv.tv_sec = static_cast<time_t>(ms.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((ms.count() % 1000) * 1000);
  return tv;
}

/// Owns one hiredis reply.
struct reply_ptr {
  redisReply* p = nullptr;
  ~reply_ptr() {
    if (p)
      freeReplyObject(p);
  }
};

bool starts_with(const std::string& s, std::string_view prefix) {
  return s.compare(0, prefix.size(), prefix) == 0;
}

} // namespace

std::string redis_endpoint::redacted() const {
  std::string auth;
  if (!user.empty() || !password.empty())
    auth = user + (password.empty() ? "" : ":***") + "@";
  if (transport == "unix")
    return "unix://" + auth + socket_path + "?db=" + std::to_string(database);
  return "redis://" + auth + host + ":" + std::to_string(port) + "/"
         + std::to_string(database);
}

outcome<redis_endpoint> parse_redis_url(const std::string& url) {
  redis_endpoint ep;
  std::string rest;
  auto bad = [&](const std::string& why) {
    // The URL itself may carry a password: never echo it.
    return failure{errc::invalid_config, "redis URL: " + why};
  };
  if (starts_with(url, "redis://")) {
    rest = url.substr(8);
  } else if (starts_with(url, "unix://")) {
    ep.transport = "unix";
    rest = url.substr(7);
  } else if (starts_with(url, "redis+unix://")) {
    ep.transport = "unix";
    rest = url.substr(13);
  } else {
    return bad("expected redis://host:port/db or unix:///path.sock");
  }
  if (auto at = rest.rfind('@'); at != std::string::npos) {
    auto auth = rest.substr(0, at);
    rest = rest.substr(at + 1);
    if (auto colon = auth.find(':'); colon != std::string::npos) {
      ep.user = auth.substr(0, colon);
      ep.password = auth.substr(colon + 1);
    } else {
      ep.password = auth; // redis://secret@host is the password form
    }
  }
  auto parse_int = [](const std::string& s, int lo, int hi, int& out) {
    int x = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), x);
    if (ec != std::errc{} || p != s.data() + s.size() || x < lo || x > hi)
      return false;
    out = x;
    return true;
  };
  if (ep.transport == "unix") {
    auto q = rest.find('?');
    ep.socket_path = rest.substr(0, q);
    if (ep.socket_path.empty() || ep.socket_path[0] != '/')
      return bad("unix socket path must be absolute");
    if (q != std::string::npos) {
      auto query = rest.substr(q + 1);
      if (!starts_with(query, "db=")
          || !parse_int(query.substr(3), 0, 1 << 20, ep.database))
        return bad("only ?db=N is understood after the socket path");
    }
    return ep;
  }
  auto slash = rest.find('/');
  auto hostport = rest.substr(0, slash);
  if (slash != std::string::npos && slash + 1 < rest.size()
      && !parse_int(rest.substr(slash + 1), 0, 1 << 20, ep.database))
    return bad("database must be a number");
  auto colon = hostport.rfind(':');
  if (colon != std::string::npos && hostport.find(']') == std::string::npos) {
    int port = 0;
    if (!parse_int(hostport.substr(colon + 1), 1, 65535, port))
      return bad("port must be 1..65535");
    ep.port = static_cast<uint16_t>(port);
    ep.host = hostport.substr(0, colon);
  } else if (!hostport.empty()) {
    ep.host = hostport;
  }
  if (ep.host.empty())
    return bad("host is empty");
  return ep;
}

errc classify_redis_error(const std::string& message) {
  if (starts_with(message, "OOM"))
    return errc::hot_out_of_memory;
  if (starts_with(message, "LOADING") || starts_with(message, "BUSY")
      || starts_with(message, "MASTERDOWN") || starts_with(message, "READONLY")
      || starts_with(message, "TRYAGAIN")
      || starts_with(message, "CLUSTERDOWN"))
    return errc::hot_unavailable;
  return errc::hot_error;
}

redis_connection::redis_connection(redis_connection_config cfg)
    : cfg_(std::move(cfg)),
      reconnects_(reconnect_backoff(cfg_.reconnect_min, cfg_.reconnect_max)) {}

redis_connection::~redis_connection() {
  if (ctx_)
    redisFree(ctx_);
}

void redis_connection::drop(const std::string& why) {
  if (ctx_) {
    redisFree(ctx_);
    ctx_ = nullptr;
  }
  last_error_ = why;
  refused_.clear();
  ++stats_.errors;
  next_attempt_ = clock::now() + reconnects_.next_from(rng_);
}

outcome<bool> redis_connection::ensure_connected() {
  if (ctx_)
    return true;
  if (clock::now() < next_attempt_ && !refused_.empty())
    return {errc::invalid_config, refused_};
  if (clock::now() < next_attempt_)
    return {errc::hot_unavailable, "redis at " + cfg_.endpoint.redacted()
                                     + " is down (" + last_error_
                                     + "); next reconnect attempt pending"};
  auto tv = to_timeval(cfg_.connect_timeout);
  const auto& ep = cfg_.endpoint;
  ctx_ = ep.transport == "unix"
           ? redisConnectUnixWithTimeout(ep.socket_path.c_str(), tv)
           : redisConnectWithTimeout(ep.host.c_str(), ep.port, tv);
  if (!ctx_ || ctx_->err) {
    std::string why = ctx_ ? ctx_->errstr : "cannot allocate context";
    drop("connect: " + why);
    return {errc::hot_unavailable,
            "cannot connect to " + ep.redacted() + ": " + why};
  }
  redisSetTimeout(ctx_, to_timeval(cfg_.command_timeout));
  auto simple = [&](std::vector<std::string> argv) -> outcome<bool> {
    std::vector<const char*> ptrs;
    std::vector<size_t> lens;
    for (auto& a : argv) {
      ptrs.push_back(a.data());
      lens.push_back(a.size());
    }
    reply_ptr r{static_cast<redisReply*>(redisCommandArgv(
      ctx_, static_cast<int>(argv.size()), ptrs.data(), lens.data()))};
    if (!r.p) {
      std::string why = ctx_->errstr;
      drop(argv[0] + ": " + why);
      return {errc::hot_unavailable, argv[0] + " failed: " + why};
    }
    if (r.p->type == REDIS_REPLY_ERROR) {
      std::string msg(r.p->str, r.p->len);
      drop(argv[0] + " refused");
      // AUTH errors name no secret; Redis says WRONGPASS/NOAUTH.
      return {classify_redis_error(msg) == errc::hot_error
                ? errc::hot_unavailable
                : classify_redis_error(msg),
              argv[0] + " refused: " + msg};
    }
    return true;
  };
  if (!ep.password.empty()) {
    std::vector<std::string> argv{"AUTH"};
    if (!ep.user.empty())
      argv.push_back(ep.user);
    argv.push_back(ep.password);
    if (auto ok = simple(std::move(argv)); !ok)
      return ok;
  }
  if (ep.database != 0)
    if (auto ok = simple({"SELECT", std::to_string(ep.database)}); !ok)
      return ok;
  if (auto ok = refuse_cluster(); !ok)
    return ok;
  if (auto ok = load_scripts(); !ok)
    return ok;
  if (stats_.round_trips > 0 || reconnects_.failures() > 0)
    ++stats_.reconnects;
  reconnects_.reset();
  return true;
}

outcome<bool> redis_connection::refuse_cluster() {
  // Said once, at connect, rather than as MOVED or CROSSSLOT on every call:
  // this client follows no redirects, and the outbox's index keys are not
  // in the sessions' slots (docs/ARCHITECTURE.md, "Cluster"). A server that
  // refuses INFO (renamed command) is taken as standalone.
  const char* argv[] = {"INFO", "cluster"};
  size_t lens[] = {4, 7};
  reply_ptr r{static_cast<redisReply*>(redisCommandArgv(ctx_, 2, argv, lens))};
  if (!r.p) {
    std::string why = ctx_->errstr;
    drop("INFO: " + why);
    return {errc::hot_unavailable, "INFO failed: " + why};
  }
  if (r.p->type == REDIS_REPLY_STRING
      && std::string_view{r.p->str, r.p->len}.find("cluster_enabled:1")
           != std::string_view::npos) {
    drop("a Redis Cluster node");
    refused_ = "redis at " + cfg_.endpoint.redacted()
               + " runs in cluster mode; authstore supports a standalone "
                 "Redis (or a Sentinel-managed primary) only: see "
                 "docs/ARCHITECTURE.md, Cluster";
    return {errc::invalid_config, refused_};
  }
  return true;
}

outcome<bool> redis_connection::load_scripts() {
  for (auto s : redis_layout::all_scripts()) {
    auto src = redis_layout::script_source(s);
    const char* argv[] = {"SCRIPT", "LOAD", src.data()};
    size_t lens[] = {6, 4, src.size()};
    reply_ptr r{
      static_cast<redisReply*>(redisCommandArgv(ctx_, 3, argv, lens))};
    if (!r.p || r.p->type != REDIS_REPLY_STRING) {
      std::string why = r.p && r.p->type == REDIS_REPLY_ERROR
                          ? std::string(r.p->str, r.p->len)
                          : std::string{ctx_->errstr};
      drop("SCRIPT LOAD: " + why);
      return {errc::hot_unavailable, "SCRIPT LOAD failed: " + why};
    }
    shas_[s].assign(r.p->str, r.p->len);
  }
  return true;
}

namespace {

/// Decimal digits of n.
size_t digits_of(size_t n) {
  size_t d = 1;
  while (n >= 10) {
    n /= 10;
    ++d;
  }
  return d;
}

/// Bytes of one bulk string of n bytes: "$<n>\r\n<bytes>\r\n".
size_t bulk_size(size_t n) {
  return 1 + digits_of(n) + 2 + n + 2;
}

char* put_number(char* out, size_t n) {
  // digits_of(n) bytes were reserved: to_chars cannot run out of room.
  return std::to_chars(out, out + 20, n).ptr;
}

char* put_bulk(char* out, const char* p, size_t n) {
  *out++ = '$';
  out = put_number(out, n);
  *out++ = '\r';
  *out++ = '\n';
  if (n != 0)
    std::memcpy(out, p, n);
  out += n;
  *out++ = '\r';
  *out++ = '\n';
  return out;
}

} // namespace

void redis_connection::append(const redis_request& req) {
  // The protocol written directly (what redisFormatSdsCommandArgv produces,
  // minus its sds growth and its per-command allocation): each value is
  // copied once, into the pipeline's buffer, whose size is computed first
  // (one resize, then plain stores: appending piece by piece was ~8 k
  // instructions per write in callgrind, issue #18).
  bool script = req.script != redis_script::none;
  const std::string* sha = script ? &shas_[req.script] : nullptr;
  char keys[24];
  size_t keys_len = 0;
  if (script)
    keys_len = static_cast<size_t>(
      std::to_chars(keys, keys + sizeof keys, req.num_keys).ptr - keys);
  size_t count = req.args.size() + (script ? 3 : 0);
  size_t bytes = 1 + digits_of(count) + 2;
  if (script)
    bytes += bulk_size(7) + bulk_size(sha->size()) + bulk_size(keys_len);
  for (const auto& a : req.args)
    bytes += bulk_size(a.size());
  auto at = out_.size();
  out_.resize(at + bytes);
  char* out = out_.data() + at;
  *out++ = '*';
  out = put_number(out, count);
  *out++ = '\r';
  *out++ = '\n';
  if (script) {
    out = put_bulk(out, "EVALSHA", 7);
    out = put_bulk(out, sha->data(), sha->size());
    out = put_bulk(out, keys, keys_len);
  }
  for (const auto& a : req.args)
    out = put_bulk(out, a.data(), a.size());
}

std::vector<outcome<redis_reply>>
redis_connection::execute(const std::vector<const redis_request*>& batch) {
  std::vector<outcome<redis_reply>> results;
  results.reserve(batch.size());
  if (auto ok = ensure_connected(); !ok) {
    for (size_t i = 0; i < batch.size(); ++i)
      results.emplace_back(ok.error());
    return results;
  }
  out_.clear();
  for (const auto* req : batch)
    append(*req);
  redisAppendFormattedCommand(ctx_, out_.data(), out_.size());
  if (out_.capacity() > (size_t{1} << 24)) // do not keep a huge one
    std::string{}.swap(out_);
  ++stats_.round_trips;
  stats_.commands += batch.size();
  std::vector<size_t> noscript;
  for (size_t i = 0; i < batch.size(); ++i) {
    reply_ptr r;
    if (redisGetReply(ctx_, reinterpret_cast<void**>(&r.p)) != REDIS_OK) {
      std::string why = ctx_->errstr;
      drop(why);
      for (size_t j = i; j < batch.size(); ++j)
        results.emplace_back(
          errc::hot_unavailable,
          "connection to redis lost (" + why
            + "); the request may or may not have been applied");
      return results;
    }
    if (r.p->type == REDIS_REPLY_ERROR) {
      std::string msg(r.p->str, r.p->len);
      if (starts_with(msg, "NOSCRIPT"))
        noscript.push_back(i);
      ++stats_.errors;
      results.emplace_back(classify_redis_error(msg), msg);
      continue;
    }
    results.emplace_back(flatten_reply(*r.p));
  }
  if (!noscript.empty()) {
    // Scripts were flushed behind our back. Items that answered NOSCRIPT ran
    // nothing, so re-running them in order is safe.
    ++stats_.script_reloads;
    if (auto ok = load_scripts(); !ok) {
      for (auto i : noscript)
        results[i] = ok.error();
      return results;
    }
    std::vector<const redis_request*> retry;
    for (auto i : noscript)
      retry.push_back(batch[i]);
    auto again = execute(retry);
    for (size_t k = 0; k < noscript.size(); ++k)
      results[noscript[k]] = std::move(again[k]);
  }
  return results;
}

} // namespace authstore
