#pragma once

/// @file
/// How a `copilot::client` reaches the runtime.

#include <copilot/detail/config.hpp>
#include <copilot/jsonrpc/framer.hpp>
#include <copilot/server_info.hpp>

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace spdlog {
class logger;
}

namespace copilot {

/// How the client talks to the runtime.
enum class transport_kind {
    /// Spawn the runtime with `--stdio` and speak over its stdin/stdout (the default).
    stdio,
    /// Spawn the runtime with `--port`, read the port it prints and connect over TCP.
    tcp,
    /// Connect to a runtime someone else started (`server_url`); nothing is spawned.
    external,
};

/// Options of a `copilot::client`. Every field has a working default.
struct client_options {
    /// Transport; `stdio` unless set.
    transport_kind transport = transport_kind::stdio;

    /// Runtime executable. Empty: `COPILOT_CLI_PATH`, then the copy the project's setup
    /// installed, then `copilot` on `PATH`. A path ending in `.js` is started with `node`.
    std::string cli_path;

    /// Extra arguments placed before the SDK's own (`--headless --no-auto-update ...`).
    std::vector<std::string> cli_args;

    /// Environment of the child. Unset: the current process's environment. The SDK adds its
    /// own variables (`COPILOT_CONNECTION_TOKEN`, ...) on top either way.
    std::optional<std::map<std::string, std::string>> environment;

    /// Working directory of the child. Empty: the current directory.
    std::string working_directory;

    /// State folder of the runtime (`COPILOT_HOME`): sessions, config, logs. Empty: the
    /// runtime's default, `~/.copilot`.
    std::string copilot_home;

    /// The runtime's own `--log-level` (none, error, warning, info, debug, all). Empty: its
    /// default.
    std::string log_level;

    /// TCP port for `transport_kind::tcp`; 0 lets the runtime pick one.
    unsigned short port = 0;

    /// Address of an external server: `"port"`, `"host:port"` or `"http://host:port"`.
    std::string server_url;

    /// Connection token sent in `connect`. For a spawned TCP runtime an empty value means a
    /// fresh random token is made and handed to the child.
    std::string connection_token;

    /// GitHub token handed to the runtime through `--auth-token-env` (never on the command
    /// line). Not allowed with an external server.
    std::optional<std::string> github_token;

    /// Whether the runtime may use the logged-in user's credentials. Unset: true unless a
    /// `github_token` is given. False adds `--no-auto-login`.
    std::optional<bool> use_logged_in_user;

    /// Deadline for spawning, port discovery and the `connect` handshake.
    std::chrono::milliseconds start_timeout{30'000};

    /// How long `async_stop` waits for the child to exit before killing it.
    std::chrono::milliseconds stop_grace{5'000};

    /// Deadline of each RPC the client sends; zero waits without a deadline.
    std::chrono::milliseconds request_timeout{0};

    /// Frame size and JSON depth bounds for everything the runtime sends.
    std::size_t max_frame_size = jsonrpc::default_max_frame_size;
    unsigned max_json_depth = 64;

    /// Answers `async_list_models` instead of the runtime (for BYOK, where `models.list`
    /// needs a GitHub login the application may not have). Unset: ask the runtime.
    std::function<asio::awaitable<std::vector<model_info>>()> list_models;

    /// Logger for the SDK and, under the name `copilot.cli`, the runtime's stderr. Null (the
    /// default) logs nothing. The SDK never touches spdlog's registry or default logger.
    std::shared_ptr<spdlog::logger> logger;
};

} // namespace copilot
