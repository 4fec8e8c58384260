#pragma once

/// @file
/// Permission prompts: the runtime asks, the application decides.

#include <copilot/detail/config.hpp>

#include <boost/asio/awaitable.hpp>

#include <functional>
#include <optional>
#include <string>

namespace copilot {

/// One `permission.requested` event.
struct permission_request {
    std::string session_id;
    std::string request_id;
    /// shell, write, read, mcp, url, memory, custom-tool, hook, ...
    std::string kind;
    /// The `permissionRequest` object: `toolCallId`, the command, the path, ...
    json::object details;
};

/// The application's answer to a permission prompt.
struct permission_decision {
    /// How the runtime should proceed.
    enum class kind_type {
        approve_once,
        approve_for_session,
        reject,
        user_not_available,
        /// Leave the prompt to another client attached to the session.
        no_result,
    };

    kind_type kind = kind_type::approve_once;
    /// Why, for a rejection; the model reads it.
    std::optional<std::string> feedback;

    static permission_decision approve_once() { return {kind_type::approve_once, {}}; }
    static permission_decision approve_for_session() {
        return {kind_type::approve_for_session, {}};
    }
    static permission_decision reject(std::string feedback = {});
    static permission_decision user_not_available() { return {kind_type::user_not_available, {}}; }

    /// The wire form, such as `{"kind":"approve-once"}`.
    json::object to_json() const;
};

/// A permission handler, run in its own coroutine.
using permission_handler = std::function<asio::awaitable<permission_decision>(permission_request)>;

/// A handler that approves every request once.
permission_handler approve_all();

} // namespace copilot
