#pragma once

/// @file
/// Typed inputs and outputs of the runtime's `hooks.invoke` requests.
///
/// Every input carries the common fields of `hook_input` plus its own; the whole input object
/// stays available in `raw`, so fields a later runtime adds are never lost. A handler returns
/// `std::nullopt` to let the runtime carry on unchanged.

#include <copilot/detail/config.hpp>

#include <boost/asio/awaitable.hpp>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

namespace copilot {

/// Fields every hook input has.
struct hook_input {
    std::string session_id;
    /// Milliseconds since the epoch.
    std::int64_t timestamp = 0;
    /// The session's working directory.
    std::string cwd;
    /// The input exactly as the runtime sent it.
    json::object raw;
};

/// `preToolUse`: a tool is about to run.
struct pre_tool_use_input : hook_input {
    std::string tool_name;
    json::value tool_args;
};

/// What a `preToolUse` handler may decide.
struct pre_tool_use_output {
    /// "allow" skips the permission prompt, "deny" blocks the call, "ask" prompts as usual.
    std::optional<std::string> permission_decision;
    std::optional<std::string> permission_decision_reason;
    /// Arguments the tool runs with instead of the model's.
    std::optional<json::value> modified_args;
    std::optional<std::string> additional_context;
    std::optional<bool> suppress_output;
};

/// `postToolUse`: a tool finished; `tool_result` holds `textResultForLlm`, `resultType`, ...
struct post_tool_use_input : hook_input {
    std::string tool_name;
    json::value tool_args;
    json::value tool_result;
};

/// `postToolUseFailure`: a tool failed.
struct post_tool_use_failure_input : hook_input {
    std::string tool_name;
    json::value tool_args;
    json::value error;
};

/// `preMcpToolCall`: an MCP server's tool is about to run.
struct pre_mcp_tool_call_input : hook_input {
    std::string tool_call_id;
    /// The server's name as configured in `session_config::mcp_servers`.
    std::string server_name;
    /// The tool's own name on that server (not the name the model saw).
    std::string tool_name;
    /// The call's arguments (the wire's `arguments`).
    json::value tool_args;
};

/// `userPromptSubmitted`: the user's prompt entered the session.
struct user_prompt_submitted_input : hook_input {
    std::string prompt;
};

/// `userPromptTransformed`: the prompt after the runtime's own additions.
struct user_prompt_transformed_input : hook_input {
    std::string prompt;
    std::string transformed_prompt;
};

/// `sessionStart`: `source` is "new" or "resume".
struct session_start_input : hook_input {
    std::string source;
    std::optional<std::string> initial_prompt;
};

/// `sessionEnd`: `reason` such as "user_exit".
struct session_end_input : hook_input {
    std::string reason;
};

/// `errorOccurred`.
struct error_occurred_input : hook_input {
    json::value error;
};

/// `agentStop`: the agent finished a turn.
struct agent_stop_input : hook_input {
    std::string stop_reason;
    std::optional<std::string> transcript_path;
};

/// The generic output most hooks accept.
struct hook_output {
    std::optional<std::string> additional_context;
    std::optional<bool> suppress_output;
    /// Extra fields sent as they are (for example `modifiedPrompt`, `modifiedResult`).
    json::object extra;
};

/// A hook handler: a coroutine taking the typed input.
template <class Input, class Output = hook_output>
using hook_handler = std::function<asio::awaitable<std::optional<Output>>(Input)>;

/// The hooks of a session; each unset handler is simply not called.
///
/// A handler that throws or times out is logged and answered with `{}` (no change), so a
/// broken hook never stalls the turn.
struct session_hooks {
    hook_handler<pre_tool_use_input, pre_tool_use_output> pre_tool_use;
    hook_handler<post_tool_use_input> post_tool_use;
    hook_handler<post_tool_use_failure_input> post_tool_use_failure;
    hook_handler<pre_mcp_tool_call_input> pre_mcp_tool_call;
    hook_handler<user_prompt_submitted_input> user_prompt_submitted;
    hook_handler<user_prompt_transformed_input> user_prompt_transformed;
    hook_handler<session_start_input> session_start;
    hook_handler<session_end_input> session_end;
    hook_handler<error_occurred_input> error_occurred;
    hook_handler<agent_stop_input> agent_stop;

    /// True when any handler is set; the session then tells the runtime `hooks: true`.
    bool any() const noexcept;
};

namespace detail {

/// Runs the handler `hooks` has for `hook_type` on `input`; returns the reply's `output`, or
/// null for "no change" (no handler, or an unknown hook type). Everything is taken by value:
/// a handler abandoned after a timeout may still run, and must not outlive what it reads.
asio::awaitable<json::value>
invoke_hook(session_hooks hooks, std::string hook_type, json::object input);

} // namespace detail

} // namespace copilot
