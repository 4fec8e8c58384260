#include "transport.hpp"
#include "process_v2.hpp"

#include <copilot/error.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/readable_pipe.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/writable_pipe.hpp>

#include <spdlog/spdlog.h>

#include <filesystem>
#include <random>
#include <regex>

#include <csignal>
#include <sys/types.h>
#include <unistd.h>

extern char** environ;

namespace copilot::detail {

namespace bp = boost::process::v2;
using namespace asio::experimental::awaitable_operators;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

// How many stderr lines the error of a dead child quotes.
constexpr std::size_t kept_stderr_lines = 20;

// The variable through which a GitHub token reaches the child, never its command line.
constexpr const char* auth_token_variable = "COPILOT_SDK_AUTH_TOKEN";

bool is_executable(const std::string& path) {
    return !path.empty() && ::access(path.c_str(), X_OK) == 0 &&
           std::filesystem::is_regular_file(path);
}

std::string find_on_path(const std::string& name) {
    const char* path = std::getenv("PATH");
    std::string_view rest = path ? path : "";
    while (!rest.empty()) {
        auto colon = rest.find(':');
        auto dir = rest.substr(0, colon);
        rest = colon == std::string_view::npos ? std::string_view{} : rest.substr(colon + 1);
        auto candidate = std::string(dir) + "/" + name;
        if (is_executable(candidate))
            return candidate;
    }
    return {};
}

std::string random_token() {
    std::random_device device;
    std::string token;
    for (int i = 0; i < 4; ++i) {
        char chunk[9];
        std::snprintf(chunk, sizeof chunk, "%08x", device());
        token += chunk;
    }
    return token;
}

std::map<std::string, std::string> current_environment() {
    std::map<std::string, std::string> env;
    for (char** entry = environ; entry && *entry; ++entry) {
        std::string_view item(*entry);
        auto eq = item.find('=');
        if (eq != std::string_view::npos)
            env.emplace(item.substr(0, eq), item.substr(eq + 1));
    }
    return env;
}

std::shared_ptr<spdlog::logger> cli_logger(const client_options& options) {
    if (!options.logger)
        return nullptr;
    return options.logger->clone("copilot.cli");
}

// The command line and environment of a spawned runtime.
struct launch_plan {
    std::string executable;
    std::vector<std::string> args;
    std::vector<std::string> environment;
    std::string connection_token;
};

launch_plan plan_launch(const client_options& options) {
    launch_plan plan;
    auto runtime = resolve_runtime_path(options);
    if (runtime.size() > 3 && runtime.ends_with(".js")) {
        plan.executable = find_on_path("node");
        plan.args.push_back(runtime);
    } else {
        plan.executable = runtime;
    }

    plan.args.insert(plan.args.end(), options.cli_args.begin(), options.cli_args.end());
    plan.args.insert(plan.args.end(), {"--headless", "--no-auto-update"});
    if (!options.log_level.empty())
        plan.args.insert(plan.args.end(), {"--log-level", options.log_level});
    if (options.transport == transport_kind::tcp) {
        if (options.port != 0)
            plan.args.insert(plan.args.end(), {"--port", std::to_string(options.port)});
    } else {
        plan.args.push_back("--stdio");
    }
    if (options.github_token)
        plan.args.insert(plan.args.end(), {"--auth-token-env", auth_token_variable});
    if (!options.use_logged_in_user.value_or(!options.github_token))
        plan.args.push_back("--no-auto-login");

    auto env = options.environment ? *options.environment : current_environment();
    env.erase("NODE_DEBUG");
    if (!options.copilot_home.empty())
        env["COPILOT_HOME"] = options.copilot_home;
    if (options.github_token)
        env[auth_token_variable] = *options.github_token;
    if (options.transport == transport_kind::tcp) {
        plan.connection_token =
            options.connection_token.empty() ? random_token() : options.connection_token;
        env["COPILOT_CONNECTION_TOKEN"] = plan.connection_token;
    }
    for (auto& [key, value] : env)
        plan.environment.push_back(key + "=" + value);
    return plan;
}

// A spawned runtime: reaps it, drains its stderr into the log and keeps the last lines.
class runtime_child final : public child_process,
                            public std::enable_shared_from_this<runtime_child> {
public:
    runtime_child(bp::process process,
                  asio::readable_pipe stderr_pipe,
                  std::shared_ptr<spdlog::logger> logger)
        : process_(std::move(process))
        , stderr_(std::move(stderr_pipe))
        , logger_(std::move(logger))
        , changed_(stderr_.get_executor())
        , pid_(process_.id()) {}

    // Starts the exit watcher and the stderr drain; each holds the child alive until it ends.
    void watch() {
        auto self = shared_from_this();
        asio::co_spawn(stderr_.get_executor(), self->watch_exit(), asio::detached);
        asio::co_spawn(stderr_.get_executor(), self->drain_stderr(), asio::detached);
    }

    int pid() const override { return pid_; }
    bool exited() const override { return exited_; }
    std::optional<int> exit_code() const override { return exit_code_; }
    std::string stderr_text() const override { return tail_.text(); }

    void kill() override {
        if (!exited_)
            ::kill(pid_, SIGKILL);
    }

    asio::awaitable<void> wait_exit(std::chrono::milliseconds grace) override {
        auto self = shared_from_this();
        auto deadline = std::chrono::steady_clock::now() + grace;
        while (!exited_ || draining_) {
            if (!exited_ && std::chrono::steady_clock::now() >= deadline)
                kill();
            changed_.expires_at(exited_ ? asio::steady_timer::time_point::max() : deadline);
            co_await changed_.async_wait(use_tuple);
        }
    }

    /// Copies a line the TCP transport read from stdout into the log.
    void log_stdout(const std::string& line) {
        if (logger_)
            logger_->debug("{}", line);
    }

private:
    asio::awaitable<void> watch_exit() {
        auto [ec, code] = co_await process_.async_wait(use_tuple);
        exited_ = true;
        if (!ec)
            exit_code_ = code;
        if (logger_)
            logger_->info("runtime process {} exited ({})", pid_,
                          ec ? ec.message() : "code " + std::to_string(code));
        changed_.cancel();
    }

    asio::awaitable<void> drain_stderr() {
        std::string pending;
        char buffer[4096];
        for (;;) {
            auto [ec, n] = co_await stderr_.async_read_some(asio::buffer(buffer), use_tuple);
            pending.append(buffer, n);
            for (auto eol = pending.find('\n'); eol != std::string::npos;
                 eol = pending.find('\n')) {
                emit_line(pending.substr(0, eol));
                pending.erase(0, eol + 1);
            }
            if (ec)
                break;
        }
        if (!pending.empty())
            emit_line(pending);
        draining_ = false;
        changed_.cancel();
    }

    void emit_line(std::string line) {
        if (!line.empty() && line.back() == '\r')
            line.pop_back();
        if (logger_)
            logger_->warn("{}", line);
        tail_.add(std::move(line));
    }

    bp::process process_;
    asio::readable_pipe stderr_;
    std::shared_ptr<spdlog::logger> logger_;
    asio::steady_timer changed_;
    stderr_tail tail_;
    int pid_;
    bool exited_ = false;
    bool draining_ = true;
    std::optional<int> exit_code_;
};

// Adds what a dead child left behind to the connection's closing error.
std::string describe_child(const std::shared_ptr<runtime_child>& child) {
    if (!child)
        return {};
    std::string text;
    if (auto code = child->exit_code())
        text = "runtime exited with code " + std::to_string(*code);
    auto lines = child->stderr_text();
    if (!lines.empty())
        text += (text.empty() ? "" : "; ") + std::string("runtime stderr:\n") + lines;
    return text;
}

class pipe_stream final : public jsonrpc::byte_stream {
public:
    pipe_stream(asio::readable_pipe out, asio::writable_pipe in, std::shared_ptr<runtime_child> c)
        : out_(std::move(out))
        , in_(std::move(in))
        , child_(std::move(c)) {}

