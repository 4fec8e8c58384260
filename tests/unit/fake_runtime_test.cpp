// The scriptable fake runtime, driven by a plain JSON-RPC connection or by raw frames.

#include "support/peer.hpp"

#include <copilot/error.hpp>
#include <copilot/testing/fake_runtime.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

namespace {

namespace asio = copilot::asio;
namespace json = copilot::json;

using copilot::errc;
using copilot::test::error_of;
using copilot::testing::fake_runtime;
using copilot::testing::fake_runtime_options;
using copilot::testing::fault;

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

// JSON from text; braced lists inside co_await expressions trip GCC 12.
json::value js(std::string_view text) {
    return json::parse(text);
}

bool looks_like_uuid(std::string_view id) {
    if (id.size() != 36)
        return false;
    for (std::size_t i = 0; i < id.size(); ++i) {
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash != (id[i] == '-'))
            return false;
    }
    return true;
}

// "2026-12-03T12:37:34.025Z"
bool looks_like_timestamp(std::string_view text) {
    return text.size() == 24 && text[4] == '-' && text[10] == 'T' && text[19] == '.' &&
           text.back() == 'Z';
}

// A client connection to a fake runtime, collecting the session events it receives.
class fake_runtime_test : public ::testing::Test {
protected:
    asio::io_context io_;
    std::unique_ptr<fake_runtime> fake_;
    std::shared_ptr<copilot::jsonrpc::connection> client_;
    std::vector<json::object> events_;
    std::unique_ptr<asio::steady_timer> idle_;
    int idles_ = 0;

    void open(fake_runtime_options options = {}) {
        fake_ = std::make_unique<fake_runtime>(io_.get_executor(), std::move(options));
        client_ = copilot::jsonrpc::connection::create(asio::make_strand(io_.get_executor()),
                                                       fake_->take_client_stream());
        idle_ = std::make_unique<asio::steady_timer>(client_->get_executor(),
                                                     asio::steady_timer::time_point::max());
        client_->add_notification_handler(
            "session.event", [this](json::value params) { on_event(std::move(params)); });
    }

    void on_event(json::value params) {
        auto& event = params.at("event").as_object();
        if (event.at("type") == "session.idle") {
            ++idles_;
            idle_->cancel();
        }
        events_.push_back(std::move(event));
    }

    // Waits until `count` session.idle events arrived in all.
    asio::awaitable<void> wait_for_idles(int count) {
        while (idles_ < count)
            co_await idle_->async_wait(use_tuple);
    }

    void run(std::function<asio::awaitable<void>()> body) {
        client_->start();
        copilot::test::run_until_done(io_, client_->get_executor(), std::move(body));
    }

    // The client goes away; both connections wind down.
    asio::awaitable<void> finish() {
        client_->close();
        co_await client_->wait_closed();
        co_await fake_->async_wait_closed();
        EXPECT_FALSE(fake_->connection()->is_open());
    }

    asio::awaitable<json::value> create_session(std::string id) {
        json::object params{{"sessionId", id}};
        co_return co_await client_->call("session.create", std::move(params));
    }
};

TEST_F(fake_runtime_test, connect_reports_protocol_3_and_echoes_offered_task_kinds) {
    open();
    run([&]() -> asio::awaitable<void> {
        auto result = co_await client_->call(
            "connect", js(R"({"supportedTaskKinds":["agent","client","shell"]})"));
        EXPECT_EQ(result.at("ok"), true);
        EXPECT_EQ(result.at("protocolVersion"), 3);
        EXPECT_EQ(result.at("version"), "fake");
        EXPECT_EQ(result.at("taskKinds"), js(R"(["agent","shell","client"])"));

        auto without_client = co_await client_->call("connect", json::object{});
        EXPECT_EQ(without_client.at("taskKinds"), js(R"(["agent","shell"])"));

        auto status = co_await client_->call("status.get", json::object{});
        EXPECT_EQ(status.at("protocolVersion"), 3);
        auto auth = co_await client_->call("auth.getStatus", json::object{});
        EXPECT_EQ(auth.at("isAuthenticated"), false);
        co_await finish();
    });
}

