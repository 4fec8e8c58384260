// Handlers that never finish: each kind is cut by the session's handler timeout and answered,
// and a handler still running when the client stops is cancelled.

#include "support/session_fixture.hpp"

#include <copilot/error.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <gtest/gtest.h>

#include <memory>
#include <stdexcept>
#include <string>

namespace {

namespace asio = copilot::asio;
namespace json = copilot::json;
namespace api = copilot::api;

using copilot::test::failure_of;
using copilot::test::for_session;
using copilot::test::js;
using copilot::test::pre_tool_use;
using copilot::test::shell_prompt;

using namespace std::chrono_literals;

// How far a sleeping handler got: it starts, then ends only when cancelled (or after an hour).
struct progress {
    bool started = false;
    bool ended = false;
};

using progress_ptr = std::shared_ptr<progress>;

asio::awaitable<void> sleep_an_hour(progress_ptr p) {
    p->started = true;
    asio::steady_timer timer(co_await asio::this_coro::executor, std::chrono::hours(1));
    co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    p->ended = true;
}

asio::awaitable<copilot::permission_decision> slow_permission(progress_ptr p,
                                                              copilot::permission_request) {
    co_await sleep_an_hour(p);
    co_return copilot::permission_decision::approve_once();
}

asio::awaitable<std::optional<copilot::pre_tool_use_output>>
slow_hook(progress_ptr p, copilot::pre_tool_use_input) {
    co_await sleep_an_hour(p);
    copilot::pre_tool_use_output output;
    output.permission_decision = "allow";
    co_return output;
}

asio::awaitable<api::user_input_response> slow_user(progress_ptr p, api::user_input_request) {
    co_await sleep_an_hour(p);
    co_return api::user_input_response{"too late", true};
}

asio::awaitable<copilot::elicitation_result> slow_form(progress_ptr p,
                                                       copilot::elicitation_request) {
    co_await sleep_an_hour(p);
    co_return copilot::elicitation_result{"accept", std::nullopt};
}

asio::awaitable<api::exit_plan_mode_response> slow_plan_review(progress_ptr p,
                                                               api::exit_plan_mode_request) {
    co_await sleep_an_hour(p);
    co_return api::exit_plan_mode_response{true, std::nullopt, std::nullopt};
}

asio::awaitable<api::auto_mode_switch_response> refuse_switch(api::auto_mode_switch_request) {
    throw std::runtime_error("switch dialog crashed");
    co_return api::auto_mode_switch_response{"yes"};
}

asio::awaitable<std::string> slow_transform(progress_ptr p, std::string text) {
    co_await sleep_an_hour(p);
    co_return "rewritten: " + text;
}

class session_deadlines_test : public copilot::test::session_fixture {};

TEST_F(session_deadlines_test, permission_handler_past_the_timeout_answers_user_not_available) {
    run([&]() -> asio::awaitable<void> {
        auto p = std::make_shared<progress>();
        copilot::session_config config;
        config.handler_timeout = 100ms;
        config.on_permission = [p](copilot::permission_request r) {
            return slow_permission(p, std::move(r));
        };
        auto s = co_await create(std::move(config));

        send_event(s, "permission.requested", shell_prompt("perm-1"));
        auto replies = co_await wait_for("session.permissions.handlePendingPermissionRequest");

        EXPECT_EQ(replies.at(0).params.at("result"), js(R"({"kind":"user-not-available"})"));
        co_await wait_until([&] { return p->ended; });
    });
}

TEST_F(session_deadlines_test, hook_past_the_timeout_answers_no_change) {
    run([&]() -> asio::awaitable<void> {
        auto p = std::make_shared<progress>();
        copilot::session_config config;
        config.handler_timeout = 100ms;
        config.hooks.pre_tool_use = [p](copilot::pre_tool_use_input in) {
            return slow_hook(p, std::move(in));
        };
        auto s = co_await create(std::move(config));

        auto params = pre_tool_use(s);
        auto result = co_await fake_->call("hooks.invoke", params);

        EXPECT_EQ(result, json::object{});
        co_await wait_until([&] { return p->ended; });
    });
}

TEST_F(session_deadlines_test, user_input_past_the_timeout_is_a_timeout_error) {
    run([&]() -> asio::awaitable<void> {
        auto p = std::make_shared<progress>();
        copilot::session_config config;
        config.handler_timeout = 100ms;
        config.on_user_input = [p](api::user_input_request r) {
            return slow_user(p, std::move(r));
        };
        auto s = co_await create(std::move(config));

        std::string message;
        auto params = for_session(s, R"({"question":"colour?"})");
        auto ec = co_await failure_of(fake_->call("userInput.request", params), &message);

        EXPECT_EQ(ec.category(), copilot::rpc_category());
        EXPECT_NE(message.find("timed out"), std::string::npos) << message;
        co_await wait_until([&] { return p->ended; });
    });
}

TEST_F(session_deadlines_test, stopping_the_client_cancels_a_running_handler) {
    auto p = std::make_shared<progress>();
    run([&]() -> asio::awaitable<void> {
        copilot::session_config config;
        config.on_permission = [p](copilot::permission_request r) {
            return slow_permission(p, std::move(r));
        };
        auto s = co_await create(std::move(config));

        send_event(s, "permission.requested", shell_prompt("perm-1"));
        co_await wait_until([&] { return p->started; });
        // `run` stops the client next; the hour-long handler must not keep it waiting.
    });

    EXPECT_TRUE(p->ended);
}

TEST_F(session_deadlines_test, elicitation_past_the_timeout_is_cancelled) {
    run([&]() -> asio::awaitable<void> {
        auto p = std::make_shared<progress>();
        copilot::session_config config;
        config.handler_timeout = 100ms;
        config.on_elicitation = [p](copilot::elicitation_request r) {
            return slow_form(p, std::move(r));
        };
        auto s = co_await create(std::move(config));

        send_event(s, "elicitation.requested", R"({"requestId":"eli-1","message":"Name?"})");
        auto replies = co_await wait_for("session.ui.handlePendingElicitation");

        EXPECT_EQ(replies.at(0).params.at("result"), js(R"({"action":"cancel"})"));
        co_await wait_until([&] { return p->ended; });
    });
}

TEST_F(session_deadlines_test, exit_plan_mode_past_the_timeout_is_a_timeout_error) {
    run([&]() -> asio::awaitable<void> {
        auto p = std::make_shared<progress>();
        copilot::session_config config;
        config.handler_timeout = 100ms;
        config.on_exit_plan_mode = [p](api::exit_plan_mode_request r) {
            return slow_plan_review(p, std::move(r));
        };
        auto s = co_await create(std::move(config));

        std::string message;
        auto params = for_session(
            s, R"({"summary":"Plan","actions":["autopilot"],"recommendedAction":"autopilot"})");
        auto ec = co_await failure_of(fake_->call("exitPlanMode.request", params), &message);

        EXPECT_EQ(ec.category(), copilot::rpc_category());
        EXPECT_NE(message.find("timed out"), std::string::npos) << message;
        co_await wait_until([&] { return p->ended; });
    });
}

TEST_F(session_deadlines_test, throwing_auto_mode_switch_is_an_error_with_its_message) {
    run([&]() -> asio::awaitable<void> {
        copilot::session_config config;
        config.on_auto_mode_switch = refuse_switch;
        auto s = co_await create(std::move(config));

        std::string message;
        auto params = for_session(s, "{}");
        auto ec = co_await failure_of(fake_->call("autoModeSwitch.request", params), &message);

        EXPECT_EQ(ec.category(), copilot::rpc_category());
        EXPECT_NE(message.find("switch dialog crashed"), std::string::npos) << message;
    });
}

TEST_F(session_deadlines_test, transform_past_the_timeout_leaves_the_section_unchanged) {
    run([&]() -> asio::awaitable<void> {
        auto p = std::make_shared<progress>();
        copilot::system_message_config system;
        system.mode = "customize";
        system.sections["tone"].action = "transform";
        system.sections["tone"].transform = [p](std::string text) {
            return slow_transform(p, std::move(text));
        };
        copilot::session_config config;
        config.handler_timeout = 100ms;
        config.system_message = std::move(system);
        auto s = co_await create(std::move(config));

        auto params = for_session(s, R"({"sections":{"tone":{"content":"be calm"}}})");
        auto result = co_await fake_->call("systemMessage.transform", params);

        EXPECT_EQ(result, js(R"({"sections":{"tone":{"content":"be calm"}}})"));
        co_await wait_until([&] { return p->ended; });
    });
}

} // namespace
