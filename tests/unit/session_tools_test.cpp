// Client-side tools driven by the fake runtime's `external_tool.requested` events.

#include "support/session_fixture.hpp"

#include <copilot/error.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <gtest/gtest.h>

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

namespace asio = copilot::asio;
namespace json = copilot::json;

using copilot::tool_invocation;
using copilot::tool_result;
using copilot::test::js;

constexpr auto pending_tool_call = "session.tools.handlePendingToolCall";

// Every call a tool saw; shared with the handler's coroutine frames.
using call_log = std::shared_ptr<std::vector<tool_invocation>>;

// The handlers are free coroutines taking everything by value, so no frame refers to a
// lambda's captures after the lambda is gone.
asio::awaitable<tool_result> weather(call_log log, tool_invocation call) {
    auto text = "sunny in " + json::value_to<std::string>(call.arguments.at("city"));
    log->push_back(std::move(call));
    co_return tool_result::success(std::move(text));
}

asio::awaitable<tool_result> broken(tool_invocation) {
    throw std::runtime_error("disk on fire");
    co_return tool_result{};
}

asio::awaitable<tool_result> picture(tool_invocation) {
    co_return tool_result::image("aGVsbG8=", "image/png", "a small picture");
}

// Sleeps an hour unless cancelled; `started` and `ended` report how far it got.
asio::awaitable<tool_result>
sleeper(std::shared_ptr<bool> started, std::shared_ptr<bool> ended, tool_invocation) {
    *started = true;
    asio::steady_timer timer(co_await asio::this_coro::executor, std::chrono::hours(1));
    co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    *ended = true;
    co_return tool_result::success("woke up");
}

copilot::tool weather_tool(call_log log) {
    auto schema = js(R"({"type":"object","properties":{"city":{"type":"string"}}})");
    return copilot::make_tool(
        "weather", "Weather of a city", schema.as_object(),
        [log](tool_invocation call) { return weather(log, std::move(call)); });
}

template <class F>
copilot::tool simple_tool(std::string name, F handler) {
    json::object schema{{"type", "object"}};
    return copilot::make_tool(std::move(name), "a test tool", std::move(schema),
                              std::move(handler));
}

// `external_tool.requested` data as the runtime sends it.
json::object tool_request(const copilot::session& s,
                          std::string request_id,
                          std::string tool_name,
                          std::string_view arguments = "{}") {
    json::object data;
    data["requestId"] = std::move(request_id);
    data["sessionId"] = s.id();
    data["toolCallId"] = "call-1";
    data["toolName"] = std::move(tool_name);
    data["arguments"] = js(arguments);
    return data;
}

class session_tools_test : public copilot::test::session_fixture {};

TEST_F(session_tools_test, handler_gets_the_call_and_its_result_goes_back) {
    run([&]() -> asio::awaitable<void> {
        auto log = std::make_shared<std::vector<tool_invocation>>();
        copilot::session_config config;
        config.tools.push_back(weather_tool(log));
        auto s = co_await create(std::move(config));

        send_event(s, "external_tool.requested",
                   tool_request(s, "req-1", "weather", R"({"city":"Oslo"})"));
        co_await wait_for(pending_tool_call);

        EXPECT_EQ(log->size(), 1u);
        EXPECT_EQ(log->at(0).tool_name, "weather");
        EXPECT_EQ(log->at(0).tool_call_id, "call-1");
        EXPECT_EQ(log->at(0).session_id, s.id());
        EXPECT_EQ(log->at(0).arguments, js(R"({"city":"Oslo"})"));

        json::object expected;
        expected["requestId"] = "req-1";
        expected["result"] = js(R"({"textResultForLlm":"sunny in Oslo","resultType":"success"})");
        expected["sessionId"] = s.id();
        EXPECT_EQ(params_of(pending_tool_call), expected);
    });
}

