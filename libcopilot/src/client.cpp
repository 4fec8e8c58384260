#include "transport/transport.hpp"

#include <copilot/client.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <spdlog/spdlog.h>

namespace copilot {

namespace detail {

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

// Runtime→client requests that carry a `sessionId` and belong to one session's callbacks.
constexpr std::string_view session_scoped_requests[] = {
    "providerToken.getToken", "providerToken.acquire", "hooks.invoke",
    "userInput.request",      "exitPlanMode.request",  "autoModeSwitch.request",
    "systemMessage.transform"};

// How long stop() gives `runtime.shutdown` and each `session.detach` before moving on.
constexpr std::chrono::seconds stop_rpc_timeout{5};

const json::string* string_field(const json::value& object, std::string_view key) {
    auto* o = object.if_object();
    auto* field = o ? o->if_contains(key) : nullptr;
    return field ? field->if_string() : nullptr;
}

// Runs every task concurrently on `strand` and waits for all; failures are the tasks' own
// business (they log), so this never throws.
asio::awaitable<void> run_all(jsonrpc::strand_type strand,
                              std::vector<asio::awaitable<void>> tasks) {
    if (tasks.empty())
        co_return;
    auto remaining = std::make_shared<std::size_t>(tasks.size());
    auto all_done =
        std::make_shared<asio::steady_timer>(strand, asio::steady_timer::time_point::max());
    for (auto& task : tasks) {
        asio::co_spawn(strand, std::move(task), [remaining, all_done](std::exception_ptr) {
            if (--*remaining == 0)
                all_done->cancel();
        });
    }
    while (*remaining > 0)
        co_await all_done->async_wait(use_tuple);
}

} // namespace

client_core::client_core(asio::any_io_executor executor, client_options opts)
    : strand(asio::make_strand(executor))
    , options(std::move(opts)) {}

client_core::~client_core() {
    // A runtime nobody can stop any more must not outlive its client.
    if (child_)
        child_->kill();
}

asio::awaitable<void> client_core::start() {
    auto self = shared_from_this();
    if (state != connection_state::disconnected)
        throw error(errc::already_started, "client is " + std::string(to_string(state)));
    set_state(connection_state::connecting);

    try {
        auto opened = co_await open_transport(strand, options);
        child_ = opened.child;
        connection_ = jsonrpc::connection::create(
            strand, std::move(opened.stream),
            {options.max_frame_size, options.max_json_depth, options.logger});
        install_handlers();
        connection_->start();
        co_await handshake(opened.connection_token);
    } catch (...) {
        force_stop();
        set_state(connection_state::disconnected);
        throw;
    }

    set_state(connection_state::connected);
    if (options.logger)
        options.logger->info("connected to runtime {} (protocol {})", info.version,
                             info.protocol_version);
}

asio::awaitable<void> client_core::handshake(const std::string& token) {
    json::object params{{"supportedTaskKinds", json::array{"agent", "client", "shell"}}};
    if (!token.empty())
        params["token"] = token;

    json::value result;
    bool has_connect = true;
    try {
        result = co_await connection_->call("connect", std::move(params), options.start_timeout);
    } catch (const error& e) {
        if (e.code() == make_rpc_error_code(-32002) || e.code() == make_rpc_error_code(-32001))
            throw error(errc::authentication_failed,
                        std::string("the runtime refused the connection token: ") + e.what());
        if (e.code() != make_rpc_error_code(rpc_code::method_not_found))
            throw;
        has_connect = false;
    }
    // Older runtimes have no `connect`; `ping` reports the version too.
    if (!has_connect)
        result = co_await connection_->call("ping", json::object{}, options.start_timeout);

    auto* object = result.if_object();
    auto* version = object ? object->if_contains("protocolVersion") : nullptr;
    if (!version || !version->is_int64())
        throw error(errc::version_mismatch, "the runtime did not report a protocol version");
    info.protocol_version = static_cast<int>(version->get_int64());
    if (auto* v = string_field(result, "version"))
        info.version = std::string(*v);
    if (auto* kinds = object->if_contains("taskKinds"); kinds && kinds->is_array())
        for (const auto& kind : kinds->get_array())
            if (kind.is_string())
                info.task_kinds.emplace_back(kind.get_string());

    if (info.protocol_version != sdk_protocol_version)
        throw error(errc::version_mismatch,
                    "the runtime speaks protocol version " + std::to_string(info.protocol_version) +
                        ", this SDK speaks version " + std::to_string(sdk_protocol_version));
}

asio::awaitable<void> client_core::stop() {
    auto self = shared_from_this();
    if (state == connection_state::connected) {
        set_state(connection_state::stopping);

        // Sessions are detached concurrently: 100 sessions cost one round-trip, not 100.
        std::vector<asio::awaitable<void>> detaches;
        for (auto& [id, weak] : sessions_) {
            detaches.push_back([](std::shared_ptr<jsonrpc::connection> c,
                                  std::string id) -> asio::awaitable<void> {
                json::object params;
                params["sessionId"] = id;
                try {
                    co_await c->call("session.detach", std::move(params), stop_rpc_timeout);
                } catch (const std::exception&) {
                    // The runtime is going away anyway; its state stays on disk.
                }
            }(connection_, id));
        }
        co_await run_all(strand, std::move(detaches));

        if (child_) {
            try {
                co_await connection_->call("runtime.shutdown", json::object{}, stop_rpc_timeout);
            } catch (const std::exception& e) {
                if (options.logger)
                    options.logger->warn("runtime.shutdown failed: {}", e.what());
            }
        }
    }

    if (connection_) {
        connection_->close(errc::transport_closed, "client stopped");
        co_await connection_->wait_closed();
    }
    if (child_) {
        co_await child_->wait_exit(options.stop_grace);
        child_.reset();
    }
    set_state(connection_state::disconnected);
}

void client_core::force_stop() {
    if (child_)
        child_->kill();
    if (connection_)
        connection_->close(errc::transport_closed, "client force-stopped");
}

asio::awaitable<json::value> client_core::call(std::string_view method, json::value params) {
    auto c = connection();
    co_return co_await c->call(method, std::move(params), options.request_timeout);
}

std::shared_ptr<jsonrpc::connection> client_core::connection() const {
    if (!connection_ || !connection_->is_open() || state == connection_state::connecting) {
        if (connection_ && !connection_->is_open())
            throw error(connection_->close_reason(), connection_->close_detail());
        throw error(errc::not_started, "the client is not started");
    }
    return connection_;
}

void client_core::register_session(const std::string& id, std::weak_ptr<session_sink> sink) {
    sessions_[id] = std::move(sink);
}

void client_core::unregister_session(const std::string& id) {
    sessions_.erase(id);
}

void client_core::route_session_request(std::string method) {
    routed_methods_.push_back(method);
    if (!connection_)
        return;

    auto weak = weak_from_this();
    connection_->add_request_handler(
        method, [weak, method](json::value params) -> asio::awaitable<json::value> {
            auto self = weak.lock();
            if (!self)
                throw error(make_rpc_error_code(rpc_code::internal_error), "client is gone");
            auto session = self->find_session(params);
            co_return co_await session->on_request(method, std::move(params));
        });
}

void client_core::on_lifecycle(std::function<void(const json::object&)> handler) {
    lifecycle_handlers_.push_back(std::move(handler));
}

void client_core::on_state_change(std::function<void(connection_state)> handler) {
    state_handlers_.push_back(std::move(handler));
}

std::optional<int> client_core::runtime_pid() const {
    if (child_ && !child_->exited())
        return child_->pid();
    return std::nullopt;
}

std::uint64_t client_core::bytes_received() const {
    return connection_ ? connection_->bytes_received() : 0;
}

void client_core::install_handlers() {
    auto weak = weak_from_this();
    connection_->add_notification_handler("session.event", [weak](json::value params) {
        if (auto self = weak.lock())
            self->handle_session_event(std::move(params));
    });
    connection_->add_notification_handler("session.lifecycle", [weak](json::value params) {
        if (auto self = weak.lock())
            self->handle_lifecycle(std::move(params));
    });
    connection_->on_close([weak](boost::system::error_code reason, const std::string& detail) {
        if (auto self = weak.lock())
            self->handle_closed(reason, detail);
    });

    auto methods = std::move(routed_methods_);
    routed_methods_.clear();
    for (auto name : session_scoped_requests)
        if (std::find(methods.begin(), methods.end(), name) == methods.end())
            methods.emplace_back(name);
    for (auto& method : methods)
        route_session_request(method);
}

void client_core::handle_session_event(json::value params) {
    auto* id = string_field(params, "sessionId");
    auto it = id ? sessions_.find(std::string(*id)) : sessions_.end();
    auto sink = it == sessions_.end() ? nullptr : it->second.lock();
    if (!sink) {
        if (options.logger)
            options.logger->debug("router: event for unknown session {} dropped",
                                  id ? std::string(*id) : "<none>");
        return;
    }

    auto& object = params.get_object();
    if (auto* event = object.if_contains("event"))
        sink->on_event(std::move(*event));
}

void client_core::handle_lifecycle(json::value params) {
    auto* object = params.if_object();
    if (!object)
        return;
    for (auto& handler : lifecycle_handlers_)
        handler(*object);
}

void client_core::handle_closed(boost::system::error_code reason, const std::string& detail) {
    // Every session learns of the loss so its waits fail now instead of timing out. A session
    // unregisters itself in `on_closed`, so walk a copy: erasing from the map being iterated
    // crashed `async_stop` with a live session handle.
    auto sessions = sessions_;
    for (auto& [id, weak] : sessions)
        if (auto sink = weak.lock())
            sink->on_closed(reason, detail);
    if (state != connection_state::stopping)
        set_state(connection_state::disconnected);
    if (options.logger && state != connection_state::stopping)
        options.logger->error("connection to the runtime lost: {}", detail);
}

std::shared_ptr<session_sink> client_core::find_session(const json::value& params) const {
    auto* id = string_field(params, "sessionId");
    if (!id)
        throw error(make_rpc_error_code(rpc_code::invalid_params), "request has no sessionId");
    auto it = sessions_.find(std::string(*id));
    auto sink = it == sessions_.end() ? nullptr : it->second.lock();
    if (!sink)
        throw error(make_rpc_error_code(rpc_code::invalid_params),
                    "unknown session " + std::string(*id));
    return sink;
}

void client_core::set_state(connection_state next) {
    if (state.exchange(next) == next)
        return;
    for (auto& handler : state_handlers_)
        handler(next);
}

} // namespace detail

