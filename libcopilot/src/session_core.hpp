#pragma once

// Private to the library: the state behind a `copilot::session` handle.

#include <copilot/detail/client_core.hpp>
#include <copilot/session.hpp>

#include <copilot/error.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <atomic>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>

namespace copilot::detail {

/// The message of a caught exception, for logs and error replies.
std::string describe(std::exception_ptr ep);

/// One session: its config and callbacks, its subscribers, its event buffer and its waiters.
/// Lives on the client's strand; the client's router holds it weakly.
class session_core final : public session_sink, public std::enable_shared_from_this<session_core> {
public:
    session_core(std::shared_ptr<client_core> client, std::string id, session_config config);
    ~session_core() override;

    const std::string& id() const noexcept { return id_; }
    const std::shared_ptr<client_core>& client() const noexcept { return client_; }
    const session_config& config() const noexcept { return config_; }

    // session_sink
    void on_event(json::value event) override;
    asio::awaitable<json::value> on_request(std::string method, json::value params) override;
    void on_closed(boost::system::error_code reason, const std::string& detail) override;

    /// Sends `session.create` or `session.resume` with the session's config.
    asio::awaitable<void> open(bool resume);

    asio::awaitable<std::string> send(message_options message);
    asio::awaitable<std::optional<events::assistant_message>>
    send_and_wait(message_options message, std::chrono::milliseconds timeout);
    asio::awaitable<session_event> next_event();

    /// Detaches or destroys: cancels callbacks, waits for them, leaves the router.
    asio::awaitable<void> close(std::string method);

    /// A fresh subscription id; safe from any thread.
    std::uint64_t reserve_subscription() noexcept { return next_subscription_++; }
    subscription make_subscription(std::uint64_t id) { return subscription(weak_from_this(), id); }
    void subscribe(std::uint64_t id, std::string type, event_handler handler);
    void unsubscribe(std::uint64_t id);

    std::uint64_t dropped_events() const noexcept { return dropped_; }

private:
    struct turn_waiter;

    void dispatch_internal(const session_event& event);
    void deliver(const session_event& event);
    void buffer(session_event event);

    void start_task(asio::awaitable<void> task);

    /// Runs an application callback in a coroutine of its own and waits for it, at most
    /// `timeout` and never past the session's end. The wait is not tied to the callback's
    /// willingness to be cancelled: a callback that ignores cancellation is abandoned, not
    /// waited for, so no reply to the runtime ever hangs on it.
    template <class T>
    asio::awaitable<T> guarded(asio::awaitable<T> work, std::chrono::milliseconds timeout);

    /// Calls `callback(args...)` from a coroutine that owns a copy of the callback. A coroutine
    /// lambda's frame points at the lambda object, and `guarded` may abandon the call while it
    /// still runs: the copy here keeps the captures alive until the call really ends.
    template <class Callback, class... Args>
    static auto call_owned(Callback callback, Args... args)
        -> decltype(callback(std::move(args)...)) {
        co_return co_await callback(std::move(args)...);
    }

    asio::awaitable<void> answer_tool(session_event event);
    asio::awaitable<void> answer_permission(session_event event);
    asio::awaitable<void> answer_elicitation(session_event event);

    asio::awaitable<json::value> provide_token(json::value params);
    asio::awaitable<json::value> invoke_hook(json::value params);
    asio::awaitable<json::value> answer_user_input(json::value params);
    asio::awaitable<json::value> answer_exit_plan_mode(json::value params);
    asio::awaitable<json::value> answer_auto_mode_switch(json::value params);
    asio::awaitable<json::value> transform_system_message(json::value params);

    asio::awaitable<void> reply(std::string_view method, json::object params);
    void log_warn(std::string_view what, std::string_view detail) const;

    std::shared_ptr<client_core> client_;
    std::string id_;
    session_config config_;

    std::atomic<std::uint64_t> next_subscription_{1};
    std::map<std::uint64_t, std::pair<std::string, event_handler>> subscribers_;

    std::deque<session_event> buffer_;
    std::uint64_t dropped_ = 0;
    asio::steady_timer buffer_wake_;

    std::vector<std::shared_ptr<turn_waiter>> waiters_;

    // Wakes every guarded wait when the session closes.
    std::uint64_t next_guard_ = 1;
    std::map<std::uint64_t, std::function<void()>> guards_;
    std::size_t running_tasks_ = 0;
    asio::steady_timer tasks_done_;

    bool closed_ = false;
    boost::system::error_code close_reason_;
    std::string close_detail_;
};

template <class T>
asio::awaitable<T> session_core::guarded(asio::awaitable<T> work,
                                         std::chrono::milliseconds timeout) {
    if (closed_)
        throw error(errc::cancelled, "session " + id_ + " is closed");

    struct outcome {
        explicit outcome(const jsonrpc::strand_type& strand)
            : wake(strand) {}
        asio::steady_timer wake;
        asio::cancellation_signal cancel;
        bool done = false;
        std::exception_ptr failure;
        T value{};
    };
    auto state = std::make_shared<outcome>(client_->strand);

    asio::co_spawn(
        client_->strand, std::move(work),
        asio::bind_cancellation_slot(state->cancel.slot(), [state](std::exception_ptr ep, T value) {
            state->done = true;
            state->failure = ep;
            state->value = std::move(value);
            state->wake.cancel();
        }));

    auto key = next_guard_++;
    guards_.emplace(key, [state] { state->wake.cancel(); });
    // co_spawn posts the work, so it cannot finish before this wait starts.
    state->wake.expires_after(timeout);
    auto [ec] = co_await state->wake.async_wait(asio::as_tuple(asio::use_awaitable));
    guards_.erase(key);

    if (!state->done) {
        state->cancel.emit(asio::cancellation_type::terminal);
        if (!ec)
            throw error(errc::timeout,
                        "callback timed out after " + std::to_string(timeout.count()) + " ms");
        throw error(errc::cancelled, "session " + id_ + " closed while a callback ran");
    }
    if (state->failure)
        std::rethrow_exception(state->failure);
    co_return std::move(state->value);
}

} // namespace copilot::detail
