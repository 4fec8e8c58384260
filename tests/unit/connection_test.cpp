// The JSON-RPC connection against a scripted peer that reads and writes raw frames.

#include "support/peer.hpp"

#include <copilot/error.hpp>
#include <copilot/jsonrpc/connection.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <gtest/gtest.h>
#include <spdlog/logger.h>
#include <spdlog/sinks/ostream_sink.h>

#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

namespace asio = copilot::asio;
namespace json = copilot::json;

using namespace asio::experimental::awaitable_operators;
using namespace std::chrono_literals;
using copilot::errc;
using copilot::jsonrpc::connection;
using copilot::test::error_of;

using body_fn = std::function<asio::awaitable<void>()>;

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

// JSON from text. Tests use it instead of braced lists inside co_await expressions, which
// GCC 12 miscompiles ("array used as initializer").
json::value js(std::string_view text) {
    return json::parse(text);
}

copilot::jsonrpc::connection_options with_max_frame(std::size_t size) {
    copilot::jsonrpc::connection_options options;
    options.max_frame_size = size;
    return options;
}

copilot::jsonrpc::connection_options with_max_depth(unsigned depth) {
    copilot::jsonrpc::connection_options options;
    options.max_json_depth = depth;
    return options;
}

copilot::jsonrpc::connection_options with_logger(std::shared_ptr<spdlog::logger> logger) {
    copilot::jsonrpc::connection_options options;
    options.logger = std::move(logger);
    return options;
}

// The error object of a reply, or a failure when the reply is a success.
json::object error_of_reply(const json::object& reply) {
    auto* error = reply.if_contains("error");
    if (!error || !error->is_object()) {
        ADD_FAILURE() << "expected an error reply, got " << json::serialize(reply);
        return {};
    }
    return error->as_object();
}

// The error code an operation failed with; empty when it succeeded.
boost::system::error_code code_of(std::exception_ptr ep) {
    try {
        if (ep)
            std::rethrow_exception(ep);
    } catch (const boost::system::system_error& e) {
        return e.code();
    }
    return {};
}

std::shared_ptr<spdlog::logger> logger_into(std::ostringstream& text, spdlog::level::level_enum l) {
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(text);
    auto logger = std::make_shared<spdlog::logger>("connection_test", sink);
    logger->set_level(l);
    return logger;
}

class connection_test : public ::testing::Test {
protected:
    // Declared first so that it outlives the connection and the sockets bound to it.
    asio::io_context io_;
    copilot::test::peer_link link_;

    void open(copilot::jsonrpc::connection_options options = {}) {
        link_ = copilot::test::make_peer_link(io_, std::move(options));
    }

    connection& conn() { return *link_.connection; }
    copilot::test::peer& peer() { return *link_.remote; }

    void run(body_fn body) {
        link_.connection->start();
        copilot::test::run_until_done(io_, conn().get_executor(), std::move(body));
    }

    // Ends a test the way a runtime exit does: the peer goes away, the connection winds down.
    asio::awaitable<void> finish() {
        peer().close();
        co_await conn().wait_closed();
        EXPECT_EQ(conn().active_handlers(), 0u);
    }

    // Writes `bytes` once a pending call's request arrived; the call must fail and the
    // connection close, both with `expected`.
    void expect_stream_fault(std::string bytes, errc expected) {
        run([&]() -> asio::awaitable<void> {
            auto script = [&]() -> asio::awaitable<void> {
                co_await peer().read();
                co_await peer().write_raw(bytes);
            };
            auto ec = co_await (error_of(conn().call("pending", {})) && script());
            EXPECT_EQ(ec, expected);

            co_await conn().wait_closed();
            EXPECT_EQ(conn().close_reason(), expected);
            EXPECT_TRUE((co_await peer().read_until_eof()).empty());
        });
    }
};

TEST_F(connection_test, replies_out_of_order_reach_their_callers) {
    open();
    run([&]() -> asio::awaitable<void> {
        auto script = [&]() -> asio::awaitable<void> {
            std::vector<json::object> requests;
            for (int i = 0; i < 3; ++i)
                requests.push_back(co_await peer().read());
            for (auto it = requests.rbegin(); it != requests.rend(); ++it) {
                json::object result{{"echo", it->at("params").at("n")}};
                co_await peer().reply(it->at("id"), result);
            }
        };

        // A void branch first: `&&` then yields a plain tuple of the three results.
        auto [a, b, c] =
            co_await (script() && conn().call("m", js(R"({"n":1})")) &&
                      conn().call("m", js(R"({"n":2})")) && conn().call("m", js(R"({"n":3})")));
        EXPECT_EQ(a.at("echo"), 1);
        EXPECT_EQ(b.at("echo"), 2);
        EXPECT_EQ(c.at("echo"), 3);
        co_await finish();
    });
}

