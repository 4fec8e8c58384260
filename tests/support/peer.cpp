#include "support/peer.hpp"

#include <copilot/error.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <gtest/gtest.h>

#include <exception>

namespace copilot::test {

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

} // namespace

peer::peer(socket_type socket)
    : socket_(std::move(socket)) {}

asio::awaitable<std::string> peer::read_body() {
    for (;;) {
        boost::system::error_code frame_ec;
        if (auto body = framer_.next(frame_ec))
            co_return std::string(*body);
        if (frame_ec)
            throw error(frame_ec, "peer: the connection wrote a bad frame");

        auto [ec, n] = co_await socket_.async_read_some(framer_.prepare(4096), use_tuple);
        if (ec)
            throw error(errc::transport_closed, "peer: " + ec.message());
        framer_.commit(n);
    }
}

asio::awaitable<json::object> peer::read() {
    auto body = co_await read_body();
    auto value = json::parse(body);
    if (!value.is_object())
        throw error(errc::protocol_error, "peer: frame is not an object: " + body);
    co_return std::move(value.as_object());
}

asio::awaitable<std::vector<std::string>> peer::read_until_eof() {
    std::vector<std::string> bodies;
    for (;;) {
        try {
            bodies.push_back(co_await read_body());
        } catch (const error& e) {
            if (e.code() != errc::transport_closed)
                throw;
            co_return bodies;
        }
    }
}

asio::awaitable<void> peer::write_raw(std::string bytes) {
    co_await asio::async_write(socket_, asio::buffer(bytes), asio::use_awaitable);
}

asio::awaitable<void> peer::write_body(std::string_view body) {
    co_await write_raw(jsonrpc::framer::encode(body));
}

asio::awaitable<void> peer::write(const json::value& message) {
    co_await write_body(json::serialize(message));
}

// Messages are built before the co_await: GCC 12 miscompiles braced initializer lists that
// share a full-expression with co_await.
asio::awaitable<void> peer::request(json::value id, std::string_view method, json::value params) {
    json::object message{{"jsonrpc", "2.0"}, {"id", id}, {"method", method}, {"params", params}};
    co_await write(message);
}

asio::awaitable<void> peer::notify(std::string_view method, json::value params) {
    json::object message{{"jsonrpc", "2.0"}, {"method", method}, {"params", params}};
    co_await write(message);
}

asio::awaitable<void> peer::reply(json::value id, json::value result) {
    json::object message{{"jsonrpc", "2.0"}, {"id", id}, {"result", result}};
    co_await write(message);
}

asio::awaitable<void> peer::barrier() {
    auto id = next_barrier_++;
    co_await request(id, "peer.barrier", json::object{});

    auto answer = co_await read();
    auto* answer_id = answer.if_contains("id");
    if (!answer_id || *answer_id != json::value(id))
        throw error(errc::protocol_error,
                    "peer: expected the barrier reply, got " + json::serialize(answer));
}

void peer::close() {
    boost::system::error_code ignored;
    socket_.close(ignored);
}

peer_link make_peer_link(asio::io_context& io, jsonrpc::connection_options options) {
    peer::socket_type near_end(io);
    peer::socket_type far_end(io);
    asio::local::connect_pair(near_end, far_end);

    using stream = jsonrpc::duplex_stream<peer::socket_type>;
    auto connection = jsonrpc::connection::create(asio::make_strand(io.get_executor()),
                                                  std::make_unique<stream>(std::move(near_end)),
                                                  std::move(options));
    connection->add_request_handler(
        "peer.barrier", [](json::value) -> asio::awaitable<json::value> { co_return nullptr; });
    return {connection, std::make_unique<peer>(std::move(far_end))};
}

void run_until_done(asio::io_context& io,
                    asio::any_io_executor executor,
                    std::function<asio::awaitable<void>()> body,
                    std::chrono::milliseconds limit) {
    bool finished = false;
    asio::co_spawn(executor, std::move(body), [&finished, &io](std::exception_ptr ep) {
        finished = true;
        if (!ep)
            return;
        try {
            std::rethrow_exception(ep);
        } catch (const std::exception& e) {
            ADD_FAILURE() << "test body threw: " << e.what();
        }

        // The body did not wind its objects down; stop rather than wait for the limit.
        io.stop();
    });

    // run_for returns early once the io_context is out of work, which marks it stopped.
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (!io.stopped()) {
        io.run_for(std::chrono::milliseconds(50));
        if (std::chrono::steady_clock::now() > deadline && !io.stopped()) {
            ADD_FAILURE() << (finished ? "work left on the io_context after the test body"
                                       : "test body hung");
            io.stop();
        }
    }
    EXPECT_TRUE(finished) << "test body did not finish";
}

asio::awaitable<boost::system::error_code> error_of(asio::awaitable<json::value> operation) {
    try {
        co_await std::move(operation);
    } catch (const boost::system::system_error& e) {
        co_return e.code();
    }
    co_return boost::system::error_code{};
}

} // namespace copilot::test
