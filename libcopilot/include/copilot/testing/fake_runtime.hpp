#pragma once

/// @file
/// A scriptable stand-in for the Copilot runtime, for tests and benchmarks.
///
/// `fake_runtime` is the runtime's side of one JSON-RPC connection. Out of the box it answers
/// like a minimal runtime 1.0.102 (protocol version 3); a test overrides any method, sends
/// session events and runtime-to-client requests, reads back every request it served, and
/// injects transport faults.
///
/// This is a test component: it keeps every request in memory and models none of the agent.

#include <copilot/detail/config.hpp>
#include <copilot/jsonrpc/connection.hpp>

#include <boost/asio/local/stream_protocol.hpp>

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace copilot::testing {

/// One request the fake runtime served, kept whole.
struct received_request {
    /// The JSON-RPC method.
    std::string method;

    /// The request's params (`{}` when absent).
    json::value params;
};

/// A fault the fake runtime injects when it receives a request (see `fail_next`).
enum class fault {
    /// Close the stream without replying: the client sees the runtime go away mid-call.
    close_stream,
    /// Write a frame header without a valid `Content-Length`, then never reply.
    bad_frame_header,
    /// Write a header announcing a 1 TiB body, then never reply.
    oversized_frame,
    /// Write a whole frame whose body is not JSON, then answer normally.
    garbage_frame,
    /// Reply with a result nested 1000 levels deep: the client can read the reply's id but
    /// not its body.
    too_deep_reply,
    /// Never reply; the handler waits until the connection closes.
    never_reply,
};

/// Settings of a `fake_runtime`.
struct fake_runtime_options {
    /// When set, `connect` must carry this `token` (else -32002 "AUTHENTICATION_FAILED") and
    /// every other method fails with -32001 "AUTHENTICATION_REQUIRED" until it does.
    std::optional<std::string> connection_token;

    /// The runtime version `connect` and `status.get` report.
    std::string version = "fake";

    /// Session events queued before the event pump waits for the writer to catch up.
    std::size_t event_batch = 256;

    /// Limits and logger of the underlying connection.
    jsonrpc::connection_options connection;
};

/// The runtime's side of one connection, with default handlers and hooks for tests.
///
/// Default methods: `connect`, `ping`, `status.get`, `auth.getStatus`, `session.create`,
/// `session.resume`, `session.send`, `session.abort`, `session.detach`, `session.destroy` and
/// `runtime.shutdown`; anything else is answered -32601 "Unhandled method <m>".
///
/// `session.send {sessionId, prompt}` replies `{messageId}`, then emits N
/// `assistant.message_delta` events (N = the prompt read as a decimal number, 0 otherwise;
/// delta `i` carries `deltaContent` "<i> "), one `assistant.message` with content
/// "echo: <prompt>" and one `session.idle`. Events carry the runtime's envelope (`id`,
/// `timestamp`, `parentId` chained per session, `type`, `data`, `ephemeral` on deltas) and
/// are written in batches, so a large N streams without unbounded buffering. Sessions are
/// remembered from `session.create`/`session.resume` until `session.detach`/`destroy`;
/// `session.send` and `session.abort` on an unknown session fail -32603 as the runtime does.
///
/// @par Executor
/// Everything runs on one strand of the given executor; the fake starts no threads.
///
/// @par Thread safety
/// Every member function may be called from any thread. Handlers registered with
/// `on_request` and faults armed with `fail_next` take effect for requests read after the
/// registration reached the strand: register before the client sends the method.
///
/// @par Object lifetimes
/// The destructor closes the connection; coroutines still unwinding on the io_context keep
/// the shared state alive.
class fake_runtime {
public:
    /// The socket type of `make_socket_pair`.
    using socket_type = asio::local::stream_protocol::socket;

    /// Serves the protocol over `stream`, starting at once.
    fake_runtime(asio::any_io_executor executor,
                 std::unique_ptr<jsonrpc::byte_stream> stream,
                 fake_runtime_options options = {});

    /// Serves the protocol over one end of a new socket pair; take the other end with
    /// `take_client_stream` or `take_client_socket`.
    explicit fake_runtime(asio::any_io_executor executor, fake_runtime_options options = {});

    /// Closes the connection.
    ~fake_runtime();

    fake_runtime(const fake_runtime&) = delete;
    fake_runtime& operator=(const fake_runtime&) = delete;

    /// The client's end of the socket pair, wrapped for a `jsonrpc::connection`. Throws
    /// `std::logic_error` when there is no pair or the end was already taken.
    std::unique_ptr<jsonrpc::byte_stream> take_client_stream();

    /// The client's end of the socket pair as a plain socket; same conditions.
    socket_type take_client_socket();

    /// Serves `method` with `handler` from now on, replacing any default. Throwing
    /// `copilot::error` with a `rpc_category()` code replies with that code.
    void on_request(std::string method, jsonrpc::request_handler handler);

    /// Injects `f` instead of answering the next request named `method`.
    void fail_next(std::string method, fault f);

    /// Emits a `session.event` notification `{sessionId, event}` with a full envelope.
    void
    send_event(std::string session_id, std::string type, json::value data, bool ephemeral = false);

    /// Sends a notification to the client.
    void notify(std::string method, json::value params);

    /// Sends a request to the client (e.g. `providerToken.getToken`) and waits for its result.
    ///
    /// Completion signature: `void(std::exception_ptr, boost::json::value)`; an error reply
    /// arrives as a `copilot::error` with a `rpc_category()` code. The default token is
    /// `use_awaitable`, not `deferred`: Boost 1.81 cannot `co_await` a deferred operation whose
    /// signature starts with `std::exception_ptr` and carries a value.
    template <class CompletionToken = asio::use_awaitable_t<>>
    auto call(std::string method, json::value params, CompletionToken&& token = {}) {
        return connection()->async_call(std::move(method), std::move(params), {},
                                        std::forward<CompletionToken>(token));
    }

    /// Writes `bytes` as they are, between two whole frames, for malformed-input tests.
    void write_raw(std::string bytes);

    /// Closes the stream; the client reads end of stream.
    void close();

    /// Waits until the connection is closed and every handler has finished.
    ///
    /// Completion signature: `void(std::exception_ptr)`. At most one wait at a time.
    template <class CompletionToken = asio::deferred_t>
    auto async_wait_closed(CompletionToken&& token = {}) {
        auto conn = connection();
        return asio::co_spawn(conn->get_executor(), conn->wait_closed(),
                              std::forward<CompletionToken>(token));
    }

    /// A copy of every request served so far, oldest first. Requests for methods that have
    /// neither a handler nor an armed fault are answered -32601 and not recorded.
    std::vector<received_request> requests() const;

    /// The requests served so far that were named `method`.
    std::vector<received_request> requests(std::string_view method) const;

    /// The ids of the sessions currently known.
    std::vector<std::string> sessions() const;

    /// The underlying connection.
    std::shared_ptr<jsonrpc::connection> connection() const;

    /// The shared state behind a fake runtime; defined in the implementation.
    struct state;

private:
    void open(std::unique_ptr<jsonrpc::byte_stream> stream);

    std::shared_ptr<state> state_;
};

} // namespace copilot::testing
