#pragma once

/// @file
/// `copilot::session`: one agent conversation on a client's connection.

#include <copilot/detail/client_core.hpp>
#include <copilot/detail/config.hpp>
#include <copilot/generated/events.hpp>
#include <copilot/generated/session_rpc.hpp>
#include <copilot/session_config.hpp>
#include <copilot/session_event.hpp>

#include <boost/asio/co_spawn.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace copilot {

/// What `session::async_send` sends: `api::send_request` without the session id
/// (prompt, attachments, mode "enqueue"/"immediate", ...).
using message_options = api::send_request;

/// Builds `message_options` holding just a prompt.
message_options prompt(std::string text);

namespace detail {
class session_core;
}

/// Handle of an event subscription; `unsubscribe` (or nothing) ends it.
class subscription {
public:
    subscription() = default;

    /// Stops the handler from being called again. Safe from any thread; idempotent.
    void unsubscribe();

private:
    friend class detail::session_core;
    friend class session;
    subscription(std::weak_ptr<detail::session_core> session, std::uint64_t id)
        : session_(std::move(session))
        , id_(id) {}

    std::weak_ptr<detail::session_core> session_;
    std::uint64_t id_ = 0;
};

/// Called with every event it subscribed to, in arrival order, on the client's strand.
/// Must not block; it may start coroutines of its own.
using event_handler = std::function<void(const session_event&)>;

/// A session: send prompts, receive events, answer the runtime's callbacks.
///
/// Obtained from `client::async_create_session` or `client::async_resume_session`. The handle
/// is cheap to copy; all copies refer to the same session. A default-constructed handle is
/// empty and every operation on it fails with `errc::session_not_found`.
///
/// Every asynchronous member takes a completion token (default `asio::use_awaitable`);
/// completion signatures are `void(std::exception_ptr[, T])`. Members may be called from any
/// thread. The session's callbacks (tools, permissions, hooks, tokens, ...) each run in their
/// own coroutine on the client's strand, under `session_config::handler_timeout`, and are
/// cancelled when the session is destroyed or the client stops.
class session {
public:
    /// An empty handle.
    session() = default;

    /// The session id.
    const std::string& id() const;

    /// True when the handle refers to a session.
    explicit operator bool() const noexcept { return core_ != nullptr; }

    /// Sends a message (`session.send`) and completes with its message id as soon as the
    /// runtime accepted it; the turn goes on and reports through events.
    ///
    /// Handler signature: `void(std::exception_ptr, std::string)`.
    template <class CompletionToken = default_token_t>
    auto async_send(message_options message, CompletionToken&& token = {}) {
        return asio::co_spawn(strand(), send(core_, std::move(message)),
                              std::forward<CompletionToken>(token));
    }

    /// Sends a message and waits for the turn to end (`session.idle`).
    ///
    /// Completes with the turn's last `assistant.message` (empty when it had none). Fails with
    /// `errc::session_error` and the runtime's message on `session.error`, with
    /// `errc::timeout` when `timeout` (zero: none) passes first — the turn itself goes on —
    /// and with `errc::transport_closed` if the runtime goes away.
    ///
    /// Per-operation cancellation: cancelling the operation also aborts the turn
    /// (`session.abort`).
    ///
    /// Handler signature:
    /// `void(std::exception_ptr, std::optional<events::assistant_message>)`.
    template <class CompletionToken = default_token_t>
    auto async_send_and_wait(message_options message,
                             std::chrono::milliseconds timeout = {},
                             CompletionToken&& token = {}) {
        return asio::co_spawn(strand(), send_and_wait(core_, std::move(message), timeout),
                              std::forward<CompletionToken>(token));
    }

    /// Aborts the current turn (`session.abort`). Handler signature: `void(std::exception_ptr)`.
    template <class CompletionToken = default_token_t>
    auto async_abort(CompletionToken&& token = {}) {
        return asio::co_spawn(strand(), abort(core_), std::forward<CompletionToken>(token));
    }

    /// The session's persisted events (`session.getMessages`).
    ///
    /// Handler signature: `void(std::exception_ptr, std::vector<session_event>)`.
    template <class CompletionToken = default_token_t>
    auto async_get_messages(CompletionToken&& token = {}) {
        return asio::co_spawn(strand(), get_messages(core_), std::forward<CompletionToken>(token));
    }

    /// Detaches from the session (`session.detach`): callbacks stop, the runtime keeps the
    /// session on disk so it can be resumed. Handler signature: `void(std::exception_ptr)`.
    template <class CompletionToken = default_token_t>
    auto async_disconnect(CompletionToken&& token = {}) {
        return asio::co_spawn(strand(), close(core_, "session.detach"),
                              std::forward<CompletionToken>(token));
    }

    /// Ends the session (`session.destroy`) and cancels its running callbacks; data stays on
    /// disk until `client::async_delete_session`. Handler signature: `void(std::exception_ptr)`.
    template <class CompletionToken = default_token_t>
    auto async_destroy(CompletionToken&& token = {}) {
        return asio::co_spawn(strand(), close(core_, "session.destroy"),
                              std::forward<CompletionToken>(token));
    }

    /// Waits for the next event from the session's buffer (see
    /// `session_config::event_buffer_capacity` for its overflow rule).
    ///
    /// Handler signature: `void(std::exception_ptr, session_event)`. Fails with
    /// `errc::transport_closed` once the session is closed and the buffer is empty.
    template <class CompletionToken = default_token_t>
    auto async_next_event(CompletionToken&& token = {}) {
        return asio::co_spawn(strand(), next_event(core_), std::forward<CompletionToken>(token));
    }

    /// Subscribes to events of one type (such as "assistant.message_delta").
    subscription on(std::string type, event_handler handler);

    /// Subscribes to every event, unknown types included.
    subscription on_any(event_handler handler);

    /// Subscribes to one typed event; an event whose data does not decode is skipped for
    /// this handler (it still reaches `on_any` and the event buffer).
    template <class Event>
    subscription on(std::function<void(const Event&)> handler) {
        return on(std::string(Event::type_name), [h = std::move(handler)](const session_event& e) {
            std::optional<Event> typed;
            try {
                typed = e.as<Event>();
            } catch (const std::exception&) {
                // The raw event still reaches `on_any` subscribers and the event buffer.
                return;
            }
            if (typed)
                h(*typed);
        });
    }

    /// Events dropped because the buffer of `async_next_event` was full.
    std::uint64_t dropped_events() const;

    /// Typed wrappers of every public `session.*` method of the runtime.
    session_rpc rpc() const;

private:
    friend class client;
    explicit session(std::shared_ptr<detail::session_core> core)
        : core_(std::move(core)) {}

    using core_ptr = std::shared_ptr<detail::session_core>;
    jsonrpc::strand_type strand() const;

    static asio::awaitable<std::string> send(core_ptr core, message_options message);
    static asio::awaitable<std::optional<events::assistant_message>>
    send_and_wait(core_ptr core, message_options message, std::chrono::milliseconds timeout);
    static asio::awaitable<void> abort(core_ptr core);
    static asio::awaitable<std::vector<session_event>> get_messages(core_ptr core);
    static asio::awaitable<void> close(core_ptr core, std::string method);
    static asio::awaitable<session_event> next_event(core_ptr core);

    core_ptr core_;
};

} // namespace copilot
