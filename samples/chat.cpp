// Starts the Copilot runtime, prints what it is, pings it and stops it.

#include <copilot/client.hpp>

#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include <iostream>

namespace asio = boost::asio;

asio::awaitable<void> run() {
    copilot::client client(co_await asio::this_coro::executor);
    co_await client.async_start();

    auto info = client.info();
    std::cout << "runtime " << info.version << ", protocol " << info.protocol_version << "\n";

    auto pong = co_await client.async_ping("hello");
    std::cout << pong.message << "\n";

    co_await client.async_stop();
}

int main() {
    asio::io_context io;
    int status = 0;
    asio::co_spawn(io, run(), [&](std::exception_ptr error) {
        if (!error)
            return;
        try {
            std::rethrow_exception(error);
        } catch (const std::exception& e) {
            std::cerr << "error: " << e.what() << "\n";
            status = 1;
        }
    });
    io.run();
    return status;
}