    void async_read_some(asio::mutable_buffer buffer,
                         asio::any_completion_handler<jsonrpc::io_signature> handler) override {
        out_.async_read_some(buffer, std::move(handler));
    }

    void async_write(std::vector<asio::const_buffer> buffers,
                     asio::any_completion_handler<jsonrpc::io_signature> handler) override {
        asio::async_write(in_, buffers, std::move(handler));
    }

    // Closing stdin is also how the runtime learns to shut down.
    void close() override {
        boost::system::error_code ignored;
        in_.close(ignored);
        out_.close(ignored);
    }

    std::string failure_context() override { return describe_child(child_); }

private:
    asio::readable_pipe out_;
    asio::writable_pipe in_;
    std::shared_ptr<runtime_child> child_;
};

class socket_stream final : public jsonrpc::byte_stream {
public:
    socket_stream(asio::ip::tcp::socket socket, std::shared_ptr<runtime_child> child)
        : socket_(std::move(socket))
        , child_(std::move(child)) {}

    void async_read_some(asio::mutable_buffer buffer,
                         asio::any_completion_handler<jsonrpc::io_signature> handler) override {
        socket_.async_read_some(buffer, std::move(handler));
    }

    void async_write(std::vector<asio::const_buffer> buffers,
                     asio::any_completion_handler<jsonrpc::io_signature> handler) override {
        asio::async_write(socket_, buffers, std::move(handler));
    }