const char* to_string(connection_state state) noexcept {
    switch (state) {
    case connection_state::disconnected:
        return "disconnected";
    case connection_state::connecting:
        return "connecting";
    case connection_state::connected:
        return "connected";
    case connection_state::stopping:
        return "stopping";
    }
    return "unknown";
}

// A separate constructor instead of a defaulted argument: GCC 12 miscompiles a defaulted
// `client_options{}` temporary inside a coroutine frame (its strings keep pointing into it).
client::client(asio::any_io_executor executor)
    : client(std::move(executor), client_options{}) {}

client::client(asio::any_io_executor executor, client_options options)
    : core_(std::make_shared<detail::client_core>(std::move(executor), std::move(options))) {}

client::~client() {
    // Sessions may keep the core alive; the runtime must not outlive the client regardless.
    core_->force_stop();
}

void client::force_stop() {
    asio::dispatch(core_->strand, [core = core_] { core->force_stop(); });
}

void client::on_state_change(std::function<void(connection_state)> handler) {
    asio::dispatch(core_->strand, [core = core_, h = std::move(handler)]() mutable {
        core->on_state_change(std::move(h));
    });
}

server_info client::info() const {
    return core_->info;
}

std::optional<int> client::runtime_pid() const {
    return core_->runtime_pid();
}

