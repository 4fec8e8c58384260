// Permission prompts and elicitations: an event in, a `session.*.handlePending*` reply out.

#include "support/session_fixture.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

namespace asio = copilot::asio;
namespace json = copilot::json;

using copilot::permission_decision;
using copilot::permission_request;
using copilot::test::js;
using copilot::test::shell_prompt;

constexpr auto pending_permission = "session.permissions.handlePendingPermissionRequest";
constexpr auto pending_elicitation = "session.ui.handlePendingElicitation";

using request_log = std::shared_ptr<std::vector<permission_request>>;

asio::awaitable<permission_decision> approve_and_log(request_log log, permission_request r) {
    log->push_back(std::move(r));
    co_return permission_decision::approve_once();
}

asio::awaitable<permission_decision> refuse(permission_request) {
    throw std::runtime_error("prompt window closed");
    co_return permission_decision{};
}

asio::awaitable<permission_decision> reject_on_main(permission_request) {
    co_return permission_decision::reject("not on the main branch");
}

asio::awaitable<copilot::elicitation_result>
fill_in(std::shared_ptr<copilot::elicitation_request> seen, copilot::elicitation_request r) {
    *seen = std::move(r);
    copilot::elicitation_result result;
    result.action = "accept";
    result.content = js(R"({"name":"Ada"})").as_object();
    co_return result;
}

asio::awaitable<copilot::elicitation_result> broken_form(copilot::elicitation_request) {
    throw std::runtime_error("form crashed");
    co_return copilot::elicitation_result{};
}

class session_permissions_test : public copilot::test::session_fixture {
protected:
    // Creates a session with `handler`, sends one shell prompt and returns the reply's result.
    asio::awaitable<json::value> decide(copilot::permission_handler handler) {
        copilot::session_config config;
        config.on_permission = std::move(handler);
        auto s = co_await create(std::move(config));

        send_event(s, "permission.requested", shell_prompt("perm-1"));
        co_await wait_for(pending_permission);

        auto params = params_of(pending_permission);
        EXPECT_EQ(params.at("requestId"), "perm-1");
        EXPECT_EQ(params.at("sessionId"), json::value(s.id()));
        co_return params.at("result");
    }
};

TEST_F(session_permissions_test, handler_decision_is_sent) {
    run([&]() -> asio::awaitable<void> {
        auto log = std::make_shared<std::vector<permission_request>>();
        // Named, not a temporary: GCC 12 destroys temporaries in a co_await twice.
        copilot::permission_handler handler = [log](permission_request r) {
            return approve_and_log(log, std::move(r));
        };
        auto result = co_await decide(std::move(handler));

        EXPECT_EQ(result, js(R"({"kind":"approve-once"})"));
        EXPECT_EQ(log->size(), 1u);
        EXPECT_EQ(log->at(0).kind, "shell");
        EXPECT_EQ(log->at(0).request_id, "perm-1");
        EXPECT_EQ(log->at(0).details.at("toolCallId"), "call-7");
    });
}

TEST_F(session_permissions_test, prompt_resolved_by_a_hook_gets_no_reply) {
    run([&]() -> asio::awaitable<void> {
        copilot::session_config config;
        config.on_permission = copilot::approve_all();
        auto s = co_await create(std::move(config));

        // The second prompt is served after the first was looked at.
        send_event(s, "permission.requested", shell_prompt("perm-1", true));
        send_event(s, "permission.requested", shell_prompt("perm-2"));
        co_await wait_for(pending_permission);
        co_await client_->async_ping("flush");

        auto replies = fake_->requests(pending_permission);
        EXPECT_EQ(replies.size(), 1u);
        EXPECT_EQ(replies.at(0).params.at("requestId"), "perm-2");
    });
}

TEST_F(session_permissions_test, throwing_handler_answers_user_not_available) {
    run([&]() -> asio::awaitable<void> {
        auto result = co_await decide(refuse);
        EXPECT_EQ(result, js(R"({"kind":"user-not-available"})"));
    });
}

TEST_F(session_permissions_test, rejection_carries_its_feedback) {
    run([&]() -> asio::awaitable<void> {
        auto result = co_await decide(reject_on_main);
        EXPECT_EQ(result, js(R"({"kind":"reject","feedback":"not on the main branch"})"));
    });
}

TEST_F(session_permissions_test, approve_all_approves_once) {
    run([&]() -> asio::awaitable<void> {
        auto result = co_await decide(copilot::approve_all());
        EXPECT_EQ(result, js(R"({"kind":"approve-once"})"));
    });
}

TEST_F(session_permissions_test, elicitation_answer_is_sent) {
    run([&]() -> asio::awaitable<void> {
        auto seen = std::make_shared<copilot::elicitation_request>();
        copilot::session_config config;
        config.on_elicitation = [seen](copilot::elicitation_request r) {
            return fill_in(seen, std::move(r));
        };
        auto s = co_await create(std::move(config));

        send_event(s, "elicitation.requested", R"({
            "requestId": "eli-1", "message": "Who are you?",
            "requestedSchema": {"type": "object", "properties": {"name": {"type": "string"}}}
        })");
        co_await wait_for(pending_elicitation);

        EXPECT_EQ(seen->message, "Who are you?");
        EXPECT_EQ(seen->request_id, "eli-1");
        EXPECT_TRUE(seen->requested_schema);
        EXPECT_EQ(seen->requested_schema.value().at("type"), "object");

        json::object expected;
        expected["requestId"] = "eli-1";
        expected["result"] = js(R"({"action":"accept","content":{"name":"Ada"}})");
        expected["sessionId"] = s.id();
        EXPECT_EQ(params_of(pending_elicitation), expected);
    });
}

TEST_F(session_permissions_test, throwing_elicitation_handler_cancels) {
    run([&]() -> asio::awaitable<void> {
        copilot::session_config config;
        config.on_elicitation = broken_form;
        auto s = co_await create(std::move(config));

        send_event(s, "elicitation.requested", R"({"requestId":"eli-1","message":"Name?"})");
        co_await wait_for(pending_elicitation);

        EXPECT_EQ(params_of(pending_elicitation).at("result"), js(R"({"action":"cancel"})"));
    });
}

} // namespace
