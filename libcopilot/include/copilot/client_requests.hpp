#pragma once

/// @file
/// Params and results of the runtime -> client requests that the runtime's API schema does not
/// list: `userInput.request`, `exitPlanMode.request`, `autoModeSwitch.request` and
/// `systemMessage.transform`. The ones it lists (`providerToken.getToken`, `hooks.invoke`,
/// `sessionFs.*`, ...) are generated in `copilot/generated/api_client.hpp`.
///
/// Conversions follow the generated types: unknown fields are ignored, unset optionals are
/// not sent, a missing or mistyped required field throws `errc::decode_error`.

#include <boost/json/fwd.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace copilot::api {

/// Params of `userInput.request`: the agent asks the user a question.
struct user_input_request {
    std::string session_id;
    std::string question;
    std::optional<std::vector<std::string>> choices;
    std::optional<bool> allow_freeform;
};

/// Result of `userInput.request`.
struct user_input_response {
    std::string answer;
    /// True when the answer was typed rather than picked from `choices`.
    bool was_freeform = false;
};

/// Params of `exitPlanMode.request`: the agent proposes to leave plan mode.
struct exit_plan_mode_request {
    std::string session_id;
    std::string summary;
    std::optional<std::string> plan_content;
    /// Wire values of the actions offered, e.g. `"autopilot"`.
    std::vector<std::string> actions;
    std::string recommended_action;
};

/// Result of `exitPlanMode.request`.
struct exit_plan_mode_response {
    bool approved = false;
    std::optional<std::string> selected_action;
    std::optional<std::string> feedback;
};

/// Params of `autoModeSwitch.request`: the runtime asks to switch to the auto model.
struct auto_mode_switch_request {
    std::string session_id;
    std::optional<std::string> error_code;
    std::optional<std::int64_t> retry_after_seconds;
};

/// Result of `autoModeSwitch.request`; `response` is `"yes"`, `"yes_always"` or `"no"`.
struct auto_mode_switch_response {
    std::string response;
};

/// One system prompt section in `systemMessage.transform`.
struct system_message_section {
    std::string content;
};

/// Params of `systemMessage.transform`: sections whose action is `transform`, by section id.
struct system_message_transform_request {
    std::string session_id;
    std::map<std::string, system_message_section> sections;
};

/// Result of `systemMessage.transform`: the transformed sections, by section id.
struct system_message_transform_response {
    std::map<std::string, system_message_section> sections;
};

void tag_invoke(boost::json::value_from_tag, boost::json::value& jv, const user_input_request& v);
user_input_request tag_invoke(boost::json::value_to_tag<user_input_request>,
                              const boost::json::value& jv);
void tag_invoke(boost::json::value_from_tag, boost::json::value& jv, const user_input_response& v);
user_input_response tag_invoke(boost::json::value_to_tag<user_input_response>,
                               const boost::json::value& jv);
void tag_invoke(boost::json::value_from_tag,
                boost::json::value& jv,
                const exit_plan_mode_request& v);
exit_plan_mode_request tag_invoke(boost::json::value_to_tag<exit_plan_mode_request>,
                                  const boost::json::value& jv);
void tag_invoke(boost::json::value_from_tag,
                boost::json::value& jv,
                const exit_plan_mode_response& v);
exit_plan_mode_response tag_invoke(boost::json::value_to_tag<exit_plan_mode_response>,
                                   const boost::json::value& jv);
void tag_invoke(boost::json::value_from_tag,
                boost::json::value& jv,
                const auto_mode_switch_request& v);
auto_mode_switch_request tag_invoke(boost::json::value_to_tag<auto_mode_switch_request>,
                                    const boost::json::value& jv);
void tag_invoke(boost::json::value_from_tag,
                boost::json::value& jv,
                const auto_mode_switch_response& v);
auto_mode_switch_response tag_invoke(boost::json::value_to_tag<auto_mode_switch_response>,
                                     const boost::json::value& jv);
void tag_invoke(boost::json::value_from_tag,
                boost::json::value& jv,
                const system_message_section& v);
system_message_section tag_invoke(boost::json::value_to_tag<system_message_section>,
                                  const boost::json::value& jv);
void tag_invoke(boost::json::value_from_tag,
                boost::json::value& jv,
                const system_message_transform_request& v);
system_message_transform_request
tag_invoke(boost::json::value_to_tag<system_message_transform_request>,
           const boost::json::value& jv);
void tag_invoke(boost::json::value_from_tag,
                boost::json::value& jv,
                const system_message_transform_response& v);
system_message_transform_response
tag_invoke(boost::json::value_to_tag<system_message_transform_response>,
           const boost::json::value& jv);

} // namespace copilot::api
