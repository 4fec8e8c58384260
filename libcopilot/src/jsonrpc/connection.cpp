#include <copilot/detail/json_input.hpp>
#include <copilot/jsonrpc/connection.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <spdlog/spdlog.h>

#include <charconv>

namespace copilot::jsonrpc {

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

// Bytes asked of the stream per read; frames larger than this arrive over several reads.
constexpr std::size_t read_chunk = 64 * 1024;

// Reads `"id":<digits>` from a body that did not parse, so that the call it answers can fail
// at once instead of waiting for a reply that will never decode.
std::optional<std::uint64_t> salvage_id(std::string_view body) {
    auto pos = body.find("\"id\"");
    if (pos == std::string_view::npos)
        return std::nullopt;
    pos = body.find_first_not_of(" \t\r\n:", pos + 4);
    if (pos == std::string_view::npos)
        return std::nullopt;
    std::uint64_t id = 0;
    auto [end, err] = std::from_chars(body.data() + pos, body.data() + body.size(), id);
    if (err != std::errc{})
        return std::nullopt;
    return id;
}

// The message a `system_error` was built with: `what()` appends ": <code text> [cat:n]",
// which is the SDK's own wording and no business of the peer's.
std::string message_of(const boost::system::system_error& e) {
    std::string_view text = e.what();
    auto suffix = ": " + e.code().what();
    if (text.size() > suffix.size() && text.ends_with(suffix))
        text.remove_suffix(suffix.size());
    return std::string(text);
}

// Maps a failed handler's exception to the JSON-RPC error of its reply.
std::pair<int, std::string> error_from_exception(std::exception_ptr ep) {
    try {
        std::rethrow_exception(ep);
    } catch (const boost::system::system_error& e) {
        if (e.code().category() == rpc_category())
            return {e.code().value(), message_of(e)};
        if (e.code() == asio::error::operation_aborted)
            return {rpc_code::internal_error, "request cancelled"};
        return {rpc_code::internal_error, e.what()};
    } catch (const std::exception& e) {
        return {rpc_code::internal_error, e.what()};
    } catch (...) {
        return {rpc_code::internal_error, "handler failed with a non-standard exception"};
    }
}

// Runs an inbound handler so that its outcome always reaches co_spawn's completion. When
// close() cancels a handler that then finishes without suspending again, co_spawn's own
// completion path awaits once more and, with the cancellation pending, throws from there
// instead of delivering the outcome (Boost 1.81): the reply callback never ran and
// wait_closed() hung. Turning the check off once the handler is done avoids that.
asio::awaitable<json::value> run_handler(request_handler handler, json::value params) {
    std::exception_ptr failure;
    json::value result;
    try {
        result = co_await handler(std::move(params));
    } catch (...) {
        failure = std::current_exception();
    }

    co_await asio::this_coro::throw_if_cancelled(false);
    if (failure)
        std::rethrow_exception(failure);
    co_return result;
}

template <class Handler>
auto read_some(byte_stream& stream, asio::mutable_buffer buffer, Handler&& token) {
    return asio::async_initiate<Handler, io_signature>(
        [&stream](auto handler, asio::mutable_buffer b) {
            stream.async_read_some(b, std::move(handler));
        },
        token, buffer);
}

template <class Handler>
auto write_all(byte_stream& stream, std::vector<asio::const_buffer> buffers, Handler&& token) {
    return asio::async_initiate<Handler, io_signature>(
        [&stream](auto handler, std::vector<asio::const_buffer> b) {
            stream.async_write(std::move(b), std::move(handler));
        },
        token, std::move(buffers));
}

} // namespace

// One outgoing request waiting for its reply. The timer doubles as the wake-up signal: the
// reader (or close) stores the outcome and cancels it; a deadline is simply its expiry.
// TODO: pool these records (and their timers): one allocation and one timer registration per
// call are a measurable share of a pipelined call's CPU (docs/performance.md).
struct connection::pending_call {
    explicit pending_call(const strand_type& strand)
        : wake(strand) {}

    asio::steady_timer wake;
    bool done = false;
    json::value result;
    boost::system::error_code ec;
    std::string message;
};

// One inbound request whose handler coroutine is running.
struct connection::inbound_request {
    asio::cancellation_signal cancel;
};

