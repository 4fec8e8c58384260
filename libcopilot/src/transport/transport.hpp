#pragma once

// Private to the library: the three ways of reaching a runtime.

#include <copilot/client_options.hpp>
#include <copilot/jsonrpc/byte_stream.hpp>
#include <copilot/jsonrpc/connection.hpp>

#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

namespace copilot::detail {

/// Keeps the last lines a child wrote to stderr, for the error raised when it dies.
class stderr_tail {
public:
    /// Appends one line, dropping the oldest beyond the limit.
    void add(std::string line);

    /// The kept lines joined by newlines.
    std::string text() const;

private:
    // Read by the transport's failure_context, which may run on another strand than the drain.
    mutable std::mutex mutex_;
    std::deque<std::string> lines_;
};

/// A spawned runtime process.
class child_process {
public:
    virtual ~child_process() = default;

    /// The child's process id.
    virtual int pid() const = 0;

    /// Waits for the child to exit; kills it once `grace` has passed.
    virtual asio::awaitable<void> wait_exit(std::chrono::milliseconds grace) = 0;

    /// Kills the child at once (SIGKILL).
    virtual void kill() = 0;

    /// True once the child has exited and been reaped.
    virtual bool exited() const = 0;

    /// Exit code, once known.
    virtual std::optional<int> exit_code() const = 0;

    /// The last lines the child wrote to stderr.
    virtual std::string stderr_text() const = 0;
};

/// What opening a transport yields.
struct transport {
    std::unique_ptr<jsonrpc::byte_stream> stream;
    std::shared_ptr<child_process> child;
    std::string connection_token;
};

/// Finds the runtime executable: the option, `COPILOT_CLI_PATH`, the project-installed copy,
/// then `PATH`. Throws `errc::runtime_not_found` naming all four places.
std::string resolve_runtime_path(const client_options& options);

/// Opens the transport the options ask for. Runs on `strand`; honours `start_timeout` for
/// spawning and port discovery.
asio::awaitable<transport> open_transport(jsonrpc::strand_type strand,
                                          const client_options& options);

} // namespace copilot::detail
