// Runtime -> client requests answered by a session: user input, plan mode, auto mode switch,
// system-message transforms and hooks; plus routing of requests and events by session id.

#include "support/session_fixture.hpp"

#include <copilot/error.hpp>

#include <gtest/gtest.h>

#include <cctype>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

namespace asio = copilot::asio;
namespace json = copilot::json;
namespace api = copilot::api;

using copilot::test::failure_of;
using copilot::test::for_session;
using copilot::test::js;
using copilot::test::pre_tool_use;

asio::awaitable<api::user_input_response> answer_blue(std::shared_ptr<api::user_input_request> seen,
                                                      api::user_input_request r) {
    *seen = std::move(r);
    co_return api::user_input_response{"blue", true};
}

asio::awaitable<api::user_input_response> no_user(api::user_input_request) {
    throw std::runtime_error("the user walked away");
    co_return api::user_input_response{};
}

asio::awaitable<api::exit_plan_mode_response> keep_planning(api::exit_plan_mode_request r) {
    co_return api::exit_plan_mode_response{false, std::nullopt, "needs tests: " + r.summary};
}

asio::awaitable<api::auto_mode_switch_response> always_switch(api::auto_mode_switch_request) {
    co_return api::auto_mode_switch_response{"yes_always"};
}

asio::awaitable<std::string> shout(std::string text) {
    for (auto& c : text)
        c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    co_return text;
}

asio::awaitable<std::optional<copilot::pre_tool_use_output>>
deny_rm(std::shared_ptr<copilot::pre_tool_use_input> seen, copilot::pre_tool_use_input input) {
    *seen = std::move(input);
    copilot::pre_tool_use_output output;
    output.permission_decision = "deny";
    output.permission_decision_reason = "no rm here";
    co_return output;
}

asio::awaitable<std::optional<copilot::pre_tool_use_output>>
broken_hook(copilot::pre_tool_use_input) {
    throw std::runtime_error("hook crashed");
    co_return std::nullopt;
}

class session_requests_test : public copilot::test::session_fixture {};

TEST_F(session_requests_test, user_input_is_answered_by_the_handler) {
    run([&]() -> asio::awaitable<void> {
        auto seen = std::make_shared<api::user_input_request>();
        copilot::session_config config;
        config.on_user_input = [seen](api::user_input_request r) {
            return answer_blue(seen, std::move(r));
        };
        auto s = co_await create(std::move(config));

        auto params = for_session(s, R"({"question":"Colour?","choices":["red","blue"]})");
        auto result = co_await fake_->call("userInput.request", params);

        EXPECT_EQ(result, js(R"({"answer":"blue","wasFreeform":true})"));
        EXPECT_EQ(seen->question, "Colour?");
        EXPECT_EQ(seen->session_id, s.id());
        EXPECT_TRUE(seen->choices);
        EXPECT_EQ(seen->choices.value().size(), 2u);
    });
}

TEST_F(session_requests_test, user_input_without_a_handler_is_an_error) {
    run([&]() -> asio::awaitable<void> {
        auto s = co_await create();

        std::string message;
        auto params = for_session(s, R"({"question":"Colour?"})");
        auto ec = co_await failure_of(fake_->call("userInput.request", params), &message);

        EXPECT_EQ(ec.category(), copilot::rpc_category());
        EXPECT_NE(message.find("no user-input handler"), std::string::npos) << message;
    });
}

TEST_F(session_requests_test, throwing_user_input_handler_is_an_error_with_its_message) {
    run([&]() -> asio::awaitable<void> {
        copilot::session_config config;
        config.on_user_input = no_user;
        auto s = co_await create(std::move(config));

        std::string message;
        auto params = for_session(s, R"({"question":"Colour?"})");
        auto ec = co_await failure_of(fake_->call("userInput.request", params), &message);

        EXPECT_EQ(ec.category(), copilot::rpc_category());
        EXPECT_NE(message.find("the user walked away"), std::string::npos) << message;
    });
}

TEST_F(session_requests_test, plan_mode_and_auto_switch_have_defaults) {
    run([&]() -> asio::awaitable<void> {
        auto s = co_await create();

        auto plan = for_session(
            s, R"({"summary":"Plan","actions":["autopilot"],"recommendedAction":"autopilot"})");
        auto plan_answer = co_await fake_->call("exitPlanMode.request", plan);
        EXPECT_EQ(plan_answer, js(R"({"approved":true})"));

        auto switch_params = for_session(s, R"({"errorCode":"rate_limited"})");
        auto switch_answer = co_await fake_->call("autoModeSwitch.request", switch_params);
        EXPECT_EQ(switch_answer, js(R"({"response":"no"})"));
    });
}

