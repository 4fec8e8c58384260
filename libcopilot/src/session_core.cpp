#include "session_core.hpp"

#include <copilot/error.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <spdlog/spdlog.h>

#include <tuple>

namespace copilot::detail {

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

} // namespace

std::string describe(std::exception_ptr ep) {
    try {
        std::rethrow_exception(ep);
    } catch (const std::exception& e) {
        return e.what();
    } catch (...) {
        return "unknown exception";
    }
}

// One `send_and_wait` in progress: the events of the turn fill it, the timer wakes its owner.
struct session_core::turn_waiter {
    explicit turn_waiter(const jsonrpc::strand_type& strand)
        : wake(strand) {}

    asio::steady_timer wake;
    bool done = false;
    std::optional<session_event> last_message;
    boost::system::error_code ec;
    std::string error_message;
};

session_core::session_core(std::shared_ptr<client_core> client,
                           std::string id,
                           session_config config)
    : client_(std::move(client))
    , id_(std::move(id))
    , config_(std::move(config))
    , buffer_wake_(client_->strand)
    , tasks_done_(client_->strand) {}

session_core::~session_core() = default;

asio::awaitable<void> session_core::open(bool resume) {
    auto self = shared_from_this();
    auto params = to_wire(config_, id_);

    // Registered before the request goes out: the runtime sends events and hook requests
    // for the session before it answers `session.create`.
    client_->register_session(id_, weak_from_this());
    try {
        co_await client_->call(resume ? "session.resume" : "session.create", std::move(params));
    } catch (...) {
        client_->unregister_session(id_);
        closed_ = true;
        throw;
    }
}

void session_core::on_event(json::value event) {
    session_event parsed;
    try {
        parsed = parse_session_event(std::move(event));
    } catch (const std::exception& e) {
        log_warn("event with a broken envelope dropped", e.what());
        return;
    }

    dispatch_internal(parsed);
    deliver(parsed);
    buffer(std::move(parsed));
}

void session_core::dispatch_internal(const session_event& event) {
    const auto& type = event.type;
    if (type == events::external_tool_requested::type_name) {
        start_task(answer_tool(event));
    } else if (type == events::permission_requested::type_name) {
        if (config_.on_permission)
            start_task(answer_permission(event));
    } else if (type == "elicitation.requested") {
        if (config_.on_elicitation)
            start_task(answer_elicitation(event));
    } else if (type == events::assistant_message::type_name) {
        for (auto& waiter : waiters_)
            waiter->last_message = event;
    } else if (type == events::session_idle::type_name ||
               type == events::session_error::type_name) {
        auto waiters = std::move(waiters_);
        waiters_.clear();
        for (auto& waiter : waiters) {
            waiter->done = true;
            if (type == events::session_error::type_name) {
                auto* message = event.data.if_contains("message");
                waiter->ec = errc::session_error;
                waiter->error_message = message && message->is_string()
                                            ? std::string(message->get_string())
                                            : "session error";
            }
            waiter->wake.cancel();
        }
    }
}

void session_core::deliver(const session_event& event) {
    // Handlers may unsubscribe while we iterate; walk a snapshot of the ids.
    std::vector<std::uint64_t> ids;
    for (auto& [id, entry] : subscribers_)
        if (entry.first.empty() || entry.first == event.type)
            ids.push_back(id);

    for (auto id : ids) {
        auto it = subscribers_.find(id);
        if (it == subscribers_.end())
            continue;
        try {
            it->second.second(event);
        } catch (const std::exception& e) {
            log_warn("event handler threw", e.what());
        }
    }
}

void session_core::buffer(session_event event) {
    if (config_.event_buffer_capacity == 0)
        return;
    if (buffer_.size() >= config_.event_buffer_capacity) {
        buffer_.pop_front();
        ++dropped_;
    }
    buffer_.push_back(std::move(event));
    buffer_wake_.cancel();
}

asio::awaitable<session_event> session_core::next_event() {
    auto self = shared_from_this();
    while (buffer_.empty()) {
        if (closed_)
            throw error(errc::transport_closed, "session " + id_ + " is closed");
        buffer_wake_.expires_at(asio::steady_timer::time_point::max());
        co_await buffer_wake_.async_wait(use_tuple);
        auto state = co_await asio::this_coro::cancellation_state;
        if (state.cancelled() != asio::cancellation_type::none)
            throw error(errc::cancelled, "async_next_event cancelled");
    }
    auto event = std::move(buffer_.front());
    buffer_.pop_front();
    co_return event;
}