    void close() override {
        boost::system::error_code ignored;
        socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
        socket_.close(ignored);
    }

    std::string failure_context() override { return describe_child(child_); }

private:
    asio::ip::tcp::socket socket_;
    std::shared_ptr<runtime_child> child_;
};

struct spawned {
    std::shared_ptr<runtime_child> child;
    asio::readable_pipe stdout_pipe;
    asio::writable_pipe stdin_pipe;
};

spawned spawn_runtime(const jsonrpc::strand_type& strand,
                      const client_options& options,
                      const launch_plan& plan) {
    asio::readable_pipe out(strand);
    asio::readable_pipe err(strand);
    asio::writable_pipe in(strand);

    std::filesystem::path dir = options.working_directory.empty()
                                    ? std::filesystem::current_path()
                                    : std::filesystem::path(options.working_directory);
    boost::system::error_code ec;
    bp::process process(strand, plan.executable, plan.args, ec, bp::process_stdio{in, out, err},
                        bp::process_environment{plan.environment}, bp::process_start_dir{dir});
    if (ec)
        throw error(errc::spawn_failed, "could not start " + plan.executable + ": " + ec.message());

    auto child =
        std::make_shared<runtime_child>(std::move(process), std::move(err), cli_logger(options));
    child->watch();
    return {std::move(child), std::move(out), std::move(in)};
}

// Reads the child's stdout until it announces its port, then keeps draining it into the log.
asio::awaitable<unsigned short> discover_port(std::shared_ptr<asio::readable_pipe> out,
                                              std::shared_ptr<runtime_child> child) {
    static const std::regex announcement("listening on port (\\d+)", std::regex::icase);
    std::string pending;
    char buffer[1024];
    for (;;) {
        auto [ec, n] = co_await out->async_read_some(asio::buffer(buffer), use_tuple);
        pending.append(buffer, n);
        std::smatch match;
        if (std::regex_search(pending, match, announcement))
            co_return static_cast<unsigned short>(std::stoi(match[1].str()));
        if (ec)
            throw error(errc::spawn_failed,
                        "runtime ended before announcing its port; " + describe_child(child));
    }
}

asio::awaitable<void> drain_stdout(std::shared_ptr<asio::readable_pipe> out,
                                   std::shared_ptr<runtime_child> child) {
    char buffer[1024];
    for (;;) {
        auto [ec, n] = co_await out->async_read_some(asio::buffer(buffer), use_tuple);
        if (n > 0)
            child->log_stdout(std::string(buffer, n));
        if (ec)
            co_return;
    }
}

asio::awaitable<asio::ip::tcp::socket> connect_tcp(const jsonrpc::strand_type& strand,
                                                   const std::string& host,
                                                   const std::string& port,
                                                   std::chrono::milliseconds timeout) {
    asio::ip::tcp::resolver resolver(strand);
    asio::ip::tcp::socket socket(strand);
    asio::steady_timer deadline(strand, timeout);

    auto endpoints = co_await resolver.async_resolve(host, port, asio::use_awaitable);
    auto outcome = co_await (asio::async_connect(socket, endpoints, use_tuple) ||
                             deadline.async_wait(use_tuple));
    if (outcome.index() == 1)
        throw error(errc::timeout, "connecting to " + host + ":" + port + " timed out");
    if (auto [ec, endpoint] = std::get<0>(outcome); ec)
        throw error(errc::spawn_failed,
                    "could not connect to " + host + ":" + port + ": " + ec.message());
    socket.set_option(asio::ip::tcp::no_delay(true));
    co_return socket;
}

asio::awaitable<transport> open_stdio(jsonrpc::strand_type strand, const client_options& options) {
    auto plan = plan_launch(options);
    auto [child, out, in] = spawn_runtime(strand, options, plan);
    transport result;
    result.stream = std::make_unique<pipe_stream>(std::move(out), std::move(in), child);
    result.child = child;
    co_return result;
}

asio::awaitable<transport> open_tcp_child(jsonrpc::strand_type strand,
                                          const client_options& options) {
    auto plan = plan_launch(options);
    auto [child, out, in] = spawn_runtime(strand, options, plan);
    auto stdout_pipe = std::make_shared<asio::readable_pipe>(std::move(out));

    asio::steady_timer deadline(strand, options.start_timeout);
    auto outcome = co_await (discover_port(stdout_pipe, child) || deadline.async_wait(use_tuple));
    if (outcome.index() == 1) {
        child->kill();
        throw error(errc::timeout, "runtime did not announce a port within " +
                                       std::to_string(options.start_timeout.count()) + " ms");
    }
    auto port = std::get<0>(outcome);
    asio::co_spawn(strand, drain_stdout(stdout_pipe, child), asio::detached);

    transport result;
    auto socket =
        co_await connect_tcp(strand, "127.0.0.1", std::to_string(port), options.start_timeout);
    result.stream = std::make_unique<socket_stream>(std::move(socket), child);
    result.child = child;
    result.connection_token = plan.connection_token;
    co_return result;
}

asio::awaitable<transport> open_external(jsonrpc::strand_type strand,
                                         const client_options& options) {
    if (options.github_token || options.use_logged_in_user)
        throw error(errc::invalid_config,
                    "github_token and use_logged_in_user belong to the external server");

    std::string address = options.server_url;
    for (std::string_view scheme : {"http://", "https://"})
        if (address.starts_with(scheme))
            address.erase(0, scheme.size());
    if (!address.empty() && address.back() == '/')
        address.pop_back();
    auto colon = address.rfind(':');
    std::string host = colon == std::string::npos ? "127.0.0.1" : address.substr(0, colon);
    std::string port = colon == std::string::npos ? address : address.substr(colon + 1);
    if (port.empty() || port.find_first_not_of("0123456789") != std::string::npos)
        throw error(errc::invalid_config, "server_url needs a port: '" + options.server_url + "'");

    transport result;
    auto socket = co_await connect_tcp(strand, host, port, options.start_timeout);
    result.stream = std::make_unique<socket_stream>(std::move(socket), nullptr);
    result.connection_token = options.connection_token;
    co_return result;
}

} // namespace