std::uint64_t client::bytes_received() const {
    return core_->bytes_received();
}

asio::awaitable<void> client::start(core_ptr core) {
    co_await core->start();
}

asio::awaitable<void> client::stop(core_ptr core) {
    co_await core->stop();
}

asio::awaitable<ping_result> client::ping(core_ptr core, std::string message) {
    json::object params;
    params["message"] = message;
    auto result = co_await core->call("ping", std::move(params));
    ping_result out;
    if (auto* m = detail::string_field(result, "message"))
        out.message = std::string(*m);
    if (auto* object = result.if_object()) {
        if (auto* ts = object->if_contains("timestamp"); ts && ts->is_string())
            out.timestamp = std::string(ts->get_string());
        if (auto* v = object->if_contains("protocolVersion"); v && v->is_int64())
            out.protocol_version = static_cast<int>(v->get_int64());
    }
    co_return out;
}

asio::awaitable<status_result> client::get_status(core_ptr core) {
    auto result = co_await core->call("status.get", json::object{});
    status_result out;
    if (auto* v = detail::string_field(result, "version"))
        out.version = std::string(*v);
    if (auto* object = result.if_object())
        if (auto* v = object->if_contains("protocolVersion"); v && v->is_int64())
            out.protocol_version = static_cast<int>(v->get_int64());
    co_return out;
}

asio::awaitable<auth_status> client::get_auth_status(core_ptr core) {
    auto result = co_await core->call("auth.getStatus", json::object{});
    auth_status out;
    auto* object = result.if_object();
    if (!object)
        throw error(errc::decode_error, "auth.getStatus returned no object");
    if (auto* v = object->if_contains("isAuthenticated"); v && v->is_bool())
        out.is_authenticated = v->get_bool();
    auto optional_string = [&](std::string_view key) -> std::optional<std::string> {
        if (auto* s = detail::string_field(result, key))
            return std::string(*s);
        return std::nullopt;
    };
    out.auth_type = optional_string("authType");
    out.host = optional_string("host");
    out.login = optional_string("login");
    out.status_message = optional_string("statusMessage");
    co_return out;
}

asio::awaitable<std::vector<model_info>> client::list_models(core_ptr core) {
    if (core->cached_models)
        co_return *core->cached_models;

    std::vector<model_info> models;
    if (core->options.list_models) {
        models = co_await core->options.list_models();
    } else {
        auto result = co_await core->call("models.list", json::object{});
        auto* object = result.if_object();
        auto* list = object ? object->if_contains("models") : nullptr;
        if (!list || !list->is_array())
            throw error(errc::decode_error, "models.list returned no `models` array");
        for (const auto& entry : list->get_array()) {
            if (!entry.is_object())
                continue;
            model_info model;
            model.raw = entry.get_object();
            if (auto* id = detail::string_field(entry, "id"))
                model.id = std::string(*id);
            if (auto* name = detail::string_field(entry, "name"))
                model.name = std::string(*name);
            models.push_back(std::move(model));
        }
    }
    core->cached_models = models;
    co_return models;
}

asio::awaitable<json::value>
client::raw_call(core_ptr core, std::string method, json::value params) {
    co_return co_await core->call(method, std::move(params));
}

} // namespace copilot