std::shared_ptr<connection> connection::create(strand_type strand,
                                               std::unique_ptr<byte_stream> stream,
                                               connection_options options) {
    return std::shared_ptr<connection>(
        new connection(std::move(strand), std::move(stream), std::move(options)));
}

connection::connection(strand_type strand,
                       std::unique_ptr<byte_stream> stream,
                       connection_options options)
    : strand_(std::move(strand))
    , stream_(std::move(stream))
    , options_(std::move(options))
    , framer_(options_.max_frame_size)
    , writer_wake_(strand_)
    , idle_wake_(strand_) {}

connection::~connection() = default;

void connection::add_request_handler(std::string method, request_handler handler) {
    request_handlers_[std::move(method)] = std::move(handler);
}

void connection::add_notification_handler(std::string method, notification_handler handler) {
    notification_handlers_[std::move(method)] = std::move(handler);
}

void connection::on_close(close_handler handler) {
    close_handlers_.push_back(std::move(handler));
}

void connection::start() {
    asio::dispatch(strand_, [self = shared_from_this()] {
        if (self->started_)
            return;
        self->started_ = true;

        // Both loops hold the connection alive until they end; close() ends them.
        auto on_end = [self](std::exception_ptr) {
            self->idle_wake_.cancel();
        };
        asio::co_spawn(self->strand_, self->read_loop(), on_end);
        asio::co_spawn(self->strand_, self->write_loop(), on_end);
    });
}

asio::awaitable<json::value>
connection::call_owned(std::string method, json::value params, std::chrono::milliseconds timeout) {
    co_return co_await call(method, std::move(params), timeout);
}

asio::awaitable<json::value>
connection::call(std::string_view method, json::value params, std::chrono::milliseconds timeout) {
    if (!open_)
        throw error(close_reason_, std::string(method) + ": " + close_detail_);

    auto id = next_id_++;
    auto call = std::make_shared<pending_call>(strand_);
    pending_.emplace(id, call);

    json::object message;
    message["jsonrpc"] = "2.0";
    message["id"] = id;
    message["method"] = method;
    if (!params.is_null())
        message["params"] = std::move(params);
    enqueue(std::move(message));

    if (timeout.count() > 0)
        call->wake.expires_after(timeout);
    else
        call->wake.expires_at(asio::steady_timer::time_point::max());
    auto [ec] = co_await call->wake.async_wait(use_tuple);

    if (!call->done) {
        // The local wait ended first: forget the call; its reply, if any, is dropped.
        pending_.erase(id);
        if (!ec)
            throw error(errc::timeout, std::string(method) + " timed out after " +
                                           std::to_string(timeout.count()) + " ms");
        throw error(errc::cancelled, std::string(method) + " cancelled");
    }
    if (call->ec)
        throw error(call->ec, call->message);
    co_return std::move(call->result);
}

void connection::notify(std::string_view method, json::value params) {
    json::object message;
    message["jsonrpc"] = "2.0";
    message["method"] = method;
    if (!params.is_null())
        message["params"] = std::move(params);
    asio::dispatch(strand_, [self = shared_from_this(), m = std::move(message)]() mutable {
        self->enqueue(std::move(m));
    });
}

void connection::close(boost::system::error_code reason, std::string detail) {
    asio::dispatch(strand_, [self = shared_from_this(), reason, d = std::move(detail)]() mutable {
        self->close_on_strand(reason, std::move(d));
    });
}

asio::awaitable<void> connection::wait_closed() {
    auto self = shared_from_this();
    auto loops_running = [this] {
        return started_ && (!reader_done_ || !writer_done_);
    };
    while (open_ || !inbound_.empty() || loops_running()) {
        idle_wake_.expires_at(asio::steady_timer::time_point::max());
        co_await idle_wake_.async_wait(use_tuple);
    }
}