TEST_F(connection_test, inbound_requests_are_served_while_an_outbound_call_waits) {
    open();
    conn().add_request_handler("double", [](json::value params) -> asio::awaitable<json::value> {
        co_return params.at("n").to_number<std::int64_t>() * 2;
    });
    run([&]() -> asio::awaitable<void> {
        auto script = [&]() -> asio::awaitable<void> {
            auto outbound = co_await peer().read();
            co_await peer().request(1, "double", js(R"({"n":5})"));
            co_await peer().request("two", "double", js(R"({"n":7})"));

            // Both are answered before the outbound call is; the string id comes back as is.
            std::map<std::string, json::value> results;
            for (int i = 0; i < 2; ++i) {
                auto reply = co_await peer().read();
                results[json::serialize(reply.at("id"))] = reply.at("result");
            }
            EXPECT_EQ(results["1"], 10);
            EXPECT_EQ(results["\"two\""], 14);
            co_await peer().reply(outbound.at("id"), "outer done");
        };

        auto result = co_await (conn().call("outer", {}) && script());
        EXPECT_EQ(result, "outer done");
        co_await finish();
    });
}

TEST_F(connection_test, slow_handler_does_not_hold_back_a_later_request) {
    open();
    asio::steady_timer gate(conn().get_executor(), asio::steady_timer::time_point::max());
    conn().add_request_handler("slow", [&gate](json::value) -> asio::awaitable<json::value> {
        co_await gate.async_wait(use_tuple);
        co_return "slow";
    });
    conn().add_request_handler(
        "fast", [](json::value) -> asio::awaitable<json::value> { co_return "fast"; });
    run([&]() -> asio::awaitable<void> {
        co_await peer().request(1, "slow", {});
        co_await peer().request(2, "fast", {});

        auto first = co_await peer().read();
        EXPECT_EQ(first.at("id"), 2);
        EXPECT_EQ(first.at("result"), "fast");
        EXPECT_EQ(conn().active_handlers(), 1u);

        // Opening the gate lets the slow handler finish.
        gate.cancel();
        auto second = co_await peer().read();
        EXPECT_EQ(second.at("id"), 1);
        EXPECT_EQ(second.at("result"), "slow");
        co_await finish();
    });
}

TEST_F(connection_test, handler_exception_becomes_internal_error_with_its_message) {
    open();
    conn().add_request_handler("boom", [](json::value) -> asio::awaitable<json::value> {
        throw std::runtime_error("the handler broke");
        co_return nullptr;
    });
    run([&]() -> asio::awaitable<void> {
        co_await peer().request(1, "boom", {});
        auto error = error_of_reply(co_await peer().read());
        EXPECT_EQ(error.at("code"), copilot::rpc_code::internal_error);
        EXPECT_EQ(error.at("message"), "the handler broke");
        co_await finish();
    });
}

TEST_F(connection_test, handler_rpc_error_keeps_its_code_and_message) {
    open();
    conn().add_request_handler("guarded", [](json::value) -> asio::awaitable<json::value> {
        throw copilot::error(copilot::make_rpc_error_code(-32001), "AUTHENTICATION_REQUIRED");
        co_return nullptr;
    });
    run([&]() -> asio::awaitable<void> {
        co_await peer().request(4, "guarded", {});
        auto reply = co_await peer().read();
        EXPECT_EQ(reply.at("id"), 4);
        auto error = error_of_reply(reply);
        EXPECT_EQ(error.at("code"), -32001);
        EXPECT_EQ(error.at("message"), "AUTHENTICATION_REQUIRED");
        co_await finish();
    });
}

TEST_F(connection_test, unknown_method_gets_method_not_found) {
    open();
    run([&]() -> asio::awaitable<void> {
        co_await peer().request(3, "no.such.method", {});
        auto reply = co_await peer().read();
        EXPECT_EQ(reply.at("id"), 3);
        auto error = error_of_reply(reply);
        EXPECT_EQ(error.at("code"), copilot::rpc_code::method_not_found);
        EXPECT_EQ(error.at("message"), "Unhandled method no.such.method");
        co_await finish();
    });
}

