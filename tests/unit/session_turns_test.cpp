// Turns and events: send_and_wait, subscriptions, the pull API, config validation and the
// wire form of `session.create`.

#include "support/session_fixture.hpp"

#include <copilot/error.hpp>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

namespace {

namespace asio = copilot::asio;
namespace json = copilot::json;
namespace events = copilot::events;

using copilot::errc;
using copilot::prompt;
using copilot::test::failure_of;
using copilot::test::js;
using copilot::testing::fake_runtime;

using namespace std::chrono_literals;

// A `session.send` that accepts the message and ends the turn with `session.error`.
asio::awaitable<json::value> send_then_fail(fake_runtime* fake, json::value params) {
    auto id = json::value_to<std::string>(params.at("sessionId"));
    fake->send_event(id, "session.error", js(R"({"errorType":"query","message":"model gone"})"));
    json::object result;
    result["messageId"] = "msg-1";
    co_return result;
}

// A `session.send` that accepts the message and never ends the turn.
asio::awaitable<json::value> send_and_stall(json::value) {
    json::object result;
    result["messageId"] = "msg-1";
    co_return result;
}

asio::awaitable<copilot::tool_result> unused_tool(copilot::tool_invocation) {
    co_return copilot::tool_result::success("unused");
}

copilot::tool tool_named(std::string name) {
    json::object schema{{"type", "object"}};
    return copilot::make_tool(std::move(name), "a test tool", std::move(schema), unused_tool);
}

asio::awaitable<copilot::bearer_token> unused_token(copilot::provider_token_args) {
    co_return copilot::bearer_token{"unused", std::nullopt};
}

asio::awaitable<copilot::api::user_input_response> unused_input(copilot::api::user_input_request) {
    co_return copilot::api::user_input_response{};
}

class session_turns_test : public copilot::test::session_fixture {
protected:
    // Creating a session with `config` fails with invalid_config before anything is sent.
    asio::awaitable<void> expect_rejected(copilot::session_config config) {
        std::string message;
        auto ec = co_await failure_of(create(std::move(config)), &message);
        EXPECT_EQ(ec, errc::invalid_config) << message;
        EXPECT_TRUE(fake_->requests("session.create").empty());
    }
};

TEST_F(session_turns_test, send_and_wait_returns_the_last_assistant_message) {
    run([&]() -> asio::awaitable<void> {
        auto s = co_await create();
        auto reply = co_await s.async_send_and_wait(prompt("hello"));
        EXPECT_TRUE(reply);
        EXPECT_EQ(reply.value().content, "echo: hello");
    });
}

TEST_F(session_turns_test, send_and_wait_fails_on_session_error) {
    run([&]() -> asio::awaitable<void> {
        fake_->on_request("session.send", [fake = fake_.get()](json::value params) {
            return send_then_fail(fake, std::move(params));
        });
        auto s = co_await create();

        std::string message;
        auto ec = co_await failure_of(s.async_send_and_wait(prompt("hello")), &message);
        EXPECT_EQ(ec, errc::session_error);
        EXPECT_NE(message.find("model gone"), std::string::npos) << message;
    });
}

TEST_F(session_turns_test, send_and_wait_times_out) {
    run([&]() -> asio::awaitable<void> {
        fake_->on_request("session.send", send_and_stall);
        auto s = co_await create();

        auto ec = co_await failure_of(s.async_send_and_wait(prompt("hello"), 200ms));
        EXPECT_EQ(ec, errc::timeout);
        EXPECT_TRUE(fake_->requests("session.abort").empty());
    });
}

TEST_F(session_turns_test, cancelled_send_and_wait_aborts_the_turn) {
    run([&]() -> asio::awaitable<void> {
        fake_->on_request("session.send", send_and_stall);
        auto s = co_await create();

        asio::cancellation_signal cancel;
        std::exception_ptr failure;
        bool done = false;
        auto on_done = [&](std::exception_ptr ep, std::optional<events::assistant_message>) {
            failure = ep;
            done = true;
        };
        s.async_send_and_wait(prompt("hello"), 0ms,
                              asio::bind_cancellation_slot(cancel.slot(), on_done));

        // The reply to session.send, then a ping behind it: the wait has begun.
        co_await wait_for("session.send");
        co_await client_->async_ping("flush");
        cancel.emit(asio::cancellation_type::terminal);

        co_await wait_until([&] { return done; });
        try {
            if (failure)
                std::rethrow_exception(failure);
            ADD_FAILURE() << "send_and_wait completed although cancelled";
        } catch (const copilot::error& e) {
            EXPECT_EQ(e.code(), errc::cancelled) << e.what();
        }

        auto aborts = co_await wait_for("session.abort");
        EXPECT_EQ(aborts.at(0).params.at("sessionId"), json::value(s.id()));
    });
}

TEST_F(session_turns_test, typed_subscription_sees_a_thousand_deltas_in_order) {
    run([&]() -> asio::awaitable<void> {
        copilot::session_config config;
        config.event_buffer_capacity = 0;
        auto s = co_await create(std::move(config));
        auto deltas = std::make_shared<std::vector<std::string>>();
        s.on<events::assistant_message_delta>([deltas](const events::assistant_message_delta& d) {
            deltas->push_back(d.delta_content);
        });

        co_await s.async_send_and_wait(prompt("1000"));

        std::vector<std::string> expected;
        for (int i = 0; i < 1000; ++i)
            expected.push_back(std::to_string(i) + " ");
        EXPECT_EQ(*deltas, expected);
    });
}

TEST_F(session_turns_test, on_any_receives_unknown_types_raw) {
    run([&]() -> asio::awaitable<void> {
        auto s = co_await create();
        auto seen = std::make_shared<std::vector<copilot::session_event>>();
        s.on_any([seen](const copilot::session_event& e) { seen->push_back(e); });

        send_event(s, "model.turn_started", R"({"turnId":"t-1","extra":[1,2]})");
        co_await wait_until([&] { return !seen->empty(); });

        EXPECT_EQ(seen->at(0).type, "model.turn_started");
        EXPECT_EQ(seen->at(0).data, js(R"({"turnId":"t-1","extra":[1,2]})"));
    });
}

TEST_F(session_turns_test, next_event_returns_events_in_order) {
    run([&]() -> asio::awaitable<void> {
        auto s = co_await create();
        co_await s.async_send_and_wait(prompt("2"));

        std::vector<std::string> types;
        for (int i = 0; i < 4; ++i) {
            auto event = co_await s.async_next_event();
            types.push_back(event.type);
        }
        std::vector<std::string> expected{"assistant.message_delta", "assistant.message_delta",
                                          "assistant.message", "session.idle"};
        EXPECT_EQ(types, expected);
        EXPECT_EQ(s.dropped_events(), 0u);
    });
}

TEST_F(session_turns_test, full_buffer_drops_the_oldest_events) {
    run([&]() -> asio::awaitable<void> {
        copilot::session_config config;
        config.event_buffer_capacity = 10;
        auto s = co_await create(std::move(config));

        // 20 deltas, one message, one idle: 22 events into 10 places.
        co_await s.async_send_and_wait(prompt("20"));
        EXPECT_EQ(s.dropped_events(), 12u);

        auto first = co_await s.async_next_event();
        EXPECT_EQ(first.type, "assistant.message_delta");
        EXPECT_EQ(first.data.at("deltaContent"), "12 ");
    });
}

TEST_F(session_turns_test, unsubscribe_stops_delivery) {
    run([&]() -> asio::awaitable<void> {
        auto s = co_await create();
        auto count = std::make_shared<int>(0);
        auto sub = s.on_any([count](const copilot::session_event&) { ++*count; });

        co_await s.async_send_and_wait(prompt("2"));
        EXPECT_EQ(*count, 4);

        sub.unsubscribe();
        co_await s.async_send_and_wait(prompt("2"));
        EXPECT_EQ(*count, 4);
    });
}

TEST_F(session_turns_test, invalid_configs_are_rejected_before_sending) {
    run([&]() -> asio::awaitable<void> {
        copilot::session_config unnamed;
        unnamed.tools.push_back(tool_named(""));
        co_await expect_rejected(std::move(unnamed));

        copilot::session_config twice;
        twice.tools.push_back(tool_named("grep"));
        twice.tools.push_back(tool_named("grep"));
        co_await expect_rejected(std::move(twice));

        copilot::provider_config modelless;
        modelless.base_url = "http://127.0.0.1:9/v1";
        copilot::session_config no_model;
        no_model.provider = std::move(modelless);
        co_await expect_rejected(std::move(no_model));

        copilot::provider_config nowhere;
        nowhere.model_id = "m";
        copilot::session_config no_url;
        no_url.provider = std::move(nowhere);
        co_await expect_rejected(std::move(no_url));
    });
}

TEST_F(session_turns_test, create_sends_capabilities_and_omits_unset_fields) {
    run([&]() -> asio::awaitable<void> {
        copilot::provider_config provider;
        provider.base_url = "http://127.0.0.1:9/v1";
        provider.token_provider = unused_token;
        copilot::session_config config;
        config.model = "test-model";
        config.provider = std::move(provider);
        config.on_permission = copilot::approve_all();
        config.on_user_input = unused_input;
        auto s = co_await create(std::move(config));

        auto params = params_of("session.create");
        EXPECT_EQ(params.at("sessionId"), json::value(s.id()));
        EXPECT_EQ(params.at("model"), "test-model");
        EXPECT_EQ(params.at("requestPermission"), true);
        EXPECT_EQ(params.at("requestUserInput"), true);
        EXPECT_EQ(params.at("requestElicitation"), false);
        EXPECT_EQ(params.at("requestExitPlanMode"), false);
        EXPECT_EQ(params.at("requestAutoModeSwitch"), false);
        EXPECT_EQ(params.at("hooks"), false);

        auto expected_provider =
            js(R"({"baseUrl":"http://127.0.0.1:9/v1","hasBearerTokenProvider":true})");
        EXPECT_EQ(params.at("provider"), expected_provider);

        for (auto unset : {"reasoningEffort", "streaming", "systemMessage", "tools",
                           "workingDirectory", "clientName", "providers", "mcpServers"})
            EXPECT_FALSE(params.contains(unset)) << unset;
    });
}

} // namespace
