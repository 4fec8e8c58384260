// copilot-fake-runtime: the scriptable fake runtime as a process speaking the protocol on its
// own stdin and stdout, for benchmarks (point COPILOT_CLI_PATH at it) and manual runs.
//
//   copilot-fake-runtime [--headless] [--no-auto-update] [--stdio] [--log-level L] ...
//
// The runtime's usual arguments are accepted and ignored. Exits 0 when stdin closes or after
// `runtime.shutdown`.

#include <copilot/testing/fake_runtime.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>

#include <csignal>
#include <exception>
#include <iostream>
#include <memory>
#include <unistd.h>

namespace {

namespace asio = copilot::asio;

// A distinct type for stdout: `duplex_stream` takes two one-way streams only when their
// types differ.
class output_descriptor : public asio::posix::stream_descriptor {
public:
    using asio::posix::stream_descriptor::stream_descriptor;
};

using stdio_stream =
    copilot::jsonrpc::duplex_stream<asio::posix::stream_descriptor, output_descriptor>;

} // namespace

int main(int, char**) {
    // A client that goes away must end the run through a write error, not SIGPIPE.
    std::signal(SIGPIPE, SIG_IGN);

    try {
        asio::io_context io;
        auto stream = std::make_unique<stdio_stream>(
            asio::posix::stream_descriptor(io, STDIN_FILENO), output_descriptor(io, STDOUT_FILENO));
        copilot::testing::fake_runtime runtime(io.get_executor(), std::move(stream));

        runtime.async_wait_closed([](std::exception_ptr) {});
        io.run();
    } catch (const std::exception& e) {
        std::cerr << "copilot-fake-runtime: " << e.what() << "\n";
        return 1;
    }
    return 0;
}
