#include <copilot/error.hpp>
#include <copilot/hooks.hpp>

namespace copilot {

namespace {

std::string text(const json::object& o, std::string_view key) {
    auto* v = o.if_contains(key);
    return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

std::optional<std::string> optional_text(const json::object& o, std::string_view key) {
    auto* v = o.if_contains(key);
    if (v && v->is_string())
        return std::string(v->get_string());
    return std::nullopt;
}

json::value field(const json::object& o, std::string_view key) {
    auto* v = o.if_contains(key);
    return v ? *v : json::value();
}

template <class Input>
Input with_common(const json::object& raw) {
    Input input;
    input.session_id = text(raw, "sessionId");
    if (auto* ts = raw.if_contains("timestamp"); ts && ts->is_number())
        input.timestamp = static_cast<std::int64_t>(ts->to_number<double>());
    input.cwd = text(raw, "cwd");
    input.raw = raw;
    return input;
}

void set_if(json::object& out, std::string_view key, const std::optional<std::string>& v) {
    if (v)
        out[key] = *v;
}

json::value encode(const hook_output& output) {
    json::object out = output.extra;
    set_if(out, "additionalContext", output.additional_context);
    if (output.suppress_output)
        out["suppressOutput"] = *output.suppress_output;
    return out;
}

json::value encode(const pre_tool_use_output& output) {
    json::object out;
    set_if(out, "permissionDecision", output.permission_decision);
    set_if(out, "permissionDecisionReason", output.permission_decision_reason);
    if (output.modified_args)
        out["modifiedArgs"] = *output.modified_args;
    set_if(out, "additionalContext", output.additional_context);
    if (output.suppress_output)
        out["suppressOutput"] = *output.suppress_output;
    return out;
}

// Calls `handler` when set and turns its optional output into the reply's `output` value.
template <class Input, class Output>
asio::awaitable<json::value> run(hook_handler<Input, Output> handler, Input input) {
    if (!handler)
        co_return nullptr;
    auto output = co_await handler(std::move(input));
    if (!output)
        co_return nullptr;
    co_return encode(*output);
}

} // namespace

bool session_hooks::any() const noexcept {
    return pre_tool_use || post_tool_use || post_tool_use_failure || pre_mcp_tool_call ||
           user_prompt_submitted || user_prompt_transformed || session_start || session_end ||
           error_occurred || agent_stop;
}

asio::awaitable<json::value>
detail::invoke_hook(session_hooks hooks, std::string type, json::object raw) {
    if (type == "preToolUse") {
        auto in = with_common<pre_tool_use_input>(raw);
        in.tool_name = text(raw, "toolName");
        in.tool_args = field(raw, "toolArgs");
        co_return co_await run(hooks.pre_tool_use, std::move(in));
    }
    if (type == "postToolUse") {
        auto in = with_common<post_tool_use_input>(raw);
        in.tool_name = text(raw, "toolName");
        in.tool_args = field(raw, "toolArgs");
        in.tool_result = field(raw, "toolResult");
        co_return co_await run(hooks.post_tool_use, std::move(in));
    }
    if (type == "postToolUseFailure") {
        auto in = with_common<post_tool_use_failure_input>(raw);
        in.tool_name = text(raw, "toolName");
        in.tool_args = field(raw, "toolArgs");
        in.error = field(raw, "error");
        co_return co_await run(hooks.post_tool_use_failure, std::move(in));
    }
    if (type == "preMcpToolCall") {
        auto in = with_common<pre_mcp_tool_call_input>(raw);
        in.tool_call_id = text(raw, "toolCallId");
        in.server_name = text(raw, "serverName");
        in.tool_name = text(raw, "toolName");
        // Runtime 1.0.102 sends `arguments` here, unlike the other tool hooks' `toolArgs`.
        in.tool_args = raw.contains("arguments") ? field(raw, "arguments") : field(raw, "toolArgs");
        co_return co_await run(hooks.pre_mcp_tool_call, std::move(in));
    }
    if (type == "userPromptSubmitted") {
        auto in = with_common<user_prompt_submitted_input>(raw);
        in.prompt = text(raw, "prompt");
        co_return co_await run(hooks.user_prompt_submitted, std::move(in));
    }
    if (type == "userPromptTransformed") {
        auto in = with_common<user_prompt_transformed_input>(raw);
        in.prompt = text(raw, "prompt");
        in.transformed_prompt = text(raw, "transformedPrompt");
        co_return co_await run(hooks.user_prompt_transformed, std::move(in));
    }
    if (type == "sessionStart") {
        auto in = with_common<session_start_input>(raw);
        in.source = text(raw, "source");
        in.initial_prompt = optional_text(raw, "initialPrompt");
        co_return co_await run(hooks.session_start, std::move(in));
    }
    if (type == "sessionEnd") {
        auto in = with_common<session_end_input>(raw);
        in.reason = text(raw, "reason");
        co_return co_await run(hooks.session_end, std::move(in));
    }
    if (type == "errorOccurred") {
        auto in = with_common<error_occurred_input>(raw);
        in.error = field(raw, "error");
        co_return co_await run(hooks.error_occurred, std::move(in));
    }
    if (type == "agentStop") {
        auto in = with_common<agent_stop_input>(raw);
        in.stop_reason = text(raw, "stopReason");
        in.transcript_path = optional_text(raw, "transcriptPath");
        co_return co_await run(hooks.agent_stop, std::move(in));
    }
    co_return nullptr;
}

} // namespace copilot
