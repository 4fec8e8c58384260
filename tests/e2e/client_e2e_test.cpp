// The client against the real pinned runtime: start, handshake, calls, stop, and a crash.

#include "support/e2e_env.hpp"

#include <copilot/client.hpp>
#include <copilot/testing/model_server.hpp>

#include <boost/asio/ip/tcp.hpp>

#include <csignal>

namespace copilot::test {
namespace {

using boost::asio::use_future;

class client_e2e : public e2e_test {};

unsigned short free_port() {
    boost::asio::io_context io;
    boost::asio::ip::tcp::acceptor acceptor(io, {boost::asio::ip::address_v4::loopback(), 0});
    return acceptor.local_endpoint().port();
}

TEST_F(client_e2e, starts_over_stdio_reports_version_and_stops_without_a_child) {
    copilot::client client(io.get_executor(), options());
    wait(client.async_start(use_future));

    EXPECT_EQ(client.state(), connection_state::connected);
    EXPECT_EQ(client.info().version, "1.0.102");
    EXPECT_EQ(client.info().protocol_version, 3);

    auto pong = wait(client.async_ping("e2e", use_future));
    EXPECT_EQ(pong.message, "pong: e2e");
    EXPECT_EQ(pong.protocol_version, 3);
    EXPECT_EQ(pong.timestamp.substr(0, 2), "20") << pong.timestamp;

    auto status = wait(client.async_get_status(use_future));
    EXPECT_EQ(status.version, "1.0.102");
    EXPECT_EQ(status.protocol_version, 3);

    auto auth = wait(client.async_get_auth_status(use_future));
    EXPECT_FALSE(auth.is_authenticated);

    auto pid = client.runtime_pid();
    ASSERT_TRUE(pid);
    EXPECT_TRUE(process_exists(*pid));

    wait(client.async_stop(use_future));
    EXPECT_EQ(client.state(), connection_state::disconnected);
    EXPECT_FALSE(process_exists(*pid)) << "the runtime was not reaped";
    EXPECT_FALSE(client.runtime_pid());
}

TEST_F(client_e2e, starts_over_tcp_with_a_connection_token) {
    auto opts = options();
    opts.transport = transport_kind::tcp;
    copilot::client client(io.get_executor(), opts);
    wait(client.async_start(use_future));

    auto pong = wait(client.async_ping("tcp", use_future));
    EXPECT_EQ(pong.message, "pong: tcp");
    auto pid = client.runtime_pid();
    ASSERT_TRUE(pid);

    wait(client.async_stop(use_future));
    EXPECT_FALSE(process_exists(*pid));
}

TEST_F(client_e2e, external_server_with_a_wrong_token_is_rejected_and_the_right_one_works) {
    auto port = free_port();
    auto server_options = options();
    server_options.transport = transport_kind::tcp;
    server_options.port = port;
    server_options.connection_token = "the-right-token";
    copilot::client server(io.get_executor(), server_options);
    wait(server.async_start(use_future));

    client_options wrong;
    wrong.transport = transport_kind::external;
    wrong.server_url = "http://127.0.0.1:" + std::to_string(port);
    wrong.connection_token = "a-wrong-token";
    copilot::client intruder(io.get_executor(), wrong);
    expect_error(intruder.async_start(use_future), make_error_code(errc::authentication_failed));
    EXPECT_EQ(intruder.state(), connection_state::disconnected);

    auto right = wrong;
    right.server_url = "127.0.0.1:" + std::to_string(port);
    right.connection_token = "the-right-token";
    copilot::client guest(io.get_executor(), right);
    wait(guest.async_start(use_future));
    EXPECT_EQ(wait(guest.async_ping("guest", use_future)).message, "pong: guest");
    wait(guest.async_stop(use_future));

    wait(server.async_stop(use_future));
}

TEST_F(client_e2e, a_killed_runtime_fails_the_pending_call_promptly) {
    // A model that never answers in time keeps `session.send {wait:true}` pending.
    copilot::testing::model_server model(io.get_executor());
    model.set_handler([](const copilot::testing::recorded_request&) {
        return copilot::testing::scripted_reply::text("late").after(std::chrono::minutes(5));
    });
    model.start();

    copilot::client client(io.get_executor(), options());
    wait(client.async_start(use_future));

    json::object create{
        {"sessionId", "5f0c1d9e-6a4b-4c8e-9d3f-2a7b8c9d0e1f"},
        {"model", "gpt-4o"},
        {"provider",
         {{"type", "openai"}, {"baseUrl", model.base_url()}, {"bearerToken", "static-token"}}},
        {"requestPermission", false}};
    wait(client.async_call("session.create", create, use_future));

    json::object send{{"sessionId", create["sessionId"]}, {"prompt", "hi"}, {"wait", true}};
    auto pending = client.async_call("session.send", send, use_future);
    while (model.requests().empty())
        std::this_thread::sleep_for(std::chrono::milliseconds(20));

    auto pid = client.runtime_pid();
    ASSERT_TRUE(pid);
    ::kill(*pid, SIGKILL);

    auto message = expect_error(std::move(pending), make_error_code(errc::transport_closed));
    EXPECT_NE(message.find("runtime"), std::string::npos) << message;
    EXPECT_EQ(client.state(), connection_state::disconnected);
    expect_error(client.async_ping("after", use_future), make_error_code(errc::transport_closed));

    wait(client.async_stop(use_future));
    EXPECT_FALSE(process_exists(*pid));
    model.stop();
}

TEST_F(client_e2e, a_missing_runtime_names_every_place_searched) {
    auto opts = options();
    opts.cli_path = (work.path() / "no-such-copilot").string();
    copilot::client client(io.get_executor(), opts);
    auto message =
        expect_error(client.async_start(use_future), make_error_code(errc::runtime_not_found));
    for (auto place : {"no-such-copilot", "COPILOT_CLI_PATH", "project's copy", "on PATH"})
        EXPECT_NE(message.find(place), std::string::npos) << place << " missing in: " << message;
}

} // namespace
} // namespace copilot::test
