#pragma once

/// @file
/// The shared state behind a `copilot::client`; included by the session layer, not by users.

#include <copilot/client_options.hpp>
#include <copilot/jsonrpc/connection.hpp>
#include <copilot/server_info.hpp>

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>

namespace copilot::detail {

class child_process;

/// What the client's router needs from a session: where its events and requests go.
class session_sink {
public:
    virtual ~session_sink() = default;

    /// One `session.event` notification's `event` object, in arrival order.
    virtual void on_event(json::value event) = 0;

    /// One runtime→client request scoped to this session (`providerToken.getToken`, ...).
    virtual asio::awaitable<json::value> on_request(std::string method, json::value params) = 0;

    /// The connection ended; pending waits should fail with `reason`.
    virtual void on_closed(boost::system::error_code reason, const std::string& detail) = 0;
};

/// Connection, child process, router and server-level calls of one client.
///
/// Everything here runs on `strand`. Sessions keep the core alive through a shared pointer.
class client_core : public std::enable_shared_from_this<client_core> {
public:
    client_core(asio::any_io_executor executor, client_options options);
    ~client_core();

    /// Spawns or connects, performs the handshake and checks the protocol version.
    asio::awaitable<void> start();

    /// Detaches every session concurrently, shuts the runtime down and reaps it.
    asio::awaitable<void> stop();

    /// Kills the child and closes the connection at once. Safe from any thread.
    void force_stop();

    /// Sends one request; throws `errc::not_started` when there is no connection.
    asio::awaitable<json::value> call(std::string_view method, json::value params);

    /// The live connection; throws `errc::not_started` when there is none.
    std::shared_ptr<jsonrpc::connection> connection() const;

    /// Adds a session to the router. Done before `session.create` is sent, because the
    /// runtime sends events and hook requests for it before it replies.
    void register_session(const std::string& id, std::weak_ptr<session_sink> sink);

    /// Removes a session from the router.
    void unregister_session(const std::string& id);

    /// Registers the handler of one runtime→client request method for every session: the
    /// router finds the session by `params.sessionId` and calls its `on_request`.
    void route_session_request(std::string method);

    /// Registers an application handler of `session.lifecycle` notifications.
    void on_lifecycle(std::function<void(const json::object&)> handler);

    /// Registers a handler of connection state changes.
    void on_state_change(std::function<void(connection_state)> handler);

    jsonrpc::strand_type strand;
    client_options options;
    std::atomic<connection_state> state{connection_state::disconnected};
    server_info info;
    std::optional<std::vector<model_info>> cached_models;

    /// Process id of a spawned runtime, while it runs.
    std::optional<int> runtime_pid() const;

    /// Bytes read from the runtime on the current connection; 0 before the first start.
    std::uint64_t bytes_received() const;

private:
    asio::awaitable<void> handshake(const std::string& token);
    void install_handlers();
    void handle_session_event(json::value params);
    void handle_lifecycle(json::value params);
    void handle_closed(boost::system::error_code reason, const std::string& detail);
    std::shared_ptr<session_sink> find_session(const json::value& params) const;
    void set_state(connection_state next);

    std::shared_ptr<jsonrpc::connection> connection_;
    std::shared_ptr<child_process> child_;
    std::unordered_map<std::string, std::weak_ptr<session_sink>> sessions_;
    std::vector<std::string> routed_methods_;
    std::vector<std::function<void(const json::object&)>> lifecycle_handlers_;
    std::vector<std::function<void(connection_state)>> state_handlers_;
};

} // namespace copilot::detail
