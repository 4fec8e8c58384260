#pragma once

/// @file
/// `copilot::client`: one runtime, one connection, many sessions.

#include <copilot/client_options.hpp>
#include <copilot/detail/client_core.hpp>
#include <copilot/error.hpp>
#include <copilot/generated/server_rpc.hpp>
#include <copilot/server_info.hpp>
#include <copilot/session.hpp>
#include <copilot/session_metadata.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace copilot {

/// A connection to one Copilot runtime, spawned (stdio or TCP) or external.
///
/// Every asynchronous member takes a completion token (default `asio::use_awaitable`), so
/// `co_await client.async_start()` works in a coroutine, `asio::use_future` in plain code, and
/// callbacks too. Completion signatures are `void(std::exception_ptr)` or
/// `void(std::exception_ptr, T)`; the exception is a `copilot::error` carrying a
/// `copilot::errc` or a `rpc_category()` code and the runtime's message.
///
/// Executor: all state lives on a strand of the executor given to the constructor; the
/// `io_context` may be run by any number of threads. The library starts no threads.
///
/// Thread safety: members may be called from any thread.
///
/// Object lifetimes: sessions keep the shared state alive; destroying the client while the
/// runtime runs kills the runtime (as `force_stop` does). Stop it first for a clean exit.
class client {
public:
    /// Builds a client with default options; nothing is spawned before `async_start`.
    explicit client(asio::any_io_executor executor);

    /// Builds a client; nothing is spawned before `async_start`.
    client(asio::any_io_executor executor, client_options options);

    ~client();
    client(const client&) = delete;
    client& operator=(const client&) = delete;

    /// Starts the runtime (or connects to it), sends `connect` and checks the protocol version.
    ///
    /// Errors: `errc::runtime_not_found`, `errc::spawn_failed`, `errc::timeout`,
    /// `errc::version_mismatch` (the message names both versions),
    /// `errc::authentication_failed`, `errc::already_started`.
    ///
    /// Handler signature: `void(std::exception_ptr)`.
    template <class CompletionToken = default_token_t>
    auto async_start(CompletionToken&& token = {}) {
        return asio::co_spawn(core_->strand, start(core_), std::forward<CompletionToken>(token));
    }

    /// Stops cleanly: detaches every live session concurrently, sends `runtime.shutdown`,
    /// closes the connection and waits for the child, killing it after `stop_grace`.
    /// Afterwards no child process remains and no library coroutine is running.
    ///
    /// Handler signature: `void(std::exception_ptr)`.
    template <class CompletionToken = default_token_t>
    auto async_stop(CompletionToken&& token = {}) {
        return asio::co_spawn(core_->strand, stop(core_), std::forward<CompletionToken>(token));
    }

    /// Kills the runtime and closes the connection at once, without any RPC.
    void force_stop();

    /// Sends `ping`. Handler signature: `void(std::exception_ptr, ping_result)`.
    template <class CompletionToken = default_token_t>
    auto async_ping(std::string message = {}, CompletionToken&& token = {}) {
        return asio::co_spawn(core_->strand, ping(core_, std::move(message)),
                              std::forward<CompletionToken>(token));
    }

    /// Sends `status.get`. Handler signature: `void(std::exception_ptr, status_result)`.
    template <class CompletionToken = default_token_t>
    auto async_get_status(CompletionToken&& token = {}) {
        return asio::co_spawn(core_->strand, get_status(core_),
                              std::forward<CompletionToken>(token));
    }

    /// Sends `auth.getStatus`. Handler signature: `void(std::exception_ptr, auth_status)`.
    template <class CompletionToken = default_token_t>
    auto async_get_auth_status(CompletionToken&& token = {}) {
        return asio::co_spawn(core_->strand, get_auth_status(core_),
                              std::forward<CompletionToken>(token));
    }

    /// Lists models: the `list_models` option when set, else `models.list` (which needs a
    /// GitHub login). The first successful answer is cached for the client's lifetime.
    ///
    /// Handler signature: `void(std::exception_ptr, std::vector<model_info>)`.
    template <class CompletionToken = default_token_t>
    auto async_list_models(CompletionToken&& token = {}) {
        return asio::co_spawn(core_->strand, list_models(core_),
                              std::forward<CompletionToken>(token));
    }

    /// Sends any request and returns its raw result: the escape hatch for methods this SDK
    /// does not wrap. Handler signature: `void(std::exception_ptr, boost::json::value)`.
    template <class CompletionToken = default_token_t>
    auto async_call(std::string method, json::value params, CompletionToken&& token = {}) {
        return asio::co_spawn(core_->strand, raw_call(core_, std::move(method), std::move(params)),
                              std::forward<CompletionToken>(token));
    }

    /// Creates a session (`session.create`). The session id is made here (UUID v4) unless
    /// `config.session_id` is set, and the session is routed before the request is sent.
    ///
    /// Errors: `errc::invalid_config` (nothing sent), `errc::not_started`, the runtime's own.
    /// Handler signature: `void(std::exception_ptr, session)`.
    template <class CompletionToken = default_token_t>
    auto async_create_session(session_config config, CompletionToken&& token = {}) {
        return asio::co_spawn(core_->strand, open_session(core_, std::move(config), false),
                              std::forward<CompletionToken>(token));
    }

