// endpoint.hpp -- a node's operations endpoint: /metrics, /healthz and
// /readyz on http.bind:http.port, served from a running engine.
//
// Who starts it: the front doors (`authstore serve`, `authstore sim`) and
// tests, after the engine. It must be destroyed before the engine (it calls
// into it from its own thread until then). CAF-free header.
#pragma once

#include <memory>

#include "messages/errors.hpp"
#include "runtime/http/http_server.hpp"

namespace authstore {

class engine;

/// Starts the endpoint when http.port is set (> 0), else returns null.
/// Errors: invalid_config when the address cannot be bound.
outcome<std::unique_ptr<http_server>> start_ops_http(engine& e);

} // namespace authstore
