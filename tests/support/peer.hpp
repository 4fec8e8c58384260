#pragma once

/// @file
/// A scripted JSON-RPC peer for connection tests: the far end of a socket pair, driven by raw
/// frames so a test decides every byte the connection reads.

#include <copilot/detail/config.hpp>
#include <copilot/jsonrpc/connection.hpp>
#include <copilot/jsonrpc/framer.hpp>

#include <boost/asio/local/stream_protocol.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace copilot::test {

/// The test's side of a socket pair; all members must be awaited on one executor at a time.
class peer {
public:
    /// The socket type of both ends.
    using socket_type = asio::local::stream_protocol::socket;

    /// Takes the test's end of the pair.
    explicit peer(socket_type socket);

    /// Reads the next frame body verbatim. Throws `copilot::error` with
    /// `errc::transport_closed` at end of stream.
    asio::awaitable<std::string> read_body();

    /// Reads the next frame and parses it as a JSON object.
    asio::awaitable<json::object> read();

    /// Reads until the connection closes its end; returns the bodies of the frames read.
    asio::awaitable<std::vector<std::string>> read_until_eof();

    /// Writes `bytes` as they are, framing included.
    asio::awaitable<void> write_raw(std::string bytes);

    /// Frames and writes `body`.
    asio::awaitable<void> write_body(std::string_view body);

    /// Frames and writes a JSON message.
    asio::awaitable<void> write(const json::value& message);

    /// Sends a request.
    asio::awaitable<void> request(json::value id, std::string_view method, json::value params);

    /// Sends a notification.
    asio::awaitable<void> notify(std::string_view method, json::value params);

    /// Sends a successful reply.
    asio::awaitable<void> reply(json::value id, json::value result);

    /// Sends the request `peer.barrier` and reads its reply, which proves the connection has
    /// handled every frame written before it. The next frame read must be that reply.
    asio::awaitable<void> barrier();

    /// Closes the test's end; the connection then reads end of stream.
    void close();

private:
    socket_type socket_;
    jsonrpc::framer framer_;
    std::int64_t next_barrier_ = 1'000'000;
};

/// A connection and the scripted peer at the other end of its socket pair.
struct peer_link {
    /// The connection under test, not yet started, with a `peer.barrier` handler registered.
    std::shared_ptr<jsonrpc::connection> connection;

    /// The test's end.
    std::unique_ptr<peer> remote;
};

/// Connects a new connection to a new peer over a socket pair on `io`.
peer_link make_peer_link(asio::io_context& io, jsonrpc::connection_options options = {});

/// Runs `body` on `executor`, then runs `io` until it is out of work.
///
/// The test fails when `body` throws, or when work is still left after `limit` (a hang):
/// every async test ends with nothing left running on its io_context.
void run_until_done(asio::io_context& io,
                    asio::any_io_executor executor,
                    std::function<asio::awaitable<void>()> body,
                    std::chrono::milliseconds limit = std::chrono::seconds(20));

/// Awaits `operation` and returns the error code it failed with, or an empty code.
asio::awaitable<boost::system::error_code> error_of(asio::awaitable<json::value> operation);

} // namespace copilot::test