TEST_F(connection_test, notifications_are_dispatched_in_arrival_order) {
    open();
    std::vector<std::int64_t> seen;
    conn().add_notification_handler(
        "tick", [&seen](json::value params) { seen.push_back(params.at("n").as_int64()); });
    run([&]() -> asio::awaitable<void> {
        for (int n = 0; n < 100; ++n)
            co_await peer().notify("tick", js(R"({"n":)" + std::to_string(n) + "}"));
        co_await peer().notify("unhandled.notification", {});
        co_await peer().barrier();

        EXPECT_EQ(seen.size(), 100u);
        for (std::size_t i = 0; i < seen.size(); ++i)
            EXPECT_EQ(seen[i], static_cast<std::int64_t>(i));
        co_await finish();
    });
}

TEST_F(connection_test, batch_is_rejected_with_invalid_request_and_null_id) {
    open();
    int handled = 0;
    conn().add_request_handler("count", [&](json::value) -> asio::awaitable<json::value> {
        ++handled;
        co_return nullptr;
    });
    run([&]() -> asio::awaitable<void> {
        co_await peer().write_body(R"([{"jsonrpc":"2.0","id":1,"method":"count"}])");
        auto reply = co_await peer().read();
        EXPECT_TRUE(reply.at("id").is_null());
        EXPECT_EQ(error_of_reply(reply).at("code"), copilot::rpc_code::invalid_request);
        EXPECT_EQ(handled, 0);
        co_await finish();
    });
}

TEST_F(connection_test, cancelled_call_fails_and_its_late_reply_is_dropped) {
    std::ostringstream log;
    open(with_logger(logger_into(log, spdlog::level::warn)));
    run([&]() -> asio::awaitable<void> {
        asio::cancellation_signal signal;
        asio::steady_timer done(conn().get_executor(), asio::steady_timer::time_point::max());
        std::optional<std::exception_ptr> outcome;
        conn().async_call(
            "slow.call", {}, {},
            asio::bind_cancellation_slot(signal.slot(), [&](std::exception_ptr ep, json::value) {
                outcome = ep;
                done.cancel();
            }));

        // The request is on the wire before the caller gives up.
        auto request = co_await peer().read();
        signal.emit(asio::cancellation_type::terminal);
        if (!outcome)
            co_await done.async_wait(use_tuple);
        EXPECT_EQ(code_of(*outcome), errc::cancelled);

        // The late reply is dropped, and the next call gets its own reply.
        co_await peer().reply(request.at("id"), "late");
        auto script = [&]() -> asio::awaitable<void> {
            auto next = co_await peer().read();
            EXPECT_NE(next.at("id"), request.at("id"));
            co_await peer().reply(next.at("id"), "fresh");
        };
        EXPECT_EQ(co_await (conn().call("next", {}) && script()), "fresh");
        EXPECT_NE(log.str().find("abandoned"), std::string::npos) << log.str();
        co_await finish();
    });
}

TEST_F(connection_test, call_past_its_timeout_fails_with_timeout) {
    open();
    run([&]() -> asio::awaitable<void> {
        auto [ec, request] = co_await (error_of(conn().call("slow", {}, 20ms)) && peer().read());
        EXPECT_EQ(ec, errc::timeout);

        co_await peer().reply(request.at("id"), "too late");
        auto script = [&]() -> asio::awaitable<void> {
            auto next = co_await peer().read();
            co_await peer().reply(next.at("id"), "in time");
        };
        EXPECT_EQ(co_await (conn().call("next", {}, 10s) && script()), "in time");
        co_await finish();
    });
}

TEST_F(connection_test, peer_closing_mid_call_fails_every_pending_call) {
    open();
    run([&]() -> asio::awaitable<void> {
        auto script = [&]() -> asio::awaitable<void> {
            co_await peer().read();
            co_await peer().read();
            peer().close();
        };
        auto [a, b] =
            co_await (script() && error_of(conn().call("a", {})) && error_of(conn().call("b", {})));
        EXPECT_EQ(a, errc::transport_closed);
        EXPECT_EQ(b, errc::transport_closed);

        co_await conn().wait_closed();
        EXPECT_FALSE(conn().is_open());
        EXPECT_EQ(conn().close_reason(), errc::transport_closed);
        EXPECT_EQ(co_await error_of(conn().call("after", {})), errc::transport_closed);
    });
}

TEST_F(connection_test, oversized_frame_fails_pending_calls_with_frame_too_large) {
    open(with_max_frame(1024));
    expect_stream_fault("Content-Length: 4096\r\n\r\n{", errc::frame_too_large);
}

