#pragma once

/// @file
/// The JSON-RPC 2.0 connection: correlation, dispatch and framing over one byte stream.

#include <copilot/detail/config.hpp>
#include <copilot/error.hpp>
#include <copilot/jsonrpc/byte_stream.hpp>
#include <copilot/jsonrpc/framer.hpp>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace spdlog {
class logger;
}

namespace copilot::jsonrpc {

/// The strand every connection, client and session coroutine runs on.
using strand_type = asio::strand<asio::any_io_executor>;

/// Handles one inbound request; the returned value is the `result` of the reply.
///
/// Throwing `copilot::error` with a `rpc_category()` code replies with that code; any other
/// exception replies -32603 with its message.
using request_handler = std::function<asio::awaitable<json::value>(json::value params)>;

/// Handles one inbound notification. Runs inline in the reader, in arrival order, so it must
/// not block; hand long work to a coroutine of your own.
using notification_handler = std::function<void(json::value params)>;

/// Limits and logging of a connection.
struct connection_options {
    /// Largest accepted frame body.
    std::size_t max_frame_size = default_max_frame_size;

    /// Deepest accepted JSON nesting.
    unsigned max_json_depth = 64;

    /// Where frames (trace), calls (debug) and faults (warn, error) are logged; may be null.
    std::shared_ptr<spdlog::logger> logger;
};

/// One JSON-RPC 2.0 peer over a `byte_stream`.
///
/// All state lives on one strand: the reader, the writer, the table of pending calls and the
/// table of running inbound requests. Members returning `asio::awaitable` must be awaited from
/// a coroutine already running on `get_executor()`; the `async_*` members may be called from
/// any thread.
///
/// Outgoing requests take ids from a per-connection counter. Each inbound request runs in its
/// own coroutine and gets exactly one reply. When the stream ends, every pending call fails at
/// once with `errc::transport_closed` (or the framing error that ended it).
class connection : public std::enable_shared_from_this<connection> {
public:
    /// Called once when the connection closes, with the reason.
    using close_handler = std::function<void(boost::system::error_code, const std::string&)>;

    /// Creates a connection; nothing is read or written before `start`.
    static std::shared_ptr<connection> create(strand_type strand,
                                              std::unique_ptr<byte_stream> stream,
                                              connection_options options = {});

    ~connection();
    connection(const connection&) = delete;
    connection& operator=(const connection&) = delete;

    /// The strand of this connection.
    strand_type get_executor() const noexcept { return strand_; }

    /// Registers the handler of inbound requests named `method`. Call before `start`, or from
    /// the strand.
    void add_request_handler(std::string method, request_handler handler);

    /// Registers the handler of inbound notifications named `method`.
    void add_notification_handler(std::string method, notification_handler handler);

    /// Registers a callback run once when the connection closes.
    void on_close(close_handler handler);

    /// Starts the reader and writer. Call once, from any thread.
    void start();

    /// Sends a request and waits for its result.
    ///
    /// @param timeout zero waits without a deadline; otherwise the call fails with
    /// `errc::timeout` after it and a late reply is logged and dropped.
    /// @throws copilot::error with `errc::transport_closed`, `errc::timeout`, `errc::cancelled`,
    /// or a `rpc_category()` code and the runtime's message.
    ///
    /// Per-operation cancellation: terminal cancellation of the awaiting coroutine stops the
    /// local wait only; the request, once queued, is still written whole.
    asio::awaitable<json::value>
    call(std::string_view method, json::value params, std::chrono::milliseconds timeout = {});

    /// Token-generic form of `call`, usable from any thread.
    ///
    /// Completion signature: `void(std::exception_ptr, boost::json::value)`.
    template <class CompletionToken = default_token_t>
    auto async_call(std::string method,
                    json::value params,
                    std::chrono::milliseconds timeout = {},
                    CompletionToken&& token = {}) {
        return asio::co_spawn(strand_, call_owned(std::move(method), std::move(params), timeout),
                              std::forward<CompletionToken>(token));
    }

    /// Sends a notification. Safe from any thread.
    void notify(std::string_view method, json::value params);

    /// Closes the stream, fails every pending call with `reason` and cancels every running
    /// inbound handler. Safe from any thread; later calls do nothing.
    void close(boost::system::error_code reason = errc::transport_closed, std::string detail = {});

    /// Waits until the connection is closed and every inbound handler has finished.
    asio::awaitable<void> wait_closed();

    /// True until the connection closes.
    bool is_open() const noexcept { return open_; }

    /// The reason the connection closed; empty while open.
    boost::system::error_code close_reason() const noexcept { return close_reason_; }

    /// The detail text of the close reason, including the transport's failure context.
    const std::string& close_detail() const noexcept { return close_detail_; }

    /// Inbound requests whose handlers are still running.
    std::size_t active_handlers() const noexcept { return inbound_.size(); }

    /// Bytes read from the stream so far, framing included. Readable from any thread.
    std::uint64_t bytes_received() const noexcept {
        return bytes_received_.load(std::memory_order_relaxed);
    }

private:
    struct pending_call;
    struct inbound_request;

    connection(strand_type strand, std::unique_ptr<byte_stream> stream, connection_options options);

    asio::awaitable<json::value>
    call_owned(std::string method, json::value params, std::chrono::milliseconds timeout);
    asio::awaitable<void> read_loop();
    asio::awaitable<void> write_loop();

    void handle_frame(std::string_view body);
    void handle_message(json::value message);
    void handle_response(json::object& message);
    void handle_request(json::value id, std::string method, json::value params);
    void handle_notification(const std::string& method, json::value params);
    void handle_undecodable(std::string_view body, boost::system::error_code ec);

    void send_reply(const json::value& id, json::value result);
    void send_error(const json::value& id, int code, std::string_view message);
    void enqueue(json::object message);
    void close_on_strand(boost::system::error_code reason, std::string detail);
    void finish_inbound(std::uint64_t key);
    void log_frame(const char* direction, std::string_view body) const;

    strand_type strand_;
    std::unique_ptr<byte_stream> stream_;
    connection_options options_;
    framer framer_;
    std::atomic<std::uint64_t> bytes_received_{0};

    std::unordered_map<std::string, request_handler> request_handlers_;
    std::unordered_map<std::string, notification_handler> notification_handlers_;
    std::vector<close_handler> close_handlers_;

    std::uint64_t next_id_ = 1;
    std::unordered_map<std::uint64_t, std::shared_ptr<pending_call>> pending_;

    std::uint64_t next_inbound_ = 1;
    std::unordered_map<std::uint64_t, std::shared_ptr<inbound_request>> inbound_;

    std::vector<std::string> write_queue_;
    asio::steady_timer writer_wake_;
    asio::steady_timer idle_wake_;
    bool writing_ = false;

    bool started_ = false;
    bool open_ = true;
    bool reader_done_ = false;
    bool writer_done_ = false;
    boost::system::error_code close_reason_;
    std::string close_detail_;
};

} // namespace copilot::jsonrpc