TEST_F(session_requests_test, plan_mode_and_auto_switch_handlers_answer) {
    run([&]() -> asio::awaitable<void> {
        copilot::session_config config;
        config.on_exit_plan_mode = keep_planning;
        config.on_auto_mode_switch = always_switch;
        auto s = co_await create(std::move(config));

        auto plan = for_session(
            s, R"({"summary":"Plan","actions":["autopilot"],"recommendedAction":"autopilot"})");
        auto plan_answer = co_await fake_->call("exitPlanMode.request", plan);
        EXPECT_EQ(plan_answer, js(R"({"approved":false,"feedback":"needs tests: Plan"})"));

        auto switch_params = for_session(s, "{}");
        auto switch_answer = co_await fake_->call("autoModeSwitch.request", switch_params);
        EXPECT_EQ(switch_answer, js(R"({"response":"yes_always"})"));
    });
}

TEST_F(session_requests_test, system_message_transform_changes_only_its_section) {
    run([&]() -> asio::awaitable<void> {
        copilot::system_message_config system;
        system.mode = "customize";
        system.sections["tone"].action = "transform";
        system.sections["tone"].transform = [](std::string text) {
            return shout(std::move(text));
        };
        copilot::session_config config;
        config.system_message = std::move(system);
        auto s = co_await create(std::move(config));

        auto params = for_session(
            s, R"({"sections":{"tone":{"content":"be calm"},"safety":{"content":"be safe"}}})");
        auto result = co_await fake_->call("systemMessage.transform", params);

        auto expected =
            js(R"({"sections":{"tone":{"content":"BE CALM"},"safety":{"content":"be safe"}}})");
        EXPECT_EQ(result, expected);
    });
}

TEST_F(session_requests_test, pre_tool_use_output_is_wrapped) {
    run([&]() -> asio::awaitable<void> {
        auto seen = std::make_shared<copilot::pre_tool_use_input>();
        copilot::session_config config;
        config.hooks.pre_tool_use = [seen](copilot::pre_tool_use_input input) {
            return deny_rm(seen, std::move(input));
        };
        auto s = co_await create(std::move(config));

        auto params = pre_tool_use(s);
        auto result = co_await fake_->call("hooks.invoke", params);

        auto expected = js(
            R"({"output":{"permissionDecision":"deny","permissionDecisionReason":"no rm here"}})");
        EXPECT_EQ(result, expected);
        EXPECT_EQ(seen->tool_name, "shell");
        EXPECT_EQ(seen->cwd, "/tmp");
        EXPECT_EQ(seen->tool_args, js(R"({"command":"rm -rf /"})"));

        // A hook type this SDK has no handler slot for is a no-op.
        auto unknown = pre_tool_use(s, "preCompact");
        auto unknown_result = co_await fake_->call("hooks.invoke", unknown);
        EXPECT_EQ(unknown_result, json::object{});
    });
}

TEST_F(session_requests_test, hook_without_a_handler_is_a_no_op) {
    run([&]() -> asio::awaitable<void> {
        auto s = co_await create();
        auto params = pre_tool_use(s);
        auto result = co_await fake_->call("hooks.invoke", params);
        EXPECT_EQ(result, json::object{});
    });
}

TEST_F(session_requests_test, throwing_hook_is_a_no_op) {
    run([&]() -> asio::awaitable<void> {
        copilot::session_config config;
        config.hooks.pre_tool_use = broken_hook;
        auto s = co_await create(std::move(config));

        auto params = pre_tool_use(s);
        auto result = co_await fake_->call("hooks.invoke", params);
        EXPECT_EQ(result, json::object{});
    });
}

TEST_F(session_requests_test, request_for_an_unknown_session_is_an_error) {
    run([&]() -> asio::awaitable<void> {
        co_await create();

        std::string message;
        auto params = js(R"({"sessionId":"no-such-session","summary":"x","actions":[],
                             "recommendedAction":"x"})");
        auto ec = co_await failure_of(fake_->call("exitPlanMode.request", params), &message);

        EXPECT_EQ(ec.category(), copilot::rpc_category());
        EXPECT_NE(message.find("no-such-session"), std::string::npos) << message;
    });
}

TEST_F(session_requests_test, event_for_an_unknown_session_is_dropped) {
    run([&]() -> asio::awaitable<void> {
        auto s = co_await create();
        auto seen = std::make_shared<std::vector<json::object>>();
        s.on_any([seen](const copilot::session_event& e) { seen->push_back(e.data); });

        fake_->send_event("no-such-session", "session.title_changed", js(R"({"title":"lost"})"));
        send_event(s, "session.title_changed", R"({"title":"found"})");
        co_await wait_until([&] { return !seen->empty(); });
        co_await client_->async_ping("flush");

        EXPECT_EQ(seen->size(), 1u);
        EXPECT_EQ(seen->at(0).at("title"), "found");
    });
}

} // namespace
