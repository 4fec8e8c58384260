#include "session_core.hpp"

#include <copilot/session.hpp>

namespace copilot {

message_options prompt(std::string text) {
    message_options message;
    message.prompt = std::move(text);
    return message;
}

void subscription::unsubscribe() {
    auto core = session_.lock();
    session_.reset();
    if (!core)
        return;
    asio::dispatch(core->client()->strand, [core, id = id_] { core->unsubscribe(id); });
}

const std::string& session::id() const {
    static const std::string none;
    return core_ ? core_->id() : none;
}

jsonrpc::strand_type session::strand() const {
    if (!core_)
        throw error(errc::session_not_found, "empty session handle");
    return core_->client()->strand;
}

subscription session::on(std::string type, event_handler handler) {
    if (!core_)
        throw error(errc::session_not_found, "empty session handle");

    // The id is taken here and the registration queued on the strand, so subscribing works
    // from any thread, even before the io_context runs; events keep their strand order.
    auto id = core_->reserve_subscription();
    asio::dispatch(core_->client()->strand,
                   [core = core_, id, t = std::move(type), h = std::move(handler)]() mutable {
                       core->subscribe(id, std::move(t), std::move(h));
                   });
    return core_->make_subscription(id);
}

subscription session::on_any(event_handler handler) {
    return on(std::string(), std::move(handler));
}

std::uint64_t session::dropped_events() const {
    return core_ ? core_->dropped_events() : 0;
}

session_rpc session::rpc() const {
    if (!core_)
        throw error(errc::session_not_found, "empty session handle");
    return session_rpc(core_->client()->connection(), core_->id());
}

asio::awaitable<std::string> session::send(core_ptr core, message_options message) {
    co_return co_await core->send(std::move(message));
}

asio::awaitable<std::optional<events::assistant_message>>
session::send_and_wait(core_ptr core, message_options message, std::chrono::milliseconds timeout) {
    co_return co_await core->send_and_wait(std::move(message), timeout);
}

asio::awaitable<void> session::abort(core_ptr core) {
    json::object params;
    params["sessionId"] = core->id();
    co_await core->client()->call("session.abort", std::move(params));
}

asio::awaitable<std::vector<session_event>> session::get_messages(core_ptr core) {
    json::object params;
    params["sessionId"] = core->id();
    auto result = co_await core->client()->call("session.getMessages", std::move(params));

    std::vector<session_event> events;
    auto* object = result.if_object();
    auto* list = object ? object->if_contains("events") : nullptr;
    if (!list || !list->is_array())
        throw error(errc::decode_error, "session.getMessages returned no `events` array");
    for (auto& event : list->get_array())
        events.push_back(parse_session_event(std::move(event)));
    co_return events;
}

asio::awaitable<void> session::close(core_ptr core, std::string method) {
    co_await core->close(std::move(method));
}

asio::awaitable<session_event> session::next_event(core_ptr core) {
    co_return co_await core->next_event();
}

} // namespace copilot
