#pragma once

/// @file
/// Everything a session is created (or resumed) with: wire options and callbacks.

#include <copilot/client_requests.hpp>
#include <copilot/detail/config.hpp>
#include <copilot/hooks.hpp>
#include <copilot/permission.hpp>
#include <copilot/provider.hpp>
#include <copilot/tool.hpp>

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace copilot {

/// How one section of the system prompt is changed (`systemMessage.sections.<id>`).
struct system_section {
    /// replace, remove, append, prepend, preserve or transform.
    std::string action;
    /// Text for replace, append and prepend.
    std::optional<std::string> content;
    /// For action "transform": receives the section's text, returns the new text. Answered
    /// through the runtime's `systemMessage.transform` request.
    std::function<asio::awaitable<std::string>(std::string)> transform;
};

/// The session's system prompt (`systemMessage`).
struct system_message_config {
    /// "append" (default), "replace" or "customize".
    std::string mode = "append";
    /// Text appended, or the whole prompt for "replace".
    std::optional<std::string> content;
    /// Per-section changes for "customize", keyed by section id (tone, safety, ...).
    std::map<std::string, system_section> sections;
};

/// An MCP server the runtime starts as a child process (`type` "local"/"stdio").
struct mcp_local_server {
    std::string command;
    std::vector<std::string> args;
    std::map<std::string, std::string> env;
    std::optional<std::string> working_directory;
    /// Tools to expose; empty: all.
    std::vector<std::string> tools;
    std::optional<std::int64_t> timeout_ms;
};

/// An MCP server reached over HTTP or SSE.
struct mcp_remote_server {
    /// "http" or "sse".
    std::string type = "http";
    std::string url;
    std::map<std::string, std::string> headers;
    std::vector<std::string> tools;
    std::optional<std::int64_t> timeout_ms;
};

/// A custom agent (`customAgents[]`).
struct custom_agent {
    std::string name;
    std::optional<std::string> display_name;
    std::optional<std::string> description;
    /// Tool names the agent may use; unset: all.
    std::optional<std::vector<std::string>> tools;
    /// The agent's prompt.
    std::string prompt;
    std::optional<bool> infer;
    std::optional<std::string> model;
};

/// Automatic history compaction (`infiniteSessions`).
struct infinite_sessions_config {
    std::optional<bool> enabled;
    /// Context share at which background compaction starts (runtime default 0.80).
    std::optional<double> background_compaction_threshold;
    /// Context share at which the turn waits for compaction (runtime default 0.95).
    std::optional<double> buffer_exhaustion_threshold;
};

/// Answers the runtime's `userInput.request` (the `ask_user` tool).
using user_input_handler =
    std::function<asio::awaitable<api::user_input_response>(api::user_input_request)>;

/// Answers the runtime's `exitPlanMode.request`. Without one the plan is approved.
using exit_plan_mode_handler =
    std::function<asio::awaitable<api::exit_plan_mode_response>(api::exit_plan_mode_request)>;

/// Answers the runtime's `autoModeSwitch.request`. Without one the answer is "no".
using auto_mode_switch_handler =
    std::function<asio::awaitable<api::auto_mode_switch_response>(api::auto_mode_switch_request)>;

/// One `elicitation.requested` event: a structured question (an MCP server's, for example).
struct elicitation_request {
    std::string session_id;
    std::string request_id;
    std::string message;
    /// JSON Schema of the expected answer, when there is one.
    std::optional<json::object> requested_schema;
    /// The event's whole data.
    json::object raw;
};

/// The answer to an elicitation.
struct elicitation_result {
    /// "accept", "decline" or "cancel".
    std::string action = "cancel";
    /// The answer's fields, for "accept".
    std::optional<json::object> content;
};

/// Answers `elicitation.requested`. A handler that throws answers "cancel".
using elicitation_handler = std::function<asio::awaitable<elicitation_result>(elicitation_request)>;

/// A session's configuration. Unset fields are not sent, so the runtime's defaults apply.
struct session_config {
    /// Session id; a fresh UUID v4 when empty.
    std::string session_id;
    std::optional<std::string> model;
    /// low, medium, high, xhigh or max.
    std::optional<std::string> reasoning_effort;
    /// Emit `assistant.message_delta` and `assistant.reasoning_delta` events.
    std::optional<bool> streaming;
    std::optional<std::string> client_name;
    std::optional<system_message_config> system_message;

    /// Client-side tools; names must be unique and non-empty.
    std::vector<tool> tools;
    /// Tool filters (`builtin:<n>`, `custom:<n>`, `mcp:<n>`, ...).
    std::optional<std::vector<std::string>> available_tools;
    std::optional<std::vector<std::string>> excluded_tools;

    std::vector<custom_agent> custom_agents;
    /// Agent selected at start.
    std::optional<std::string> agent;
    std::map<std::string, std::variant<mcp_local_server, mcp_remote_server>> mcp_servers;
    std::vector<std::string> skill_directories;
    std::vector<std::string> disabled_skills;
    std::optional<infinite_sessions_config> infinite_sessions;
    std::optional<std::string> working_directory;

    /// The single BYOK provider; its token callback answers for provider name "default".
    std::optional<provider_config> provider;
    /// Named providers; select a model as "<provider>/<model id>".
    std::vector<named_provider_config> providers;
    /// The model registry for `providers`.
    std::vector<provider_model_config> models;

    /// Permission prompts. Unset: the runtime is told this client does not answer them.
    permission_handler on_permission;
    user_input_handler on_user_input;
    elicitation_handler on_elicitation;
    exit_plan_mode_handler on_exit_plan_mode;
    auto_mode_switch_handler on_auto_mode_switch;
    session_hooks hooks;

    /// Deadline of every application callback except the token callback; a callback past it
    /// is cancelled and answered with an error (or the documented default).
    std::chrono::milliseconds handler_timeout{std::chrono::minutes(5)};
    /// Deadline of a bearer-token callback. The runtime itself never gives up waiting.
    std::chrono::milliseconds token_timeout{std::chrono::seconds(30)};

    /// Capacity of the buffer behind `session::async_next_event`; 0 turns the buffer off.
    /// When full, the oldest event is dropped and `session::dropped_events` counts it.
    std::size_t event_buffer_capacity = 4096;

    /// Extra wire fields merged into `session.create` / `session.resume` last, for options
    /// this struct does not name yet.
    json::object extra;
};

namespace detail {

/// Checks what can be checked before anything is sent: tool names, providers, models.
/// Throws `errc::invalid_config` naming the problem.
void validate(const session_config& config);

/// The `session.create` / `session.resume` params for `config` and `session_id`.
json::object to_wire(const session_config& config, const std::string& session_id);

} // namespace detail

} // namespace copilot
