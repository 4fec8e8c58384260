#pragma once

/// @file
/// A `copilot::client` connected over loopback TCP to an in-process `fake_runtime`, for tests
/// of the session layer that script the runtime's side from C++.

#include <copilot/client.hpp>
#include <copilot/testing/fake_runtime.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace copilot::test {

/// JSON from text; braced lists with string literals inside `co_await` expressions trip
/// GCC 12, so tests build their JSON through this instead.
json::value js(std::string_view text);

/// Params of a runtime request for session `s`, from JSON text holding the other fields.
json::value for_session(const session& s, std::string_view fields);

/// `permission.requested` data for a shell command, as the runtime sends it.
json::object shell_prompt(std::string request_id, bool resolved_by_hook = false);

/// `hooks.invoke` params of a preToolUse hook (or `hook_type`) for a shell `rm -rf /`.
json::value pre_tool_use(const session& s, std::string hook_type = "preToolUse");

/// Runs one client against one fake runtime on a single-threaded io_context.
///
/// `run` accepts the client's connection, starts the client (`transport_kind::external`),
/// runs the test body, then stops the client and waits for the fake to see the end. The fake
/// answers every `session.*.handlePending*` reply with `{success:true}` and records it.
class session_fixture : public ::testing::Test {
protected:
    /// Runs `body` between the client's start and stop; fails the test on a hang.
    void run(std::function<asio::awaitable<void>()> body);

    /// Creates a session with `config` (the fake answers `session.create`).
    asio::awaitable<session> create(session_config config);

    /// Creates a session with a default config.
    asio::awaitable<session> create();

    /// Waits until the fake has served `count` requests named `method` and returns them all.
    /// A reply that never comes is caught by `run`'s hang bound, not by a deadline here.
    asio::awaitable<std::vector<testing::received_request>> wait_for(std::string method,
                                                                     std::size_t count = 1);

    /// Waits until `done` holds, checking after each short pause; a hang is caught by `run`.
    asio::awaitable<void> wait_until(std::function<bool()> done);

    /// The params of the `index`-th recorded request named `method`, as an object.
    json::object params_of(std::string_view method, std::size_t index = 0) const;

    /// Sends a session event from the fake to `session`.
    void send_event(const session& s, std::string type, std::string_view data);

    /// Sends a session event whose data is already built.
    void send_event(const session& s, std::string type, json::object data);

    asio::io_context io_;
    std::unique_ptr<testing::fake_runtime> fake_;
    std::unique_ptr<client> client_;

private:
    asio::awaitable<void> accept(asio::ip::tcp::acceptor& acceptor);
    void answer_pending_replies();
};

/// Awaits `operation` and returns the `copilot::error` code it failed with (empty when it did
/// not fail) and, through `message`, the error's text.
template <class T>
asio::awaitable<boost::system::error_code> failure_of(asio::awaitable<T> operation,
                                                      std::string* message = nullptr) {
    try {
        co_await std::move(operation);
    } catch (const boost::system::system_error& e) {
        if (message)
            *message = e.what();
        co_return e.code();
    }
    co_return boost::system::error_code{};
}

} // namespace copilot::test
