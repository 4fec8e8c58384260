#pragma once

/// @file
/// Error codes and the exception type of libcopilot.
///
/// Two categories keep two kinds of failure apart:
/// - `copilot::errc` ("copilot") names failures the SDK detects itself;
/// - `copilot::rpc_category()` ("copilot.rpc") carries the numeric code of a JSON-RPC error
///   reply from the runtime (-32601, -32603, ...), unchanged.
///
/// Asynchronous operations complete with a `std::exception_ptr` holding a `copilot::error`, so
/// `co_await` throws it and the runtime's own message travels with the code.

#include <boost/system/error_code.hpp>
#include <boost/system/system_error.hpp>

#include <string>
#include <type_traits>

namespace copilot {

/// Failures detected by the SDK itself.
enum class errc {
    /// The operation needs a started client.
    not_started = 1,
    /// `async_start` was called on a client that is starting or started.
    already_started,
    /// The connection to the runtime ended (EOF, I/O error, child exit, stop).
    transport_closed,
    /// The runtime sent something that breaks the JSON-RPC or Copilot protocol.
    protocol_error,
    /// A frame header announced a body above the configured maximum.
    frame_too_large,
    /// A frame header had no valid `Content-Length`.
    bad_frame_header,
    /// A frame body was not valid JSON.
    invalid_json,
    /// A frame body nested deeper than the configured maximum.
    json_too_deep,
    /// An operation or a user callback ran past its deadline.
    timeout,
    /// The operation was cancelled locally.
    cancelled,
    /// No session with the given id is known to this client.
    session_not_found,
    /// A user callback threw or returned an unusable value.
    handler_failed,
    /// The runtime speaks a protocol version this SDK does not support.
    version_mismatch,
    /// No runtime executable was found in any of the places searched.
    runtime_not_found,
    /// The runtime process could not be started or reached.
    spawn_failed,
    /// Configuration rejected before anything was sent.
    invalid_config,
    /// A message from the runtime did not match the expected shape.
    decode_error,
    /// A bearer-token callback produced an empty token.
    empty_token,
    /// The runtime refused the connection token.
    authentication_failed,
    /// A session turn ended with a `session.error` event.
    session_error,
};

/// The category of `copilot::errc` (name "copilot").
const boost::system::error_category& copilot_category() noexcept;

/// The category of JSON-RPC error replies; the value is the reply's numeric code.
const boost::system::error_category& rpc_category() noexcept;

/// Makes an error code of the "copilot" category.
boost::system::error_code make_error_code(errc e) noexcept;

/// Makes an error code of the "copilot.rpc" category from a JSON-RPC error code.
boost::system::error_code make_rpc_error_code(int code) noexcept;

/// Standard JSON-RPC 2.0 error codes used by the SDK when it answers the runtime.
namespace rpc_code {
inline constexpr int parse_error = -32700;
inline constexpr int invalid_request = -32600;
inline constexpr int method_not_found = -32601;
inline constexpr int invalid_params = -32602;
inline constexpr int internal_error = -32603;
} // namespace rpc_code

/// True when the client that produced `ec` can no longer be used and must be recreated.
bool is_fatal(const boost::system::error_code& ec) noexcept;

/// The exception thrown by `co_await` on a failed operation.
///
/// `code()` is a `copilot::errc` or a `rpc_category()` code; `what()` holds the SDK's or the
/// runtime's message. Text from the runtime is untrusted input: log it, do not interpret it.
class error : public boost::system::system_error {
public:
    /// Builds an error from a code and a human-readable message.
    error(boost::system::error_code ec, const std::string& message)
        : boost::system::system_error(ec, message) {}

    /// Builds an error of the "copilot" category.
    error(errc e, const std::string& message)
        : error(make_error_code(e), message) {}
};

} // namespace copilot

template <>
struct boost::system::is_error_code_enum<copilot::errc> : std::true_type {};
