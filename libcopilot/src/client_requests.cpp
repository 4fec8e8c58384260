#include <copilot/client_requests.hpp>

#include <copilot/detail/json_conv.hpp>

namespace copilot::api {

namespace json = boost::json;

void tag_invoke(json::value_from_tag, json::value& jv, const user_input_request& v) {
    auto& o = jv.emplace_object();
    detail::write(o, "sessionId", v.session_id);
    detail::write(o, "question", v.question);
    detail::write_optional(o, "choices", v.choices);
    detail::write_optional(o, "allowFreeform", v.allow_freeform);
}

user_input_request tag_invoke(json::value_to_tag<user_input_request>, const json::value& jv) {
    const auto& o = detail::expect_object(jv, "user_input_request");
    user_input_request out;
    detail::read(o, "sessionId", out.session_id, "user_input_request.session_id");
    detail::read(o, "question", out.question, "user_input_request.question");
    detail::read_optional(o, "choices", out.choices, "user_input_request.choices");
    detail::read_optional(o, "allowFreeform", out.allow_freeform,
                          "user_input_request.allow_freeform");
    return out;
}

void tag_invoke(json::value_from_tag, json::value& jv, const user_input_response& v) {
    auto& o = jv.emplace_object();
    detail::write(o, "answer", v.answer);
    detail::write(o, "wasFreeform", v.was_freeform);
}

user_input_response tag_invoke(json::value_to_tag<user_input_response>, const json::value& jv) {
    const auto& o = detail::expect_object(jv, "user_input_response");
    user_input_response out;
    detail::read(o, "answer", out.answer, "user_input_response.answer");
    detail::read(o, "wasFreeform", out.was_freeform, "user_input_response.was_freeform");
    return out;
}

void tag_invoke(json::value_from_tag, json::value& jv, const exit_plan_mode_request& v) {
    auto& o = jv.emplace_object();
    detail::write(o, "sessionId", v.session_id);
    detail::write(o, "summary", v.summary);
    detail::write_optional(o, "planContent", v.plan_content);
    detail::write(o, "actions", v.actions);
    detail::write(o, "recommendedAction", v.recommended_action);
}

exit_plan_mode_request tag_invoke(json::value_to_tag<exit_plan_mode_request>,
                                  const json::value& jv) {
    const auto& o = detail::expect_object(jv, "exit_plan_mode_request");
    exit_plan_mode_request out;
    detail::read(o, "sessionId", out.session_id, "exit_plan_mode_request.session_id");
    detail::read(o, "summary", out.summary, "exit_plan_mode_request.summary");
    detail::read_optional(o, "planContent", out.plan_content,
                          "exit_plan_mode_request.plan_content");
    detail::read(o, "actions", out.actions, "exit_plan_mode_request.actions");
    detail::read(o, "recommendedAction", out.recommended_action,
                 "exit_plan_mode_request.recommended_action");
    return out;
}

void tag_invoke(json::value_from_tag, json::value& jv, const exit_plan_mode_response& v) {
    auto& o = jv.emplace_object();
    detail::write(o, "approved", v.approved);
    detail::write_optional(o, "selectedAction", v.selected_action);
    detail::write_optional(o, "feedback", v.feedback);
}

exit_plan_mode_response tag_invoke(json::value_to_tag<exit_plan_mode_response>,
                                   const json::value& jv) {
    const auto& o = detail::expect_object(jv, "exit_plan_mode_response");
    exit_plan_mode_response out;
    detail::read(o, "approved", out.approved, "exit_plan_mode_response.approved");
    detail::read_optional(o, "selectedAction", out.selected_action,
                          "exit_plan_mode_response.selected_action");
    detail::read_optional(o, "feedback", out.feedback, "exit_plan_mode_response.feedback");
    return out;
}

void tag_invoke(json::value_from_tag, json::value& jv, const auto_mode_switch_request& v) {
    auto& o = jv.emplace_object();
    detail::write(o, "sessionId", v.session_id);
    detail::write_optional(o, "errorCode", v.error_code);
    detail::write_optional(o, "retryAfterSeconds", v.retry_after_seconds);
}

auto_mode_switch_request tag_invoke(json::value_to_tag<auto_mode_switch_request>,
                                    const json::value& jv) {
    const auto& o = detail::expect_object(jv, "auto_mode_switch_request");
    auto_mode_switch_request out;
    detail::read(o, "sessionId", out.session_id, "auto_mode_switch_request.session_id");
    detail::read_optional(o, "errorCode", out.error_code, "auto_mode_switch_request.error_code");
    detail::read_optional(o, "retryAfterSeconds", out.retry_after_seconds,
                          "auto_mode_switch_request.retry_after_seconds");
    return out;
}

void tag_invoke(json::value_from_tag, json::value& jv, const auto_mode_switch_response& v) {
    auto& o = jv.emplace_object();
    detail::write(o, "response", v.response);
}

auto_mode_switch_response tag_invoke(json::value_to_tag<auto_mode_switch_response>,
                                     const json::value& jv) {
    const auto& o = detail::expect_object(jv, "auto_mode_switch_response");
    auto_mode_switch_response out;
    detail::read(o, "response", out.response, "auto_mode_switch_response.response");
    return out;
}

void tag_invoke(json::value_from_tag, json::value& jv, const system_message_section& v) {
    auto& o = jv.emplace_object();
    detail::write(o, "content", v.content);
}

system_message_section tag_invoke(json::value_to_tag<system_message_section>,
                                  const json::value& jv) {
    const auto& o = detail::expect_object(jv, "system_message_section");
    system_message_section out;
    detail::read(o, "content", out.content, "system_message_section.content");
    return out;
}

void tag_invoke(json::value_from_tag, json::value& jv, const system_message_transform_request& v) {
    auto& o = jv.emplace_object();
    detail::write(o, "sessionId", v.session_id);
    detail::write(o, "sections", v.sections);
}

system_message_transform_request tag_invoke(json::value_to_tag<system_message_transform_request>,
                                            const json::value& jv) {
    const auto& o = detail::expect_object(jv, "system_message_transform_request");
    system_message_transform_request out;
    detail::read(o, "sessionId", out.session_id, "system_message_transform_request.session_id");
    detail::read(o, "sections", out.sections, "system_message_transform_request.sections");
    return out;
}

void tag_invoke(json::value_from_tag, json::value& jv, const system_message_transform_response& v) {
    auto& o = jv.emplace_object();
    detail::write(o, "sections", v.sections);
}

system_message_transform_response tag_invoke(json::value_to_tag<system_message_transform_response>,
                                             const json::value& jv) {
    const auto& o = detail::expect_object(jv, "system_message_transform_response");
    system_message_transform_response out;
    detail::read(o, "sections", out.sections, "system_message_transform_response.sections");
    return out;
}

} // namespace copilot::api