    /// Resumes a stored session (`session.resume`) with a full config: this client's
    /// callbacks (tools, tokens, hooks, ...) answer for it from now on.
    ///
    /// Handler signature: `void(std::exception_ptr, session)`.
    template <class CompletionToken = default_token_t>
    auto async_resume_session(std::string session_id,
                              session_config config,
                              CompletionToken&& token = {}) {
        config.session_id = std::move(session_id);
        return asio::co_spawn(core_->strand, open_session(core_, std::move(config), true),
                              std::forward<CompletionToken>(token));
    }

    /// Lists stored sessions (`session.list`).
    ///
    /// Handler signature: `void(std::exception_ptr, std::vector<session_metadata>)`.
    template <class CompletionToken = default_token_t>
    auto async_list_sessions(session_list_filter filter = {}, CompletionToken&& token = {}) {
        return asio::co_spawn(core_->strand, list_sessions(core_, std::move(filter)),
                              std::forward<CompletionToken>(token));
    }

    /// Deletes a stored session's data (`session.delete`); fails when there is none.
    ///
    /// Handler signature: `void(std::exception_ptr)`.
    template <class CompletionToken = default_token_t>
    auto async_delete_session(std::string session_id, CompletionToken&& token = {}) {
        return asio::co_spawn(core_->strand, delete_session(core_, std::move(session_id)),
                              std::forward<CompletionToken>(token));
    }

    /// The most recently used session id (`session.getLastId`), if any.
    ///
    /// Handler signature: `void(std::exception_ptr, std::optional<std::string>)`.
    template <class CompletionToken = default_token_t>
    auto async_get_last_session_id(CompletionToken&& token = {}) {
        return asio::co_spawn(core_->strand, optional_id(core_, "session.getLastId"),
                              std::forward<CompletionToken>(token));
    }

    /// One stored session's metadata (`session.getMetadata`), if it exists.
    ///
    /// Handler signature: `void(std::exception_ptr, std::optional<session_metadata>)`.
    template <class CompletionToken = default_token_t>
    auto async_get_session_metadata(std::string session_id, CompletionToken&& token = {}) {
        return asio::co_spawn(core_->strand, session_metadata_of(core_, std::move(session_id)),
                              std::forward<CompletionToken>(token));
    }

    /// The foreground session (`session.getForeground`); the headless runtime has none.
    ///
    /// Handler signature: `void(std::exception_ptr, std::optional<std::string>)`.
    template <class CompletionToken = default_token_t>
    auto async_get_foreground_session_id(CompletionToken&& token = {}) {
        return asio::co_spawn(core_->strand, optional_id(core_, "session.getForeground"),
                              std::forward<CompletionToken>(token));
    }

    /// Makes a session the foreground one (`session.setForeground`).
    ///
    /// Handler signature: `void(std::exception_ptr)`.
    template <class CompletionToken = default_token_t>
    auto async_set_foreground_session(std::string session_id, CompletionToken&& token = {}) {
        return asio::co_spawn(core_->strand, set_foreground(core_, std::move(session_id)),
                              std::forward<CompletionToken>(token));
    }

    /// Calls `handler` on the strand for every `session.lifecycle` notification (created,
    /// updated, deleted, foreground, background).
    void on_lifecycle(std::function<void(const json::object&)> handler);

    /// Typed wrappers of every public server-level method of the runtime.
    server_rpc rpc() const;

    /// The connection state; readable from any thread.
    connection_state state() const noexcept { return core_->state.load(); }

    /// Calls `handler` on the client's strand at every state change.
    void on_state_change(std::function<void(connection_state)> handler);

    /// What the runtime reported in the handshake (valid once started).
    server_info info() const;

    /// Process id of the spawned runtime while it runs.
    std::optional<int> runtime_pid() const;

    /// Bytes read from the runtime on the current connection (framing included), for
    /// measurements; 0 before the first start. Call it from the client's executor: a restart
    /// replaces the connection.
    std::uint64_t bytes_received() const;

    /// The shared state, for the session layer and the generated wrappers.
    const std::shared_ptr<detail::client_core>& core() const noexcept { return core_; }

private:
    using core_ptr = std::shared_ptr<detail::client_core>;

    // Static, taking the core by value: the coroutine keeps the state alive on its own.
    static asio::awaitable<void> start(core_ptr core);
    static asio::awaitable<void> stop(core_ptr core);
    static asio::awaitable<ping_result> ping(core_ptr core, std::string message);
    static asio::awaitable<status_result> get_status(core_ptr core);
    static asio::awaitable<auth_status> get_auth_status(core_ptr core);
    static asio::awaitable<std::vector<model_info>> list_models(core_ptr core);
    static asio::awaitable<json::value>
    raw_call(core_ptr core, std::string method, json::value params);

    static asio::awaitable<session> open_session(core_ptr core, session_config config, bool resume);
    static asio::awaitable<std::vector<session_metadata>> list_sessions(core_ptr core,
                                                                        session_list_filter filter);
    static asio::awaitable<void> delete_session(core_ptr core, std::string session_id);
    static asio::awaitable<std::optional<std::string>> optional_id(core_ptr core,
                                                                   const char* method);
    static asio::awaitable<std::optional<session_metadata>> session_metadata_of(core_ptr core,
                                                                                std::string id);
    static asio::awaitable<void> set_foreground(core_ptr core, std::string session_id);

    std::shared_ptr<detail::client_core> core_;
};

} // namespace copilot