void session_core::subscribe(std::uint64_t id, std::string type, event_handler handler) {
    subscribers_.emplace(id, std::make_pair(std::move(type), std::move(handler)));
}

void session_core::unsubscribe(std::uint64_t id) {
    subscribers_.erase(id);
}

asio::awaitable<std::string> session_core::send(message_options message) {
    auto self = shared_from_this();
    if (closed_)
        throw error(errc::session_not_found, "session " + id_ + " is closed");

    message.session_id = id_;
    auto result = co_await client_->call("session.send", json::value_from(message));
    auto* object = result.if_object();
    auto* id = object ? object->if_contains("messageId") : nullptr;
    co_return id && id->is_string() ? std::string(id->get_string()) : std::string();
}

asio::awaitable<std::optional<events::assistant_message>>
session_core::send_and_wait(message_options message, std::chrono::milliseconds timeout) {
    auto self = shared_from_this();

    // The waiter exists before the send, so a fast turn cannot finish unseen.
    auto waiter = std::make_shared<turn_waiter>(client_->strand);
    waiters_.push_back(waiter);
    auto forget = [this, waiter] {
        std::erase(waiters_, waiter);
    };

    try {
        co_await send(std::move(message));
    } catch (...) {
        forget();
        throw;
    }

    // A fast turn may have ended while the send was in flight; a timer cancelled with no wait
    // pending does not remember it, so look before waiting.
    boost::system::error_code ec;
    if (!waiter->done) {
        waiter->wake.expires_at(timeout.count() > 0 ? std::chrono::steady_clock::now() + timeout
                                                    : asio::steady_timer::time_point::max());
        std::tie(ec) = co_await waiter->wake.async_wait(use_tuple);
    }

    if (!waiter->done) {
        forget();
        if (!ec)
            throw error(errc::timeout,
                        "no session.idle within " + std::to_string(timeout.count()) + " ms");
        // Cancelled by the caller: the turn is aborted too, as documented.
        if (!closed_)
            start_task(reply("session.abort", json::object{}));
        throw error(errc::cancelled, "send_and_wait cancelled; turn aborted");
    }
    if (waiter->ec)
        throw error(waiter->ec, waiter->error_message);
    if (!waiter->last_message)
        co_return std::nullopt;
    co_return waiter->last_message->as<events::assistant_message>();
}

asio::awaitable<void> session_core::close(std::string method) {
    auto self = shared_from_this();
    if (closed_)
        co_return;

    std::exception_ptr failure;
    try {
        json::object params;
        params["sessionId"] = id_;
        co_await client_->call(method, std::move(params));
    } catch (...) {
        failure = std::current_exception();
    }

    on_closed(errc::transport_closed, "session " + id_ + " closed by " + method);
    while (running_tasks_ > 0) {
        tasks_done_.expires_at(asio::steady_timer::time_point::max());
        co_await tasks_done_.async_wait(use_tuple);
    }
    if (failure)
        std::rethrow_exception(failure);
}

void session_core::on_closed(boost::system::error_code reason, const std::string& detail) {
    if (closed_)
        return;
    closed_ = true;
    close_reason_ = reason;
    close_detail_ = detail;
    client_->unregister_session(id_);

    // Waiters fail now, callbacks stop, pullers wake to see the end.
    auto waiters = std::move(waiters_);
    waiters_.clear();
    for (auto& waiter : waiters) {
        waiter->done = true;
        waiter->ec = reason;
        waiter->error_message = detail;
        waiter->wake.cancel();
    }
    auto guards = std::move(guards_);
    guards_.clear();
    for (auto& [key, wake] : guards)
        wake();
    buffer_wake_.cancel();
}

void session_core::start_task(asio::awaitable<void> task) {
    ++running_tasks_;
    asio::co_spawn(client_->strand, std::move(task),
                   [self = shared_from_this()](std::exception_ptr ep) {
                       if (ep)
                           self->log_warn("callback task failed", describe(ep));
                       if (--self->running_tasks_ == 0)
                           self->tasks_done_.cancel();
                   });
}

asio::awaitable<void> session_core::reply(std::string_view method, json::object params) {
    params["sessionId"] = id_;
    try {
        co_await client_->call(method, std::move(params));
    } catch (const std::exception& e) {
        log_warn(method, e.what());
    }
}

void session_core::log_warn(std::string_view what, std::string_view detail) const {
    if (auto& logger = client_->options.logger)
        logger->warn("session {}: {}: {}", id_, what, detail);
}

} // namespace copilot::detail