TEST_F(connection_test, bad_header_fails_pending_calls_with_bad_frame_header) {
    open();
    expect_stream_fault("Content-Length: twelve\r\n\r\n{}", errc::bad_frame_header);
}

TEST_F(connection_test, invalid_json_reply_fails_only_its_call) {
    open();
    run([&]() -> asio::awaitable<void> {
        auto broken = [&]() -> asio::awaitable<void> {
            auto request = co_await peer().read();
            auto id = json::serialize(request.at("id"));
            co_await peer().write_body(R"({"jsonrpc":"2.0","id":)" + id + R"(,"result":{"a":)");
        };
        EXPECT_EQ(co_await (error_of(conn().call("a", {})) && broken()), errc::invalid_json);

        auto healthy = [&]() -> asio::awaitable<void> {
            auto request = co_await peer().read();
            co_await peer().reply(request.at("id"), "b ok");
        };
        EXPECT_EQ(co_await (conn().call("b", {}) && healthy()), "b ok");
        EXPECT_TRUE(conn().is_open());
        co_await finish();
    });
}

TEST_F(connection_test, invalid_json_request_gets_parse_error) {
    open();
    run([&]() -> asio::awaitable<void> {
        co_await peer().write_body(R"({"jsonrpc":"2.0","id":9,"method":"x","params":{"a":})");
        auto reply = co_await peer().read();
        EXPECT_EQ(reply.at("id"), 9);
        EXPECT_EQ(error_of_reply(reply).at("code"), copilot::rpc_code::parse_error);

        // The stream is still in sync after the bad body.
        co_await peer().barrier();
        co_await finish();
    });
}

TEST_F(connection_test, lone_surrogate_is_repaired_and_valid_pairs_are_kept) {
    open();
    std::optional<json::value> received;
    conn().add_notification_handler("text", [&](json::value params) { received = params; });
    run([&]() -> asio::awaitable<void> {
        co_await peer().write_body(R"({"jsonrpc":"2.0","method":"text","params":{)"
                                   R"("lone":"a\ud800b","pair":"\ud83d\ude00",)"
                                   R"("literal":"\\ud800"}})");
        co_await peer().barrier();

        EXPECT_TRUE(received.has_value());
        if (received) {
            EXPECT_EQ(received->at("lone"), "a\xEF\xBF\xBD"
                                            "b");
            EXPECT_EQ(received->at("pair"), "\xF0\x9F\x98\x80");
            EXPECT_EQ(received->at("literal"), "\\ud800");
        }
        co_await finish();
    });
}

// `[[[...]]]` nested `depth` levels.
std::string nested_arrays(int depth) {
    return std::string(depth, '[') + std::string(depth, ']');
}

TEST_F(connection_test, json_deeper_than_the_limit_is_refused_by_kind) {
    open(with_max_depth(8));
    int notes = 0;
    conn().add_notification_handler("note", [&notes](json::value) { ++notes; });
    run([&]() -> asio::awaitable<void> {
        auto deep = nested_arrays(20);

        // A request gets a parse error reply with its id.
        co_await peer().write_body(R"({"jsonrpc":"2.0","id":5,"method":"x","params":)" + deep +
                                   "}");
        auto reply = co_await peer().read();
        EXPECT_EQ(reply.at("id"), 5);
        EXPECT_EQ(error_of_reply(reply).at("code"), copilot::rpc_code::parse_error);

        // A notification cannot be told from a request without parsing it, so it gets the
        // parse error JSON-RPC prescribes for unreadable messages: id null. It is not handled.
        co_await peer().write_body(R"({"jsonrpc":"2.0","method":"note","params":)" + deep + "}");
        auto unreadable = co_await peer().read();
        EXPECT_TRUE(unreadable.at("id").is_null());
        EXPECT_EQ(error_of_reply(unreadable).at("code"), copilot::rpc_code::parse_error);
        co_await peer().barrier();
        EXPECT_EQ(notes, 0);

        // A reply fails its call with json_too_deep.
        auto deep_reply = [&]() -> asio::awaitable<void> {
            auto request = co_await peer().read();
            auto id = json::serialize(request.at("id"));
            co_await peer().write_body(R"({"jsonrpc":"2.0","id":)" + id + R"(,"result":)" + deep +
                                       "}");
        };
        EXPECT_EQ(co_await (error_of(conn().call("q", {})) && deep_reply()), errc::json_too_deep);

        // A body within the limit still passes.
        co_await peer().notify("note", json::parse(nested_arrays(5)));
        co_await peer().barrier();
        EXPECT_EQ(notes, 1);
        co_await finish();
    });
}

