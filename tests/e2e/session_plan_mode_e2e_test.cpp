// Plan mode against the real runtime: when the model asks to leave plan mode, the runtime asks
// this client through `exitPlanMode.request`, and the handler's answer decides.

#include "e2e/session_e2e.hpp"

namespace copilot::test {
namespace {

using session_plan_mode_e2e = session_e2e;

// The offered tool whose name contains `part`, or "".
std::string offered_tool_containing(const recorded_request& request, std::string_view part) {
    for (auto& name : offered_tools(request))
        if (name.find(part) != std::string::npos)
            return name;
    return {};
}

TEST_F(session_plan_mode_e2e, leaving_plan_mode_asks_the_exit_plan_mode_handler) {
    shared_log<api::exit_plan_mode_request> asked;
    auto cfg = config();
    cfg.on_exit_plan_mode =
        [&asked](api::exit_plan_mode_request r) -> asio::awaitable<api::exit_plan_mode_response> {
        asked.add(std::move(r));
        co_return api::exit_plan_mode_response{false, std::nullopt, "add a test plan first"};
    };
    auto s = open(std::move(cfg));

    api::mode_set_request plan;
    plan.mode = api::session_mode::plan;
    wait(s.rpc().async_mode_set(plan, use_future));

    std::string tool_name;
    model.set_handler([&tool_name](const recorded_request& request) {
        auto name = offered_tool_containing(request, "exit_plan_mode");
        if (name.empty() || !messages_with_role(request, "tool").empty() || !tool_name.empty())
            return copilot::testing::model_server::default_reply(request);
        tool_name = name;
        json::object args{{"summary", "Rename the module"}};
        return scripted_reply::tool_call(name, std::move(args));
    });
    auto reply = turn(s, "Plan the rename, then leave plan mode.");
    ASSERT_TRUE(reply);
    ASSERT_FALSE(tool_name.empty())
        << "offered: " << json::serialize(json::value_from(offered_tools(chat_requests().at(0))));

    auto requests = asked.items();
    ASSERT_EQ(requests.size(), 1u);
    EXPECT_EQ(requests[0].session_id, s.id());
    EXPECT_EQ(requests[0].summary, "Rename the module");

    // The refusal reached the model, and the session stayed in plan mode.
    auto result = tool_message_text(chat_requests().at(1));
    EXPECT_NE(result.find("add a test plan first"), std::string::npos) << result;
    EXPECT_EQ(wait(s.rpc().async_mode_get(use_future)), json::value("plan"));
}

} // namespace
} // namespace copilot::test