TEST_F(fake_runtime_test, connection_token_is_required_when_configured) {
    fake_runtime_options options;
    options.connection_token = "right-token";
    open(std::move(options));
    run([&]() -> asio::awaitable<void> {
        auto early = co_await error_of(client_->call("ping", json::object{}));
        EXPECT_EQ(early, copilot::make_rpc_error_code(-32001));

        auto missing = co_await error_of(client_->call("connect", json::object{}));
        EXPECT_EQ(missing, copilot::make_rpc_error_code(-32002));
        auto wrong = co_await error_of(client_->call("connect", js(R"({"token":"wrong"})")));
        EXPECT_EQ(wrong, copilot::make_rpc_error_code(-32002));

        auto ok = co_await client_->call("connect", js(R"({"token":"right-token"})"));
        EXPECT_EQ(ok.at("ok"), true);
        auto pong = co_await client_->call("ping", json::object{});
        EXPECT_EQ(pong.at("protocolVersion"), 3);
        co_await finish();
    });
}

TEST_F(fake_runtime_test, ping_answers_pong_with_the_message) {
    open();
    run([&]() -> asio::awaitable<void> {
        auto result = co_await client_->call("ping", js(R"({"message":"hi"})"));
        EXPECT_EQ(result.at("message"), "pong: hi");
        EXPECT_TRUE(result.at("timestamp").is_number());
        EXPECT_EQ(result.at("protocolVersion"), 3);
        co_await finish();
    });
}

TEST_F(fake_runtime_test, unknown_method_is_unhandled) {
    open();
    run([&]() -> asio::awaitable<void> {
        try {
            co_await client_->call("models.list", json::object{});
            ADD_FAILURE() << "models.list succeeded";
        } catch (const copilot::error& e) {
            EXPECT_EQ(e.code(), copilot::make_rpc_error_code(-32601));
            EXPECT_NE(std::string(e.what()).find("Unhandled method models.list"),
                      std::string::npos);
        }
        co_await finish();
    });
}

TEST_F(fake_runtime_test, send_streams_n_ordered_deltas_then_message_and_idle) {
    open();
    constexpr int n = 1000;
    run([&]() -> asio::awaitable<void> {
        co_await create_session("s-1");
        auto sent =
            co_await client_->call("session.send", js(R"({"sessionId":"s-1","prompt":"1000"})"));
        auto message_id = sent.at("messageId");
        co_await wait_for_idles(1);

        EXPECT_EQ(events_.size(), std::size_t{n + 2});
        std::set<std::string> ids;
        for (int i = 0; i < n && i < static_cast<int>(events_.size()); ++i) {
            const auto& event = events_[static_cast<std::size_t>(i)];
            EXPECT_EQ(event.at("type"), "assistant.message_delta");
            EXPECT_EQ(event.at("ephemeral"), true);
            EXPECT_EQ(event.at("data").at("deltaContent"), json::value(std::to_string(i) + " "));
            EXPECT_EQ(event.at("data").at("messageId"), message_id);
            EXPECT_TRUE(looks_like_timestamp(event.at("timestamp").as_string()));
            ids.insert(std::string(event.at("id").as_string()));
        }
        EXPECT_EQ(ids.size(), std::size_t{n});

        if (events_.size() == n + 2) {
            const auto& message = events_[n];
            EXPECT_EQ(message.at("type"), "assistant.message");
            EXPECT_EQ(message.at("data").at("content"), "echo: 1000");
            EXPECT_FALSE(message.contains("ephemeral"));
            EXPECT_TRUE(looks_like_uuid(message.at("id").as_string()));

            // The idle event's parent is the last persisted event: the message.
            const auto& idle = events_[n + 1];
            EXPECT_EQ(idle.at("type"), "session.idle");
            EXPECT_EQ(idle.at("parentId"), message.at("id"));
        }
        co_await finish();
    });
}

