// The runtime's callbacks into a session, against the real runtime: client tools with a
// permission prompt, a user-input request, and hooks.

#include "e2e/session_e2e.hpp"

#include <set>

namespace copilot::test {
namespace {

using session_callbacks_e2e = session_e2e;

struct city_args {
    std::string city;
};

city_args tag_invoke(json::value_to_tag<city_args>, const json::value& v) {
    return {json::value_to<std::string>(v.at("city"))};
}

json::object city_schema() {
    json::object city{{"type", "string"}};
    json::object properties{{"city", std::move(city)}};
    return {{"type", "object"},
            {"properties", std::move(properties)},
            {"required", json::array{"city"}}};
}

json::object weather_call(std::string city) {
    return {{"city", std::move(city)}};
}

// What the hook handlers of one session saw, by hook type.
struct hook_trace {
    shared_log<std::string> types;
    shared_log<pre_tool_use_input> pre_tool;
    shared_log<post_tool_use_input> post_tool;
    shared_log<session_start_input> starts;
    shared_log<user_prompt_submitted_input> prompts;
    shared_log<user_prompt_transformed_input> transformed;
    shared_log<agent_stop_input> stops;
    shared_log<session_end_input> ends;
    shared_log<post_tool_use_failure_input> failures;
};

// A hook handler that adds its input to `log` and its type to `trace.types`.
template <class Input>
hook_handler<Input> recorder(hook_trace& trace, std::string type, shared_log<Input>& log) {
    return [&trace, type, &log](Input in) -> asio::awaitable<std::optional<hook_output>> {
        trace.types.add(type);
        log.add(std::move(in));
        co_return std::nullopt;
    };
}

// Hooks that record every call; preToolUse answers with `decision` when one is given.
session_hooks recording_hooks(hook_trace& trace, std::optional<std::string> decision) {
    session_hooks hooks;
    hooks.pre_tool_use =
        [&trace,
         decision](pre_tool_use_input in) -> asio::awaitable<std::optional<pre_tool_use_output>> {
        trace.types.add("preToolUse");
        trace.pre_tool.add(std::move(in));
        if (!decision)
            co_return std::nullopt;
        pre_tool_use_output out;
        out.permission_decision = *decision;
        out.permission_decision_reason = "blocked by the test's policy";
        co_return out;
    };
    hooks.post_tool_use = recorder(trace, "postToolUse", trace.post_tool);
    hooks.session_start = recorder(trace, "sessionStart", trace.starts);
    hooks.user_prompt_submitted = recorder(trace, "userPromptSubmitted", trace.prompts);
    hooks.user_prompt_transformed = recorder(trace, "userPromptTransformed", trace.transformed);
    hooks.agent_stop = recorder(trace, "agentStop", trace.stops);
    hooks.session_end = recorder(trace, "sessionEnd", trace.ends);
    hooks.post_tool_use_failure = recorder(trace, "postToolUseFailure", trace.failures);
    return hooks;
}

TEST_F(session_callbacks_e2e, a_tool_call_is_permitted_run_and_its_result_reaches_the_model) {
    shared_log<std::string> cities;
    shared_log<permission_request> prompts;

    auto cfg = config();
    cfg.tools.push_back(make_tool("get_weather", "Weather of a city", city_schema(),
                                  [&](tool_invocation call) -> std::string {
                                      auto args = call.arguments_as<city_args>();
                                      cities.add(args.city);
                                      return "sunny in " + args.city;
                                  }));
    cfg.on_permission = [&](permission_request request) -> asio::awaitable<permission_decision> {
        prompts.add(std::move(request));
        co_return permission_decision::approve_once();
    };
    auto s = open(std::move(cfg));

    model.push_reply(scripted_reply::tool_call("get_weather", weather_call("Paris")));
    model.push_reply(scripted_reply::text("It is sunny in Paris."));
    auto reply = turn(s, "Weather in Paris?");

    ASSERT_TRUE(reply);
    EXPECT_EQ(reply->content, "It is sunny in Paris.");
    EXPECT_EQ(cities.items(), std::vector<std::string>{"Paris"});

    auto seen = prompts.items();
    ASSERT_EQ(seen.size(), 1u);
    EXPECT_EQ(seen[0].kind, "custom-tool");
    EXPECT_EQ(seen[0].session_id, s.id());
    EXPECT_FALSE(seen[0].request_id.empty());

    // The follow-up request carries the tool's result as a `tool` message.
    auto requests = chat_requests();
    ASSERT_EQ(requests.size(), 2u);
    EXPECT_TRUE(messages_with_role(requests[0], "tool").empty());
    EXPECT_EQ(tool_message_text(requests[1]), "sunny in Paris");
}

TEST_F(session_callbacks_e2e, a_throwing_tool_is_reported_to_the_model_as_a_failure) {
    hook_trace trace;
    auto cfg = config();
    cfg.hooks = recording_hooks(trace, std::nullopt);
    cfg.tools.push_back(make_tool("get_weather", "Weather of a city", city_schema(),
                                  [](tool_invocation) -> std::string {
                                      throw std::runtime_error("weather station offline");
                                  }));
    auto s = open(std::move(cfg));

    model.push_reply(scripted_reply::tool_call("get_weather", weather_call("Oslo")));
    auto reply = turn(s, "Weather in Oslo?");
    ASSERT_TRUE(reply);

    auto requests = chat_requests();
    ASSERT_EQ(requests.size(), 2u);
    auto result = tool_message_text(requests[1]);
    EXPECT_NE(result.find("weather station offline"), std::string::npos) << result;
    // The default reply quotes the tool result, so the model "read" the failure.
    EXPECT_NE(reply->content.find("weather station offline"), std::string::npos);

    // A failed tool is reported by postToolUseFailure instead of postToolUse.
    EXPECT_TRUE(trace.post_tool.items().empty());
    auto failures = trace.failures.items();
    ASSERT_EQ(failures.size(), 1u);
    EXPECT_EQ(failures[0].tool_name, "get_weather");
    EXPECT_NE(json::serialize(failures[0].error).find("weather station offline"), std::string::npos)
        << json::serialize(failures[0].error);
}

TEST_F(session_callbacks_e2e, a_user_input_request_is_answered_and_the_answer_reaches_the_model) {
    shared_log<api::user_input_request> questions;

    auto cfg = config();
    cfg.on_user_input =
        [&](api::user_input_request request) -> asio::awaitable<api::user_input_response> {
        questions.add(std::move(request));
        co_return api::user_input_response{"blue", false};
    };
    auto s = open(std::move(cfg));

    json::array choices{"red", "blue"};
    json::object ask{{"question", "Which color?"}, {"choices", std::move(choices)}};
    model.push_reply(scripted_reply::tool_call("ask_user", std::move(ask)));
    auto reply = turn(s, "Pick a color for me.");
    ASSERT_TRUE(reply);

    auto seen = questions.items();
    ASSERT_EQ(seen.size(), 1u);
    EXPECT_EQ(seen[0].question, "Which color?");
    EXPECT_EQ(seen[0].choices, (std::vector<std::string>{"red", "blue"}));
    EXPECT_EQ(seen[0].session_id, s.id());

    auto requests = chat_requests();
    ASSERT_EQ(requests.size(), 2u);
    auto result = tool_message_text(requests[1]);
    EXPECT_NE(result.find("blue"), std::string::npos) << result;
}

TEST_F(session_callbacks_e2e, hooks_see_the_prompt_and_both_sides_of_a_tool_call) {
    hook_trace trace;
    auto cfg = config();
    cfg.hooks = recording_hooks(trace, std::nullopt);
    cfg.tools.push_back(make_tool("get_weather", "Weather of a city", city_schema(),
                                  [](tool_invocation) { return std::string("rainy"); }));
    auto s = open(std::move(cfg));

    model.push_reply(scripted_reply::tool_call("get_weather", weather_call("Rome")));
    ASSERT_TRUE(turn(s, "Weather in Rome?"));

    auto pre = trace.pre_tool.items();
    ASSERT_EQ(pre.size(), 1u);
    EXPECT_EQ(pre[0].tool_name, "get_weather");
    EXPECT_EQ(pre[0].tool_args, json::value(weather_call("Rome")));
    EXPECT_EQ(pre[0].session_id, s.id());

    auto post = trace.post_tool.items();
    ASSERT_EQ(post.size(), 1u);
    EXPECT_EQ(post[0].tool_name, "get_weather");
    auto* text = post[0].tool_result.is_object()
                     ? post[0].tool_result.get_object().if_contains("textResultForLlm")
                     : nullptr;
    ASSERT_TRUE(text) << json::serialize(post[0].tool_result);
    EXPECT_EQ(*text, json::value("rainy"));

    auto starts = trace.starts.items();
    ASSERT_EQ(starts.size(), 1u);
    EXPECT_EQ(starts[0].source, "new");

    auto prompts = trace.prompts.items();
    ASSERT_EQ(prompts.size(), 1u);
    EXPECT_NE(prompts[0].prompt.find("Weather in Rome?"), std::string::npos);

    auto transformed = trace.transformed.items();
    ASSERT_EQ(transformed.size(), 1u);
    EXPECT_NE(transformed[0].transformed_prompt.find("Weather in Rome?"), std::string::npos);

    EXPECT_FALSE(trace.stops.items().empty()) << "agentStop ends the turn";

    // Detaching ends the session for this client: sessionEnd comes before the reply.
    wait(s.async_disconnect(use_future));
    auto ends = trace.ends.items();
    ASSERT_EQ(ends.size(), 1u);
    EXPECT_FALSE(ends[0].reason.empty());

    // Order: the session starts, the prompt enters, the tool is wrapped by its two hooks.
    auto types = trace.types.items();
    auto at = [&](const std::string& type) {
        return std::find(types.begin(), types.end(), type) - types.begin();
    };
    EXPECT_LT(at("sessionStart"), at("userPromptSubmitted"));
    EXPECT_LT(at("userPromptSubmitted"), at("preToolUse"));
    EXPECT_LT(at("preToolUse"), at("postToolUse"));
    EXPECT_LT(at("postToolUse"), at("sessionEnd"));
}

TEST_F(session_callbacks_e2e, a_pre_tool_use_denial_keeps_the_tool_from_running) {
    hook_trace trace;
    shared_log<std::string> calls;
    auto cfg = config();
    cfg.hooks = recording_hooks(trace, "deny");
    cfg.tools.push_back(
        make_tool("get_weather", "Weather of a city", city_schema(), [&](tool_invocation call) {
            calls.add(call.tool_call_id);
            return std::string("should never be read");
        }));
    auto s = open(std::move(cfg));

    model.push_reply(scripted_reply::tool_call("get_weather", weather_call("Lima")));
    ASSERT_TRUE(turn(s, "Weather in Lima?"));

    EXPECT_EQ(trace.pre_tool.items().size(), 1u);
    EXPECT_TRUE(calls.items().empty()) << "the denied tool ran";

    auto requests = chat_requests();
    ASSERT_EQ(requests.size(), 2u);
    auto result = tool_message_text(requests[1]);
    EXPECT_EQ(result.find("should never be read"), std::string::npos);
    EXPECT_NE(result.find("blocked by the test's policy"), std::string::npos) << result;
}

} // namespace
} // namespace copilot::test