TEST_F(connection_test, close_cancels_running_handlers_and_waits_for_them) {
    open();
    bool saw_cancellation = false;
    conn().add_request_handler("forever", [&](json::value) -> asio::awaitable<json::value> {
        asio::steady_timer never(co_await asio::this_coro::executor,
                                 asio::steady_timer::time_point::max());
        auto [ec] = co_await never.async_wait(use_tuple);
        saw_cancellation = ec == asio::error::operation_aborted;
        throw boost::system::system_error(ec);
    });
    run([&]() -> asio::awaitable<void> {
        co_await peer().request(1, "forever", {});
        co_await peer().request(2, "forever", {});
        co_await peer().barrier();
        EXPECT_EQ(conn().active_handlers(), 2u);

        conn().close();
        co_await conn().wait_closed();
        EXPECT_TRUE(saw_cancellation);
        EXPECT_EQ(conn().active_handlers(), 0u);

        // No reply follows a close: the stream ends without another frame.
        EXPECT_TRUE((co_await peer().read_until_eof()).empty());
    });
}

TEST_F(connection_test, handler_that_closes_the_connection_still_finishes) {
    open();
    conn().add_request_handler("quit", [this](json::value) -> asio::awaitable<json::value> {
        // Closing cancels every running handler, this one included, before it returns.
        conn().close();
        co_return "bye";
    });
    run([&]() -> asio::awaitable<void> {
        co_await peer().request(1, "quit", {});
        co_await conn().wait_closed();
        EXPECT_EQ(conn().active_handlers(), 0u);
        EXPECT_TRUE((co_await peer().read_until_eof()).empty());
    });
}

TEST_F(connection_test, notifications_queued_together_arrive_whole_and_in_order) {
    open();
    constexpr int count = 300;
    run([&]() -> asio::awaitable<void> {
        // Queued in one strand turn, so the writer sends them as one batch.
        for (int i = 0; i < count; ++i) {
            auto size = static_cast<std::size_t>((i * 397) % 9000);
            json::object params{{"seq", i}, {"pad", std::string(size, 'x')}};
            conn().notify("burst", std::move(params));
        }

        for (int i = 0; i < count; ++i) {
            auto message = co_await peer().read();
            auto& params = message.at("params").as_object();
            EXPECT_EQ(params.at("seq"), i);
            EXPECT_EQ(params.at("pad").as_string().size(),
                      static_cast<std::size_t>((i * 397) % 9000));
        }
        co_await finish();
    });
}

TEST_F(connection_test, trace_log_shows_methods_but_never_secrets) {
    std::ostringstream log;
    open(with_logger(logger_into(log, spdlog::level::trace)));
    conn().add_request_handler("auth.check", [](json::value) -> asio::awaitable<json::value> {
        co_return json::object{{"ok", true}, {"bearerToken", "r3ply-secret"}};
    });
    run([&]() -> asio::awaitable<void> {
        co_await peer().request(1, "auth.check",
                                js(R"({"token":"s3cret","apiKey":"k3y-value",)"
                                   R"("headers":{"Authorization":"Bearer x"}})"));
        auto reply = co_await peer().read();
        EXPECT_EQ(reply.at("result").at("bearerToken"), "r3ply-secret");

        // A secret in a reply the runtime sends reaches the caller, not the log.
        auto token_reply = [&]() -> asio::awaitable<void> {
            auto request = co_await peer().read();
            co_await peer().reply(request.at("id"), js(R"({"token":"t0ken-value"})"));
        };
        auto result =
            co_await (conn().call("providerToken.getToken", js(R"({"providerName":"default"})")) &&
                      token_reply());
        EXPECT_EQ(result.at("token"), "t0ken-value");
        co_await finish();
    });

    auto text = log.str();
    EXPECT_NE(text.find("auth.check"), std::string::npos) << text;
    EXPECT_NE(text.find("providerToken.getToken"), std::string::npos) << text;
    EXPECT_NE(text.find("<redacted>"), std::string::npos) << text;
    for (auto secret : {"s3cret", "k3y-value", "Bearer x", "r3ply-secret", "t0ken-value"})
        EXPECT_EQ(text.find(secret), std::string::npos) << secret << " leaked: " << text;
}

} // namespace