void stderr_tail::add(std::string line) {
    std::lock_guard lock(mutex_);
    lines_.push_back(std::move(line));
    if (lines_.size() > kept_stderr_lines)
        lines_.pop_front();
}

std::string stderr_tail::text() const {
    std::lock_guard lock(mutex_);
    std::string text;
    for (const auto& line : lines_)
        text += (text.empty() ? "" : "\n") + line;
    return text;
}

std::string resolve_runtime_path(const client_options& options) {
    const char* from_env = std::getenv("COPILOT_CLI_PATH");
    std::string env_path = from_env ? from_env : "";
    std::string project = COPILOT_PROJECT_RUNTIME;
    auto on_path = find_on_path("copilot");

    // An explicit choice is never silently replaced by another runtime.
    if (!options.cli_path.empty() && is_executable(options.cli_path))
        return options.cli_path;
    if (options.cli_path.empty()) {
        if (!env_path.empty() && is_executable(env_path))
            return env_path;
        if (env_path.empty() && is_executable(project))
            return project;
        if (env_path.empty() && !on_path.empty())
            return on_path;
    }

    auto describe = [](const std::string& path) {
        return path.empty() ? std::string("unset") : "'" + path + "', not an executable file";
    };
    throw error(errc::runtime_not_found,
                "no Copilot runtime found. Looked at: client_options::cli_path (" +
                    describe(options.cli_path) + "); COPILOT_CLI_PATH (" + describe(env_path) +
                    "); the project's copy ('" + project + "'" +
                    (is_executable(project) ? "" : ", missing: run scripts/dev.sh setup") +
                    "); `copilot` on PATH (" + (on_path.empty() ? "not found" : on_path) + ")");
}

asio::awaitable<transport> open_transport(jsonrpc::strand_type strand,
                                          const client_options& options) {
    switch (options.transport) {
    case transport_kind::stdio:
        co_return co_await open_stdio(strand, options);
    case transport_kind::tcp:
        co_return co_await open_tcp_child(strand, options);
    case transport_kind::external:
        co_return co_await open_external(strand, options);
    }
    throw error(errc::invalid_config, "unknown transport kind");
}

} // namespace copilot::detail
