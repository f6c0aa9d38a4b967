// process_state.hpp -- what the kernel says of a child server process, for
// the private servers' fault helpers (private_redis, private_postgres, the
// tests' mini_mongod). CAF-free.
#pragma once

#include <sys/types.h>

namespace authstore {

/// The state letter of `pid` from /proc/<pid>/stat ('R', 'S', 'T', 'Z',
/// ...), with its parent pid in `parent` when given; 0 when there is no
/// such process.
char process_state(pid_t pid, pid_t* parent = nullptr);

/// Sends SIGSTOP and returns once the kernel reports `pid` stopped ('T' or
/// 't'), polling every 200 µs for at most `timeout_ms`. kill(2) returns
/// before the signal takes effect; a fault test that acts right after it
/// (expects a request to hang, say) would otherwise race the stop. False
/// when the process is gone or did not stop in time.
bool stop_and_wait(pid_t pid, int timeout_ms = 2000);

} // namespace authstore
