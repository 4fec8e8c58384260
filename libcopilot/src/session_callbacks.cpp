// The runtime's callbacks into a session: tools, permissions, elicitation, hooks, user input,
// plan mode, auto mode switch, system-message transforms and provider tokens.

#include "session_core.hpp"

#include <copilot/generated/methods.hpp>

namespace copilot::detail {

namespace {

std::string string_field(const json::object& o, std::string_view key) {
    auto* v = o.if_contains(key);
    return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

// A JSON-RPC error the runtime reads as a failed callback (it retries token requests).
error rpc_failure(std::string message) {
    return error(make_rpc_error_code(rpc_code::internal_error), std::move(message));
}

} // namespace

asio::awaitable<json::value> session_core::on_request(std::string method, json::value params) {
    auto self = shared_from_this();
    if (method == "providerToken.getToken" || method == "providerToken.acquire")
        co_return co_await provide_token(std::move(params));
    if (method == "hooks.invoke")
        co_return co_await invoke_hook(std::move(params));
    if (method == "userInput.request")
        co_return co_await answer_user_input(std::move(params));
    if (method == "exitPlanMode.request")
        co_return co_await answer_exit_plan_mode(std::move(params));
    if (method == "autoModeSwitch.request")
        co_return co_await answer_auto_mode_switch(std::move(params));
    if (method == "systemMessage.transform")
        co_return co_await transform_system_message(std::move(params));
    throw error(make_rpc_error_code(rpc_code::method_not_found), "Unhandled method " + method);
}

asio::awaitable<void> session_core::answer_tool(session_event event) {
    auto self = shared_from_this();
    auto request = event.as<events::external_tool_requested>();
    if (!request)
        co_return;

    // Only tools this client registered: another client on the session may own the rest.
    auto it = std::find_if(config_.tools.begin(), config_.tools.end(),
                           [&](const tool& t) { return t.name == request->tool_name; });
    if (it == config_.tools.end() || !it->handler)
        co_return;

    tool_invocation call{id_, request->tool_call_id, request->tool_name,
                         request->arguments.value_or(json::object{}), request->working_directory};
    auto handler = it->handler;
    tool_result result;
    try {
        result = co_await guarded(call_owned(handler, std::move(call)), config_.handler_timeout);
    } catch (...) {
        // The model reads the failure and can react to it; the turn goes on.
        result = tool_result::failure("tool '" + request->tool_name +
                                      "' failed: " + describe(std::current_exception()));
    }

    json::object params;
    params["requestId"] = request->request_id;
    params["result"] = result.to_json();
    co_await reply(methods::session_tools_handle_pending_tool_call, std::move(params));
}

asio::awaitable<void> session_core::answer_permission(session_event event) {
    auto self = shared_from_this();
    const auto& data = event.data;
    if (auto* by_hook = data.if_contains("resolvedByHook");
        by_hook && by_hook->is_bool() && by_hook->get_bool())
        co_return;

    permission_request request{id_, string_field(data, "requestId"), {}, {}};
    if (auto* details = data.if_contains("permissionRequest"); details && details->is_object()) {
        request.details = details->get_object();
        request.kind = string_field(request.details, "kind");
    }

    auto handler = config_.on_permission;
    permission_decision decision;
    try {
        decision = co_await guarded(call_owned(handler, request), config_.handler_timeout);
    } catch (...) {
        log_warn("permission handler failed", describe(std::current_exception()));
        decision = permission_decision::user_not_available();
    }
    if (decision.kind == permission_decision::kind_type::no_result)
        co_return;

    json::object params;
    params["requestId"] = request.request_id;
    params["result"] = decision.to_json();
    co_await reply(methods::session_permissions_handle_pending_permission_request,
                   std::move(params));
}

asio::awaitable<void> session_core::answer_elicitation(session_event event) {
    auto self = shared_from_this();
    elicitation_request request{id_, string_field(event.data, "requestId"),
                                string_field(event.data, "message"), std::nullopt, event.data};
    if (auto* schema = event.data.if_contains("requestedSchema"); schema && schema->is_object())
        request.requested_schema = schema->get_object();

    auto handler = config_.on_elicitation;
    elicitation_result result;
    try {
        result = co_await guarded(call_owned(handler, request), config_.handler_timeout);
    } catch (...) {
        log_warn("elicitation handler failed", describe(std::current_exception()));
        result = elicitation_result{"cancel", std::nullopt};
    }

    json::object answer{{"action", result.action}};
    if (result.content)
        answer["content"] = *result.content;
    json::object params;
    params["requestId"] = request.request_id;
    params["result"] = std::move(answer);
    co_await reply(methods::session_ui_handle_pending_elicitation, std::move(params));
}

asio::awaitable<json::value> session_core::provide_token(json::value params) {
    auto request = json::value_to<api::provider_token_acquire_request>(params);

    const provider_config* provider = nullptr;
    if (request.provider_name == "default" && config_.provider)
        provider = &*config_.provider;
    for (const auto& named : config_.providers)
        if (named.name == request.provider_name)
            provider = &named;
    if (!provider)
        throw rpc_failure("session " + id_ + " has no provider named '" + request.provider_name +
                          "'");
    if (!provider->token_provider)
        throw rpc_failure("provider '" + request.provider_name + "' has no bearer-token callback");

    // A named argument, not a braced temporary: GCC 12 mis-builds the callee's coroutine
    // frame from a braced temporary passed through std::function.
    auto callback = provider->token_provider;
    provider_token_args args{request.provider_name, id_};
    bearer_token token;
    try {
        token = co_await guarded(call_owned(callback, args), config_.token_timeout);
    } catch (const error& e) {
        throw rpc_failure("bearer-token callback of provider '" + request.provider_name +
                          "' failed: " + e.what());
    } catch (const std::exception& e) {
        throw rpc_failure(e.what());
    }
    if (token.token.empty())
        throw rpc_failure("bearer-token callback of provider '" + request.provider_name +
                          "' returned an empty token");

    co_return json::value_from(api::provider_token_acquire_result{std::move(token.token)});
}

asio::awaitable<json::value> session_core::invoke_hook(json::value params) {
    auto request = json::value_to<api::hook_invoke_request>(params);
    auto* input = request.input.if_object();
    std::string type(request.hook_type.str());

    json::value output;
    if (input && config_.hooks.any()) {
        try {
            output = co_await guarded(detail::invoke_hook(config_.hooks, type, *input),
                                      config_.handler_timeout);
        } catch (const std::exception& e) {
            // A broken hook must not stall the turn: answer "no change".
            log_warn("hook " + type + " failed", e.what());
        }
    }
    if (output.is_null())
        co_return json::object{};
    co_return json::object{{"output", std::move(output)}};
}

asio::awaitable<json::value> session_core::answer_user_input(json::value params) {
    if (!config_.on_user_input)
        throw rpc_failure("session " + id_ + " has no user-input handler");
    auto request = json::value_to<api::user_input_request>(params);
    auto handler = config_.on_user_input;
    auto response =
        co_await guarded(call_owned(handler, std::move(request)), config_.handler_timeout);
    co_return json::value_from(response);
}

asio::awaitable<json::value> session_core::answer_exit_plan_mode(json::value params) {
    if (!config_.on_exit_plan_mode)
        co_return json::value_from(api::exit_plan_mode_response{true, std::nullopt, std::nullopt});
    auto request = json::value_to<api::exit_plan_mode_request>(params);
    auto handler = config_.on_exit_plan_mode;
    auto response =
        co_await guarded(call_owned(handler, std::move(request)), config_.handler_timeout);
    co_return json::value_from(response);
}

asio::awaitable<json::value> session_core::answer_auto_mode_switch(json::value params) {
    api::auto_mode_switch_response response{"no"};
    if (config_.on_auto_mode_switch) {
        auto request = json::value_to<api::auto_mode_switch_request>(params);
        auto handler = config_.on_auto_mode_switch;
        response =
            co_await guarded(call_owned(handler, std::move(request)), config_.handler_timeout);
    }
    co_return json::value_from(response);
}

asio::awaitable<json::value> session_core::transform_system_message(json::value params) {
    auto request = json::value_to<api::system_message_transform_request>(params);
    api::system_message_transform_response response{request.sections};

    // Sections without a transform callback come back unchanged.
    const auto* configured = config_.system_message ? &config_.system_message->sections : nullptr;
    for (auto& [id, section] : response.sections) {
        auto it = configured ? configured->find(id) : decltype(configured->end()){};
        if (!configured || it == configured->end() || !it->second.transform)
            continue;
        auto transform = it->second.transform;
        try {
            section.content =
                co_await guarded(call_owned(transform, section.content), config_.handler_timeout);
        } catch (const std::exception& e) {
            log_warn("system-message transform of section " + id + " failed", e.what());
        }
    }
    co_return json::value_from(response);
}

} // namespace copilot::detail