asio::awaitable<void> connection::read_loop() {
    for (;;) {
        auto [ec, n] = co_await read_some(*stream_, framer_.prepare(read_chunk), use_tuple);
        if (ec) {
            auto what = ec == asio::error::eof ? std::string("the runtime closed the stream")
                                               : "read failed: " + ec.message();
            close_on_strand(errc::transport_closed, what);
            break;
        }
        framer_.commit(n);
        bytes_received_.fetch_add(n, std::memory_order_relaxed);

        boost::system::error_code frame_ec;
        while (open_) {
            auto body = framer_.next(frame_ec);
            if (!body)
                break;
            handle_frame(*body);
        }
        if (frame_ec) {
            close_on_strand(frame_ec, "unreadable frame: " + frame_ec.message());
            break;
        }
        if (!open_)
            break;
    }
    reader_done_ = true;
}

asio::awaitable<void> connection::write_loop() {
    std::vector<std::string> batch;
    std::vector<asio::const_buffer> buffers;
    while (open_) {
        if (write_queue_.empty()) {
            writer_wake_.expires_at(asio::steady_timer::time_point::max());
            co_await writer_wake_.async_wait(use_tuple);
            continue;
        }

        // Everything queued so far goes out in one write; frames are never split or mixed.
        batch.swap(write_queue_);
        buffers.clear();
        for (const auto& frame : batch)
            buffers.push_back(asio::buffer(frame));
        auto [ec, n] = co_await write_all(*stream_, buffers, use_tuple);
        batch.clear();

        if (ec) {
            close_on_strand(errc::transport_closed, "write failed: " + ec.message());
            break;
        }
    }
    writer_done_ = true;
}

void connection::handle_frame(std::string_view body) {
    log_frame("<<<", body);

    boost::system::error_code ec;
    auto message = detail::parse_untrusted(body, options_.max_json_depth, ec);
    if (ec) {
        handle_undecodable(body, ec);
        return;
    }
    handle_message(std::move(message));
}

void connection::handle_undecodable(std::string_view body, boost::system::error_code ec) {
    auto id = salvage_id(body);
    bool is_request = body.find("\"method\"") != std::string_view::npos;
    if (options_.logger)
        options_.logger->error("reader: dropped a {} byte frame: {}", body.size(), ec.message());

    // A reply we cannot read still ends its call, with the decoding error.
    if (id && !is_request) {
        if (auto it = pending_.find(*id); it != pending_.end()) {
            auto call = it->second;
            pending_.erase(it);
            call->done = true;
            call->ec = ec;
            call->message = "reply to request " + std::to_string(*id) + ": " + ec.message();
            call->wake.cancel();
        }
        return;
    }
    if (is_request)
        send_error(id ? json::value(*id) : json::value(nullptr), rpc_code::parse_error,
                   ec.message());
}

void connection::handle_message(json::value message) {
    auto* object = message.if_object();
    if (!object) {
        // Batches (arrays) are not supported by the runtime either; answer as it does.
        send_error(nullptr, rpc_code::invalid_request, "not a recognizable JSON-RPC request");
        return;
    }

    auto* method = object->if_contains("method");
    auto* id = object->if_contains("id");
    if (method && method->is_string()) {
        auto* params = object->if_contains("params");
        json::value args = params ? std::move(*params) : json::value(json::object());
        std::string name(method->get_string());
        if (id && !id->is_null())
            handle_request(std::move(*id), std::move(name), std::move(args));
        else
            handle_notification(name, std::move(args));
        return;
    }
    if (id) {
        handle_response(*object);
        return;
    }
    if (options_.logger)
        options_.logger->warn("reader: message with neither method nor id dropped");
}

void connection::handle_response(json::object& message) {
    const auto& id_value = message.at("id");
    auto* id = id_value.if_uint64();
    auto signed_id = id_value.if_int64();
    std::uint64_t key = id ? *id : (signed_id && *signed_id >= 0 ? *signed_id : 0);

    auto it = pending_.find(key);
    if (it == pending_.end()) {
        if (options_.logger)
            options_.logger->warn("reader: reply to unknown or abandoned request {} dropped",
                                  json::serialize(id_value));
        return;
    }
    auto call = it->second;
    pending_.erase(it);
    call->done = true;

    if (auto* err = message.if_contains("error"); err && err->is_object()) {
        const auto& e = err->get_object();
        auto* code = e.if_contains("code");
        auto* text = e.if_contains("message");
        call->ec = make_rpc_error_code(code && code->is_int64() ? int(code->get_int64())
                                                                : rpc_code::internal_error);
        call->message =
            text && text->is_string() ? std::string(text->get_string()) : call->ec.message();
    } else if (auto* result = message.if_contains("result")) {
        // Moved, not copied: a reply such as `session.getMessages` can be megabytes.
        call->result = std::move(*result);
    }
    call->wake.cancel();
}

