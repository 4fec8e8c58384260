// The client's session management: create, resume, list, delete, metadata, foreground.

#include "session_core.hpp"

#include <copilot/client.hpp>

#include <random>

namespace copilot {

namespace {

// A random (version 4) UUID, as the runtime expects for client-made session ids.
std::string make_uuid() {
    thread_local std::mt19937_64 engine{std::random_device{}()};
    std::uniform_int_distribution<std::uint64_t> bits;
    std::uint64_t high = bits(engine);
    std::uint64_t low = bits(engine);
    high = (high & 0xffffffffffff0fffULL) | 0x0000000000004000ULL;
    low = (low & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;

    char text[37];
    std::snprintf(text, sizeof text, "%08x-%04x-%04x-%04x-%012llx",
                  static_cast<unsigned>(high >> 32), static_cast<unsigned>((high >> 16) & 0xffff),
                  static_cast<unsigned>(high & 0xffff), static_cast<unsigned>(low >> 48),
                  static_cast<unsigned long long>(low & 0xffffffffffffULL));
    return text;
}

std::optional<std::string> optional_string(const json::object& o, std::string_view key) {
    auto* v = o.if_contains(key);
    if (v && v->is_string())
        return std::string(v->get_string());
    return std::nullopt;
}

} // namespace

session_metadata session_metadata::from_json(const json::object& entry) {
    session_metadata out;
    out.session_id = optional_string(entry, "sessionId").value_or("");
    out.start_time = optional_string(entry, "startTime").value_or("");
    out.modified_time = optional_string(entry, "modifiedTime").value_or("");
    if (auto* remote = entry.if_contains("isRemote"); remote && remote->is_bool())
        out.is_remote = remote->get_bool();
    if (auto* detached = entry.if_contains("isDetached"); detached && detached->is_bool())
        out.is_detached = detached->get_bool();
    out.summary = optional_string(entry, "summary");
    out.name = optional_string(entry, "name");
    out.client_name = optional_string(entry, "clientName");
    if (auto* context = entry.if_contains("context"); context && context->is_object())
        out.context = context->get_object();
    return out;
}

asio::awaitable<session> client::open_session(core_ptr core, session_config config, bool resume) {
    detail::validate(config);
    core->connection(); // fails early with not_started

    auto id = config.session_id.empty() ? make_uuid() : config.session_id;
    auto state = std::make_shared<detail::session_core>(core, id, std::move(config));
    co_await state->open(resume);
    co_return session(std::move(state));
}

asio::awaitable<std::vector<session_metadata>> client::list_sessions(core_ptr core,
                                                                     session_list_filter filter) {
    json::object wire_filter;
    auto put = [&](std::string_view key, const std::optional<std::string>& value) {
        if (value)
            wire_filter[key] = *value;
    };
    put("cwd", filter.cwd);
    put("gitRoot", filter.git_root);
    put("repository", filter.repository);
    put("branch", filter.branch);
    json::object params;
    if (!wire_filter.empty())
        params["filter"] = std::move(wire_filter);

    auto result = co_await core->call("session.list", std::move(params));
    auto* list = result.is_object() ? result.get_object().if_contains("sessions") : nullptr;
    if (!list || !list->is_array())
        throw error(errc::decode_error, "session.list returned no `sessions` array");

    std::vector<session_metadata> sessions;
    for (const auto& entry : list->get_array())
        if (entry.is_object())
            sessions.push_back(session_metadata::from_json(entry.get_object()));
    co_return sessions;
}

asio::awaitable<void> client::delete_session(core_ptr core, std::string session_id) {
    json::object params;
    params["sessionId"] = session_id;
    auto result = co_await core->call("session.delete", std::move(params));

    // The runtime reports a missing session as data, not as a JSON-RPC error.
    auto* object = result.if_object();
    auto* success = object ? object->if_contains("success") : nullptr;
    if (success && success->is_bool() && !success->get_bool())
        throw error(errc::session_not_found,
                    optional_string(*object, "error").value_or("session " + session_id));
}

asio::awaitable<std::optional<std::string>> client::optional_id(core_ptr core, const char* method) {
    auto result = co_await core->call(method, json::object{});
    co_return result.is_object() ? optional_string(result.get_object(), "sessionId") : std::nullopt;
}

asio::awaitable<std::optional<session_metadata>> client::session_metadata_of(core_ptr core,
                                                                             std::string id) {
    json::object params;
    params["sessionId"] = id;
    auto result = co_await core->call("session.getMetadata", std::move(params));
    auto* object = result.if_object();
    auto* entry = object ? object->if_contains("session") : nullptr;
    if (!entry || !entry->is_object())
        co_return std::nullopt;
    co_return session_metadata::from_json(entry->get_object());
}

asio::awaitable<void> client::set_foreground(core_ptr core, std::string session_id) {
    json::object params;
    params["sessionId"] = session_id;
    auto result = co_await core->call("session.setForeground", std::move(params));
    auto* object = result.if_object();
    auto* success = object ? object->if_contains("success") : nullptr;
    if (success && success->is_bool() && !success->get_bool())
        throw error(errc::protocol_error,
                    optional_string(*object, "error").value_or("session.setForeground refused"));
}

void client::on_lifecycle(std::function<void(const json::object&)> handler) {
    asio::dispatch(core_->strand, [core = core_, h = std::move(handler)]() mutable {
        core->on_lifecycle(std::move(h));
    });
}

server_rpc client::rpc() const {
    return server_rpc(core_->connection());
}

} // namespace copilot
