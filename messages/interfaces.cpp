// interfaces.cpp -- error bridge and message registration (interfaces.hpp).
#include "messages/interfaces.hpp"

#include <caf/all.hpp>

namespace authstore {

caf::atom_value error_category() {
  return caf::atom("authstore");
}

caf::error make_error(errc code, std::string detail) {
  return {static_cast<uint8_t>(code), error_category(),
          detail.empty() ? caf::message{}
                         : caf::make_message(std::move(detail))};
}

caf::error make_error(const failure& f) {
  return make_error(f.code, f.detail);
}

failure to_failure(const caf::error& err) {
  if (!err)
    return {errc::internal, "no error"};
  if (err.category() == error_category()) {
    std::string detail;
    if (err.context().match_elements<std::string>())
      detail = err.context().get_as<std::string>(0);
    return {static_cast<errc>(err.code()), std::move(detail)};
  }
  if (err.category() == caf::atom("system")) {
    switch (static_cast<caf::sec>(err.code())) {
      case caf::sec::request_timeout:
        return {errc::timeout, "no reply in time; the request may or may "
                               "not have been applied"};
      case caf::sec::request_receiver_down:
        return {errc::shutting_down, "the receiving actor is gone"};
      case caf::sec::unexpected_actor_messaging_interface:
        return {errc::protocol_mismatch, "the peer speaks another protocol"};
      default:
        break;
    }
  }
  return {errc::internal, caf::to_string(err)};
}

namespace {

std::string render_error(uint8_t code, caf::atom_value,
                         const caf::message& ctx) {
  std::string result{to_string(static_cast<errc>(code))};
  if (ctx.match_elements<std::string>()) {
    result += ": ";
    result += ctx.get_as<std::string>(0);
  }
  return result;
}

} // namespace

void register_messages(caf::actor_system_config& cfg) {
  cfg.add_message_type<field_write>("authstore::field_write");
  cfg.add_message_type<patch>("authstore::patch");
  cfg.add_message_type<creds_reply>("authstore::creds_reply");
  cfg.add_message_type<keys_reply>("authstore::keys_reply");
  cfg.add_message_type<lease_token>("authstore::lease_token");
  cfg.add_message_type<key_ids_reply>("authstore::key_ids_reply");
  cfg.add_message_type<delete_reply>("authstore::delete_reply");
  cfg.add_message_type<lease_request>("authstore::lease_request");
  cfg.add_message_type<lease_reply>("authstore::lease_reply");
  cfg.add_message_type<persist_request>("authstore::persist_request");
  cfg.add_message_type<session_snapshot>("authstore::session_snapshot");
  cfg.add_message_type<session_page>("authstore::session_page");
  cfg.add_message_type<session_result>("authstore::session_result");
  cfg.add_message_type<router_stats>("authstore::router_stats");
  cfg.add_message_type<redis_request>("authstore::redis_request");
  cfg.add_message_type<redis_reply>("authstore::redis_reply");
  cfg.add_message_type<router_actor>("authstore::router_actor");
  cfg.add_message_type<cold_status>("authstore::cold_status");
  cfg.add_message_type<cold_actor>("authstore::cold_actor");
  cfg.add_message_type<cluster_member>("authstore::cluster_member");
  cfg.add_message_type<cluster_view>("authstore::cluster_view");
  cfg.add_error_category(error_category(), render_error);
}

} // namespace authstore