TEST_F(fake_runtime_test, send_reply_precedes_the_first_event_on_the_wire) {
    fake_ = std::make_unique<fake_runtime>(io_.get_executor());
    copilot::test::peer client(fake_->take_client_socket());
    copilot::test::run_until_done(io_, asio::make_strand(io_), [&]() -> asio::awaitable<void> {
        co_await client.request(1, "session.create", js(R"({"sessionId":"s-1"})"));
        EXPECT_EQ((co_await client.read()).at("id"), 1);

        co_await client.request(2, "session.send", js(R"({"sessionId":"s-1","prompt":"3"})"));
        auto reply = co_await client.read();
        EXPECT_EQ(reply.at("id"), 2);
        EXPECT_TRUE(reply.at("result").as_object().contains("messageId"));

        std::vector<std::string> types;
        for (int i = 0; i < 5; ++i) {
            auto frame = co_await client.read();
            EXPECT_EQ(frame.at("method"), "session.event");
            EXPECT_EQ(frame.at("params").at("sessionId"), "s-1");
            types.emplace_back(frame.at("params").at("event").at("type").as_string());
        }
        std::vector<std::string> expected{"assistant.message_delta", "assistant.message_delta",
                                          "assistant.message_delta", "assistant.message",
                                          "session.idle"};
        EXPECT_EQ(types, expected);

        client.close();
        co_await fake_->async_wait_closed();
    });
}

TEST_F(fake_runtime_test, send_to_an_unknown_session_fails_like_the_runtime) {
    open();
    run([&]() -> asio::awaitable<void> {
        auto ec = co_await error_of(
            client_->call("session.send", js(R"({"sessionId":"nope","prompt":"1"})")));
        EXPECT_EQ(ec, copilot::make_rpc_error_code(copilot::rpc_code::internal_error));

        // Detaching forgets a session.
        co_await create_session("s-2");
        EXPECT_EQ(fake_->sessions(), std::vector<std::string>{"s-2"});
        auto detached = co_await client_->call("session.detach", js(R"({"sessionId":"s-2"})"));
        EXPECT_EQ(detached.at("success"), true);
        EXPECT_TRUE(fake_->sessions().empty());
        co_await finish();
    });
}

TEST_F(fake_runtime_test, abort_replies_success_and_ends_the_turn_with_aborted_idle) {
    open();
    run([&]() -> asio::awaitable<void> {
        co_await create_session("s-3");
        auto result = co_await client_->call("session.abort", js(R"({"sessionId":"s-3"})"));
        EXPECT_EQ(result.at("success"), true);
        co_await wait_for_idles(1);

        EXPECT_EQ(events_.back().at("data").at("aborted"), true);
        co_await finish();
    });
}

TEST_F(fake_runtime_test, runtime_to_client_call_round_trips) {
    open();
    client_->add_request_handler("providerToken.getToken",
                                 [](json::value params) -> asio::awaitable<json::value> {
                                     std::string name(params.at("providerName").as_string());
                                     co_return json::object{{"token", "tok-" + name}};
                                 });
    run([&]() -> asio::awaitable<void> {
        auto result = co_await fake_->call("providerToken.getToken",
                                           js(R"({"sessionId":"s","providerName":"alpha"})"));
        EXPECT_EQ(result.at("token"), "tok-alpha");

        // A method the client does not serve comes back as an error reply.
        auto ec = co_await error_of(fake_->call("hooks.invoke", json::object{}));
        EXPECT_EQ(ec, copilot::make_rpc_error_code(copilot::rpc_code::method_not_found));
        co_await finish();
    });
}

TEST_F(fake_runtime_test, scripted_handler_overrides_a_default_and_requests_are_logged) {
    open();
    fake_->on_request("ping", [](json::value) -> asio::awaitable<json::value> {
        co_return json::object{{"scripted", true}};
    });
    fake_->on_request("models.list", [](json::value) -> asio::awaitable<json::value> {
        throw copilot::error(copilot::make_rpc_error_code(-32603), "Not authenticated.");
        co_return nullptr;
    });
    run([&]() -> asio::awaitable<void> {
        auto pong = co_await client_->call("ping", js(R"({"message":"x"})"));
        EXPECT_EQ(pong.at("scripted"), true);
        try {
            co_await client_->call("models.list", json::object{});
            ADD_FAILURE() << "models.list succeeded";
        } catch (const copilot::error& e) {
            EXPECT_EQ(e.code(), copilot::make_rpc_error_code(-32603));
            EXPECT_EQ(std::string(e.what()).rfind("Not authenticated.", 0), 0u) << e.what();
        }

        auto log = fake_->requests();
        EXPECT_EQ(log.size(), 2u);
        auto pings = fake_->requests("ping");
        EXPECT_EQ(pings.size(), 1u);
        if (!pings.empty()) {
            EXPECT_EQ(pings[0].params, js(R"({"message":"x"})"));
        }
        co_await finish();
    });
}

