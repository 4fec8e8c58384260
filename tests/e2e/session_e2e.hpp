#pragma once

// Shared set-up of the session end-to-end tests: a started client on the pinned runtime, and
// the local model server as every session's BYOK provider.

#include "support/e2e_env.hpp"

#include <copilot/client.hpp>
#include <copilot/testing/model_server.hpp>

#include <chrono>
#include <future>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace copilot::test {

using boost::asio::use_future;
using copilot::testing::recorded_request;
using copilot::testing::scripted_reply;

/// The static token every session of these tests hands its provider.
inline constexpr const char* static_token = "static-token";

/// Upper bound of one turn; only there so a broken turn fails instead of hanging.
inline constexpr std::chrono::milliseconds turn_bound{std::chrono::seconds(90)};

/// A fixture with a started client and a running model server.
class session_e2e : public e2e_test {
protected:
    void SetUp() override {
        model.start();
        wait(client.async_start(use_future));
    }

    void TearDown() override {
        wait(client.async_stop(use_future));
        model.stop();
    }

    /// A session config whose provider is the model server; every permission is approved.
    session_config config() const {
        session_config out;
        out.model = "gpt-4o";
        out.provider = provider_config{};
        out.provider->type = "openai";
        out.provider->base_url = model.base_url();
        out.provider->bearer_token = static_token;
        out.on_permission = approve_all();
        return out;
    }

    session open(session_config config) {
        return wait(client.async_create_session(std::move(config), use_future));
    }

    /// Sends `text` and waits for the turn's last assistant message.
    std::optional<events::assistant_message> turn(session& s, std::string text) {
        return wait(s.async_send_and_wait(prompt(std::move(text)), turn_bound, use_future));
    }

    /// The chat-completions requests the model server received, oldest first.
    std::vector<recorded_request> chat_requests() const {
        std::vector<recorded_request> out;
        for (auto& request : model.requests())
            if (request.path == "/v1/chat/completions")
                out.push_back(std::move(request));
        return out;
    }

    copilot::testing::model_server model{io.get_executor()};
    copilot::client client{io.get_executor(), options()};
};

/// Everything a callback running on the client's strand hands to the test thread.
template <class T>
class shared_log {
public:
    void add(T item) {
        std::lock_guard lock(mutex_);
        items_.push_back(std::move(item));
    }

    std::vector<T> items() const {
        std::lock_guard lock(mutex_);
        return items_;
    }

private:
    mutable std::mutex mutex_;
    std::vector<T> items_;
};

/// The text of a chat message's `content`: a string, or the text parts of an array.
inline std::string content_text(const json::object& message) {
    auto* content = message.if_contains("content");
    if (!content)
        return {};
    if (content->is_string())
        return std::string(content->get_string());

    std::string text;
    if (content->is_array())
        for (const auto& part : content->get_array())
            if (auto* t = part.is_object() ? part.get_object().if_contains("text") : nullptr)
                text += t->is_string() ? std::string(t->get_string()) : std::string();
    return text;
}

/// The messages of a recorded request with the given role, in order.
inline std::vector<json::object> messages_with_role(const recorded_request& request,
                                                    std::string_view role) {
    std::vector<json::object> out;
    auto* body = request.body.if_object();
    auto* messages = body ? body->if_contains("messages") : nullptr;
    if (!messages || !messages->is_array())
        return out;
    for (const auto& message : messages->get_array()) {
        auto* object = message.if_object();
        auto* r = object ? object->if_contains("role") : nullptr;
        if (r && r->is_string() && r->get_string() == role)
            out.push_back(*object);
    }
    return out;
}

/// The names of the tools a recorded request offered the model, in order.
inline std::vector<std::string> offered_tools(const recorded_request& request) {
    std::vector<std::string> names;
    auto* tools =
        request.body.is_object() ? request.body.get_object().if_contains("tools") : nullptr;
    if (!tools || !tools->is_array())
        return names;
    for (const auto& tool : tools->get_array()) {
        auto* function = tool.is_object() ? tool.get_object().if_contains("function") : nullptr;
        auto* name = function && function->is_object() ? function->get_object().if_contains("name")
                                                       : nullptr;
        if (name && name->is_string())
            names.emplace_back(name->get_string());
    }
    return names;
}

/// The content of the first `role:"tool"` message of a request, or empty.
inline std::string tool_message_text(const recorded_request& request) {
    auto tools = messages_with_role(request, "tool");
    return tools.empty() ? std::string() : content_text(tools.front());
}

/// The content of the last message with `role`, or empty when there is none.
inline std::string last_text(const recorded_request& request, std::string_view role) {
    auto messages = messages_with_role(request, role);
    return messages.empty() ? std::string() : content_text(messages.back());
}

} // namespace copilot::test
