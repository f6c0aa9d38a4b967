// circuit_breaker.cpp -- the breaker's state machine and rolling window.
//
// Every state change goes through enter(), which bumps the permit generation
// and clears the per-state counters, so no path can leave stale probes or an
// old window behind. Rates are compared in integers (failures * 100 >=
// percent * calls), so "exactly the threshold trips" holds for every
// percentage without floating-point boundary surprises.
#include "actors/circuit_breaker.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <string>

#include "messages/backoff.hpp"

namespace authstore {

namespace {

using std::chrono::milliseconds;

// Bounds shared by validate() and clamp_config(). 24 h keeps every
// nanosecond sum far from overflow and is longer than any sane setting.
constexpr milliseconds min_duration{1};
constexpr milliseconds max_duration = std::chrono::hours(24);

// Bounds the window's memory: 3600 buckets of 32 bytes.
constexpr int64_t max_buckets = 3600;

// More jitter than half would blur the doubling of the open period.
constexpr uint32_t max_jitter_percent = 50;

// A round of more probes than this is a misconfiguration, not caution.
constexpr uint32_t max_probes = 1000;

// Index of a bucket no time maps to (the minimum time maps far above it).
constexpr int64_t no_bucket = std::numeric_limits<int64_t>::min();

// Beyond this many failed probes the nominal period is long capped; the
// counter saturates instead of wrapping.
constexpr uint32_t max_failed_probes = 64;

circuit_breaker_config clamp_config(circuit_breaker_config c) {
  c.bucket = std::clamp(c.bucket, min_duration, max_duration);
  auto n = std::clamp<int64_t>(c.window / c.bucket, 1, max_buckets);
  c.window = c.bucket * n;
  c.min_calls = std::max(c.min_calls, 1u);
  c.failure_rate_percent = std::clamp(c.failure_rate_percent, 1u, 100u);
  c.consecutive_failures = std::max(c.consecutive_failures, 1u);
  c.slow_call = std::clamp(c.slow_call, min_duration, max_duration);
  c.slow_call_rate_percent = std::clamp(c.slow_call_rate_percent, 1u, 100u);
  c.open_base = std::clamp(c.open_base, min_duration, max_duration);
  c.open_max = std::clamp(c.open_max, c.open_base, max_duration);
  c.jitter_percent = std::min(c.jitter_percent, max_jitter_percent);
  c.half_open_probes = std::clamp(c.half_open_probes, 1u, max_probes);
  return c;
}

circuit_breaker::uniform_source default_uniform(uint64_t seed) {
  if (seed == 0) {
    std::random_device rd;
    seed = (uint64_t{rd()} << 32) ^ rd();
  }
  // The top 53 bits of the generator make a double in [0, 1) exactly.
  return [rng = std::mt19937_64{seed}]() mutable {
    return static_cast<double>(rng() >> 11) * 0x1.0p-53;
  };
}

failure bad_config(const char* field, const char* rule) {
  return failure{errc::invalid_config,
                 std::string{"circuit breaker "} + field + " " + rule};
}

} // namespace

std::string_view to_string(call_result x) {
  switch (x) {
    case call_result::success:
      return "success";
    case call_result::failure:
      return "failure";
    case call_result::timeout:
      return "timeout";
  }
  return "unknown";
}

std::string_view to_string(trip_reason x) {
  switch (x) {
    case trip_reason::none:
      return "none";
    case trip_reason::consecutive_failures:
      return "consecutive_failures";
    case trip_reason::failure_rate:
      return "failure_rate";
    case trip_reason::slow_call_rate:
      return "slow_call_rate";
    case trip_reason::probe_failed:
      return "probe_failed";
  }
  return "unknown";
}

outcome<circuit_breaker_config> validate(const circuit_breaker_config& cfg) {
  if (cfg.bucket < min_duration || cfg.bucket > max_duration)
    return bad_config("bucket", "must be 1 ms .. 24 h");
  if (cfg.window < cfg.bucket || cfg.window % cfg.bucket != milliseconds{0}
      || cfg.window / cfg.bucket > max_buckets)
    return bad_config("window", "must be 1 .. 3600 whole buckets");
  if (cfg.min_calls < 1)
    return bad_config("min_calls", "must be at least 1");
  if (cfg.failure_rate_percent < 1 || cfg.failure_rate_percent > 100)
    return bad_config("failure_rate_percent", "must be 1 .. 100");
  if (cfg.consecutive_failures < 1)
    return bad_config("consecutive_failures", "must be at least 1");
  if (cfg.slow_call < min_duration || cfg.slow_call > max_duration)
    return bad_config("slow_call", "must be 1 ms .. 24 h");
  if (cfg.slow_call_rate_percent < 1 || cfg.slow_call_rate_percent > 100)
    return bad_config("slow_call_rate_percent", "must be 1 .. 100");
  if (cfg.open_base < min_duration || cfg.open_base > max_duration)
    return bad_config("open_base", "must be 1 ms .. 24 h");
  if (cfg.open_max < cfg.open_base || cfg.open_max > max_duration)
    return bad_config("open_max", "must be open_base .. 24 h");
  if (cfg.jitter_percent > max_jitter_percent)
    return bad_config("jitter_percent", "must be 0 .. 50");
  if (cfg.half_open_probes < 1 || cfg.half_open_probes > max_probes)
    return bad_config("half_open_probes", "must be 1 .. 1000");
  return cfg;
}

circuit_breaker::circuit_breaker(const circuit_breaker_config& cfg,
                                 uniform_source uniform,
                                 transition_listener on_transition)
    : cfg_(clamp_config(cfg)),
      uniform_(uniform ? std::move(uniform) : default_uniform(cfg.jitter_seed)),
      on_transition_(std::move(on_transition)) {
  buckets_.assign(static_cast<size_t>(cfg_.window / cfg_.bucket),
                  bucket{no_bucket, 0, 0, 0});
}

breaker_permit circuit_breaker::allow(clock::time_point now) {
  advance(now);
  breaker_permit result;
  result.generation_ = generation_;
  switch (state_) {
    case breaker_state::closed:
    case breaker_state::disabled:
      result.allowed_ = true;
      break;
    case breaker_state::half_open:
      if (probes_admitted_ < cfg_.half_open_probes) {
        ++probes_admitted_;
        result.allowed_ = true;
      }
      break;
    case breaker_state::open:
    case breaker_state::forced_open:
      break;
  }
  return result;
}

void circuit_breaker::record(const breaker_permit& permit, call_result result,
                             clock::duration duration, clock::time_point now) {
  advance(now);
  // A permit from before the latest state change belongs to a window or a
  // probe round that no longer exists.
  if (!permit.allowed_ || permit.generation_ != generation_)
    return;
  auto failed = result != call_result::success;
  auto slow = duration > clock::duration{cfg_.slow_call};
  if (state_ == breaker_state::closed)
    record_closed(failed, slow, now_);
  else if (state_ == breaker_state::half_open)
    record_probe(failed, slow, now_);
  // disabled tracks nothing; open and forced_open never issue permits.
}

void circuit_breaker::on_worker_restarted(clock::time_point now) {
  advance(now);
  if (state_ == breaker_state::forced_open || state_ == breaker_state::disabled)
    return;
  enter(breaker_state::half_open);
}

void circuit_breaker::force_open() {
  if (state_ != breaker_state::forced_open)
    enter(breaker_state::forced_open);
}

void circuit_breaker::disable() {
  if (state_ != breaker_state::disabled)
    enter(breaker_state::disabled);
}

void circuit_breaker::reset_to_auto() {
  if (state_ == breaker_state::forced_open || state_ == breaker_state::disabled)
    enter(breaker_state::closed);
}

breaker_status circuit_breaker::status(clock::time_point now) {
  advance(now);
  auto sum = window_sum(now_);
  breaker_status result;
  result.state = state_;
  result.calls = sum.calls;
  result.failures = sum.failures;
  result.slow_calls = sum.slow;
  result.consecutive_failures = consecutive_;
  result.probes_admitted = probes_admitted_;
  result.probes_succeeded = probes_succeeded_;
  if (state_ == breaker_state::open)
    result.next_probe_in = open_until_ - now_;
  result.open_period = open_period_;
  result.last_trip = last_trip_;
  return result;
}

void circuit_breaker::advance(clock::time_point now) {
  now_ = std::max(now_, now);
  if (state_ == breaker_state::open && now_ >= open_until_)
    enter(breaker_state::half_open);
}

void circuit_breaker::enter(breaker_state to) {
  auto from = state_;
  state_ = to;
  ++generation_;
  // Each state starts from nothing: the window and the consecutive count only
  // describe the current closed period, the probe counts the current round.
  for (auto& b : buckets_)
    b = bucket{no_bucket, 0, 0, 0};
  consecutive_ = 0;
  probes_admitted_ = 0;
  probes_succeeded_ = 0;
  if (to == breaker_state::closed) {
    failed_probes_ = 0;
    open_period_ = clock::duration{0};
    last_trip_ = trip_reason::none;
  }
  if (from != to && on_transition_)
    on_transition_(from, to,
                   to == breaker_state::open ? last_trip_ : trip_reason::none);
}

void circuit_breaker::record_closed(bool failed, bool slow,
                                    clock::time_point now) {
  auto index = bucket_index(now);
  auto n = static_cast<int64_t>(buckets_.size());
  auto& b = buckets_[static_cast<size_t>((index % n + n) % n)];
  if (b.index != index)
    b = bucket{index, 0, 0, 0};
  ++b.calls;
  b.failures += failed ? 1 : 0;
  b.slow += slow ? 1 : 0;
  consecutive_ = failed ? consecutive_ + 1 : 0;
  if (consecutive_ >= cfg_.consecutive_failures) {
    open_circuit(trip_reason::consecutive_failures, now);
    return;
  }
  auto sum = window_sum(now);
  if (sum.calls < cfg_.min_calls)
    return;
  if (sum.failures * 100 >= uint64_t{cfg_.failure_rate_percent} * sum.calls)
    open_circuit(trip_reason::failure_rate, now);
  else if (sum.slow * 100 >= uint64_t{cfg_.slow_call_rate_percent} * sum.calls)
    open_circuit(trip_reason::slow_call_rate, now);
}

void circuit_breaker::record_probe(bool failed, bool slow,
                                   clock::time_point now) {
  // More reports than probes breaks the exactly-once contract; ignoring the
  // extra report keeps one call from closing the circuit twice over.
  if (probes_succeeded_ >= probes_admitted_)
    return;
  // A slow probe fails too: closing on it would trip again on the slow-call
  // rate without ever growing the open period.
  if (failed || slow) {
    failed_probes_ = std::min(failed_probes_ + 1, max_failed_probes);
    open_circuit(trip_reason::probe_failed, now);
    return;
  }
  if (++probes_succeeded_ == cfg_.half_open_probes)
    enter(breaker_state::closed);
}

void circuit_breaker::open_circuit(trip_reason why, clock::time_point now) {
  auto nominal
    = capped_doubling(clock::duration{cfg_.open_base},
                      clock::duration{cfg_.open_max}, failed_probes_);
  // The jitter only shortens the period (and is pinned by the reference
  // model in tests/unit/circuit_breaker_test.cpp), unlike backoff_policy's
  // factor around 1, so it stays here.
  auto u = uniform_();
  // Out-of-range or NaN draws from a foreign source must not leave [0, 1).
  if (!(u >= 0.0))
    u = 0.0;
  if (u >= 1.0)
    u = std::nextafter(1.0, 0.0);
  auto cut = static_cast<clock::rep>(static_cast<double>(nominal.count())
                                     * cfg_.jitter_percent / 100.0 * u);
  open_period_ = nominal - clock::duration{cut};
  open_until_ = now + open_period_;
  last_trip_ = why;
  enter(breaker_state::open);
}

circuit_breaker::bucket
circuit_breaker::window_sum(clock::time_point now) const {
  auto newest = bucket_index(now);
  auto oldest = newest - static_cast<int64_t>(buckets_.size());
  bucket sum{newest, 0, 0, 0};
  for (const auto& b : buckets_) {
    if (b.index > oldest && b.index <= newest) {
      sum.calls += b.calls;
      sum.failures += b.failures;
      sum.slow += b.slow;
    }
  }
  return sum;
}

int64_t circuit_breaker::bucket_index(clock::time_point t) const {
  auto width = clock::duration{cfg_.bucket}.count();
  auto ticks = t.time_since_epoch().count();
  // Floor division, so times before the clock's epoch bucket correctly.
  auto q = ticks / width;
  return ticks % width < 0 ? q - 1 : q;
}

} // namespace authstore