TEST_F(session_tools_test, throwing_handler_sends_a_failure_with_its_message) {
    run([&]() -> asio::awaitable<void> {
        copilot::session_config config;
        config.tools.push_back(simple_tool("broken", broken));
        auto s = co_await create(std::move(config));

        send_event(s, "external_tool.requested", tool_request(s, "req-1", "broken"));
        co_await wait_for(pending_tool_call);

        auto params = params_of(pending_tool_call);
        EXPECT_EQ(params.at("requestId"), "req-1");
        auto& result = params.at("result").as_object();
        EXPECT_EQ(result.at("resultType"), "failure");
        EXPECT_NE(result.at("textResultForLlm").as_string().find("disk on fire"),
                  json::string::npos);
    });
}

TEST_F(session_tools_test, handler_past_the_timeout_sends_a_failure) {
    run([&]() -> asio::awaitable<void> {
        auto started = std::make_shared<bool>(false);
        auto ended = std::make_shared<bool>(false);
        copilot::session_config config;
        config.handler_timeout = std::chrono::milliseconds(200);
        config.tools.push_back(simple_tool("slow", [=](tool_invocation call) {
            return sleeper(started, ended, std::move(call));
        }));
        auto s = co_await create(std::move(config));

        send_event(s, "external_tool.requested", tool_request(s, "req-1", "slow"));
        co_await wait_for(pending_tool_call);

        auto result = params_of(pending_tool_call).at("result").as_object();
        EXPECT_EQ(result.at("resultType"), "failure");
        EXPECT_NE(result.at("textResultForLlm").as_string().find("timed out"), json::string::npos)
            << result;

        // The abandoned handler was cancelled, not left sleeping for an hour.
        co_await wait_until([&] { return *ended; });
        EXPECT_TRUE(*started);
    });
}

TEST_F(session_tools_test, tool_of_another_client_gets_no_reply) {
    run([&]() -> asio::awaitable<void> {
        auto log = std::make_shared<std::vector<tool_invocation>>();
        copilot::session_config config;
        config.tools.push_back(weather_tool(log));
        auto s = co_await create(std::move(config));

        // The second request is served after the first was looked at, so one reply in all
        // proves the first got none.
        send_event(s, "external_tool.requested", tool_request(s, "req-1", "not_mine"));
        send_event(s, "external_tool.requested",
                   tool_request(s, "req-2", "weather", R"({"city":"Rome"})"));
        co_await wait_for(pending_tool_call);
        co_await client_->async_ping("flush");

        auto replies = fake_->requests(pending_tool_call);
        EXPECT_EQ(replies.size(), 1u);
        EXPECT_EQ(replies.at(0).params.at("requestId"), "req-2");
        EXPECT_EQ(log->size(), 1u);
    });
}

TEST_F(session_tools_test, binary_result_has_the_wire_shape) {
    run([&]() -> asio::awaitable<void> {
        copilot::session_config config;
        config.tools.push_back(simple_tool("camera", picture));
        auto s = co_await create(std::move(config));

        send_event(s, "external_tool.requested", tool_request(s, "req-1", "camera"));
        co_await wait_for(pending_tool_call);

        auto expected = js(R"({
            "textResultForLlm": "a small picture",
            "resultType": "success",
            "binaryResultsForLlm": [{"data": "aGVsbG8=", "mimeType": "image/png", "type": "image"}]
        })");
        EXPECT_EQ(params_of(pending_tool_call).at("result"), expected);
    });
}

TEST_F(session_tools_test, destroying_the_session_cancels_a_running_handler) {
    run([&]() -> asio::awaitable<void> {
        auto started = std::make_shared<bool>(false);
        auto ended = std::make_shared<bool>(false);
        copilot::session_config config;
        config.tools.push_back(simple_tool("slow", [=](tool_invocation call) {
            return sleeper(started, ended, std::move(call));
        }));
        auto s = co_await create(std::move(config));

        send_event(s, "external_tool.requested", tool_request(s, "req-1", "slow"));
        co_await wait_until([&] { return *started; });

        co_await s.async_destroy();
        EXPECT_EQ(fake_->requests("session.destroy").size(), 1u);
        co_await wait_until([&] { return *ended; });
    });
}

} // namespace