void connection::handle_request(json::value id, std::string method, json::value params) {
    auto it = request_handlers_.find(method);
    if (it == request_handlers_.end()) {
        send_error(id, rpc_code::method_not_found, "Unhandled method " + method);
        return;
    }

    auto key = next_inbound_++;
    auto request = std::make_shared<inbound_request>();
    inbound_.emplace(key, request);

    // Exactly one reply: co_spawn calls this completion once, whether the handler returned,
    // threw or was cancelled.
    auto reply = [self = shared_from_this(), id = std::move(id), key](std::exception_ptr ep,
                                                                      json::value result) {
        self->finish_inbound(key);
        if (!ep) {
            self->send_reply(id, std::move(result));
            return;
        }
        auto [code, message] = error_from_exception(ep);
        self->send_error(id, code, message);
    };
    asio::co_spawn(strand_, run_handler(it->second, std::move(params)),
                   asio::bind_cancellation_slot(request->cancel.slot(), std::move(reply)));
}

void connection::handle_notification(const std::string& method, json::value params) {
    auto it = notification_handlers_.find(method);
    if (it == notification_handlers_.end()) {
        if (options_.logger)
            options_.logger->debug("reader: notification {} has no handler", method);
        return;
    }
    it->second(std::move(params));
}

void connection::send_reply(const json::value& id, json::value result) {
    json::object message;
    message["jsonrpc"] = "2.0";
    message["id"] = id;
    message["result"] = std::move(result);
    enqueue(std::move(message));
}

void connection::send_error(const json::value& id, int code, std::string_view text) {
    json::object message;
    message["jsonrpc"] = "2.0";
    message["id"] = id;
    message["error"] = {{"code", code}, {"message", text}};
    enqueue(std::move(message));
}

void connection::enqueue(json::object message) {
    if (!open_)
        return;
    auto body = json::serialize(message);
    log_frame(">>>", body);
    write_queue_.push_back(framer::encode(body));
    writer_wake_.cancel();
}

void connection::close_on_strand(boost::system::error_code reason, std::string detail) {
    if (!open_)
        return;
    open_ = false;

    auto context = stream_->failure_context();
    if (!context.empty())
        detail += detail.empty() ? context : "; " + context;
    close_reason_ = reason;
    close_detail_ = detail;
    if (options_.logger)
        options_.logger->info("connection closed: {} ({})", reason.message(), detail);
    stream_->close();

    // Every waiter learns the reason now; nobody waits for a reply that cannot come.
    auto pending = std::move(pending_);
    pending_.clear();
    for (auto& [id, call] : pending) {
        call->done = true;
        call->ec = reason;
        call->message = reason.message() + (detail.empty() ? "" : ": " + detail);
        call->wake.cancel();
    }

    std::vector<std::shared_ptr<inbound_request>> running;
    for (auto& [key, request] : inbound_)
        running.push_back(request);
    for (auto& request : running)
        request->cancel.emit(asio::cancellation_type::terminal);

    writer_wake_.cancel();
    idle_wake_.cancel();

    auto handlers = std::move(close_handlers_);
    close_handlers_.clear();
    for (auto& handler : handlers)
        handler(close_reason_, close_detail_);
}

void connection::finish_inbound(std::uint64_t key) {
    inbound_.erase(key);
    if (inbound_.empty())
        idle_wake_.cancel();
}

void connection::log_frame(const char* direction, std::string_view body) const {
    if (!options_.logger || !options_.logger->should_log(spdlog::level::trace))
        return;

    // Frames are parsed again only at trace level, so that secrets can be masked.
    boost::system::error_code ec;
    auto value = detail::parse_untrusted(body, options_.max_json_depth, ec);
    if (ec) {
        options_.logger->trace("{} <{} bytes of invalid JSON>", direction, body.size());
        return;
    }
    options_.logger->trace("{} {}", direction, json::serialize(detail::redact(value)));
}

} // namespace copilot::jsonrpc
