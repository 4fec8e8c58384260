#pragma once

/// @file
/// Small results of the client's server-level calls.

#include <copilot/detail/config.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace copilot {

/// The protocol version this SDK speaks.
inline constexpr int sdk_protocol_version = 3;

/// What the runtime said about itself in the `connect` handshake.
struct server_info {
    /// Runtime version, such as "1.0.102".
    std::string version;
    /// JSON-RPC protocol version; always `sdk_protocol_version` on a started client.
    int protocol_version = 0;
    /// Task kinds the runtime accepted from those the client offered.
    std::vector<std::string> task_kinds;
};

/// Result of `client::async_ping`.
struct ping_result {
    /// The runtime's answer, "pong: <message>".
    std::string message;
    /// The runtime's clock as an ISO-8601 string.
    std::string timestamp;
    /// Protocol version the runtime reports.
    int protocol_version = 0;
};

/// Result of `client::async_get_status` (`status.get`).
struct status_result {
    std::string version;
    int protocol_version = 0;
};

/// Result of `client::async_get_auth_status` (`auth.getStatus`).
struct auth_status {
    bool is_authenticated = false;
    std::optional<std::string> auth_type;
    std::optional<std::string> host;
    std::optional<std::string> login;
    std::optional<std::string> status_message;
};

/// One model the runtime (or the application's override) offers.
struct model_info {
    /// Model id, as passed in a session's `model`.
    std::string id;
    /// Display name.
    std::string name;
    /// The whole entry as the runtime sent it (capabilities, policy, billing, ...).
    json::object raw;
};

/// The state of a client's connection.
enum class connection_state {
    /// Not started, stopped, or the runtime went away.
    disconnected,
    /// `async_start` is running.
    connecting,
    /// Handshake done; calls can be made.
    connected,
    /// `async_stop` is running.
    stopping,
};

/// A readable name of `state`, for logs.
const char* to_string(connection_state state) noexcept;

} // namespace copilot