TEST_F(fake_runtime_test, shutdown_replies_then_closes_the_stream) {
    open();
    run([&]() -> asio::awaitable<void> {
        auto result = co_await client_->call("runtime.shutdown", json::object{});
        EXPECT_TRUE(result.is_object());

        // The runtime ends the stream: the client sees end of stream without closing itself.
        co_await client_->wait_closed();
        EXPECT_EQ(client_->close_reason(), errc::transport_closed);
        co_await fake_->async_wait_closed();
    });
}

TEST_F(fake_runtime_test, close_stream_fault_fails_the_pending_call) {
    open();
    fake_->fail_next("session.create", fault::close_stream);
    run([&]() -> asio::awaitable<void> {
        auto ec = co_await error_of(create_session("s"));
        EXPECT_EQ(ec, errc::transport_closed);
        co_await client_->wait_closed();
        co_await fake_->async_wait_closed();
    });
}

TEST_F(fake_runtime_test, frame_faults_surface_as_named_client_errors) {
    open();
    fake_->fail_next("ping", fault::garbage_frame);
    fake_->fail_next("status.get", fault::too_deep_reply);
    fake_->fail_next("auth.getStatus", fault::bad_frame_header);
    run([&]() -> asio::awaitable<void> {
        // Garbage before the reply is dropped by the client; the reply still arrives.
        auto pong = co_await client_->call("ping", js(R"({"message":"a"})"));
        EXPECT_EQ(pong.at("message"), "pong: a");

        // A reply the client cannot decode fails only its call.
        EXPECT_EQ(co_await error_of(client_->call("status.get", json::object{})),
                  errc::json_too_deep);
        EXPECT_EQ((co_await client_->call("status.get", json::object{})).at("protocolVersion"), 3);

        // A broken header ends the connection.
        EXPECT_EQ(co_await error_of(client_->call("auth.getStatus", json::object{})),
                  errc::bad_frame_header);
        co_await client_->wait_closed();
        co_await fake_->async_wait_closed();
    });
}

TEST_F(fake_runtime_test, oversized_frame_fault_ends_the_connection) {
    open();
    fake_->fail_next("ping", fault::oversized_frame);
    run([&]() -> asio::awaitable<void> {
        EXPECT_EQ(co_await error_of(client_->call("ping", json::object{})), errc::frame_too_large);
        co_await client_->wait_closed();
        co_await fake_->async_wait_closed();
    });
}

TEST_F(fake_runtime_test, raw_bytes_reach_the_client_between_whole_frames) {
    open();
    std::vector<json::value> notes;
    client_->add_notification_handler("raw.note",
                                      [&notes](json::value params) { notes.push_back(params); });
    run([&]() -> asio::awaitable<void> {
        std::string body = R"({"jsonrpc":"2.0","method":"raw.note","params":{"n":1}})";
        fake_->write_raw("Content-Type: x\r\nContent-Length: " + std::to_string(body.size()) +
                         "\r\n\r\n" + body);
        auto pong = co_await client_->call("ping", js(R"({"message":"after"})"));
        EXPECT_EQ(pong.at("message"), "pong: after");

        // The raw frame was queued first, so the client handled it before the reply.
        EXPECT_EQ(notes, std::vector<json::value>{js(R"({"n":1})")});
        co_await finish();
    });
}

TEST_F(fake_runtime_test, send_event_builds_the_envelope_and_chains_persisted_events) {
    open();
    run([&]() -> asio::awaitable<void> {
        fake_->send_event("s-9", "user.message", js(R"({"content":"hello"})"));
        fake_->send_event("s-9", "assistant.message_delta", js(R"({"deltaContent":"x"})"), true);
        fake_->send_event("s-9", "session.idle", json::object{}, true);
        co_await wait_for_idles(1);

        EXPECT_EQ(events_.size(), 3u);
        if (events_.size() == 3) {
            EXPECT_TRUE(events_[0].at("parentId").is_null());
            EXPECT_EQ(events_[0].at("data").at("content"), "hello");
            EXPECT_EQ(events_[1].at("parentId"), events_[0].at("id"));
            EXPECT_EQ(events_[2].at("parentId"), events_[0].at("id"));
            EXPECT_EQ(events_[2].at("ephemeral"), true);
        }
        co_await finish();
    });
}

} // namespace
