#include "support/session_fixture.hpp"

#include "support/peer.hpp"

#include <copilot/jsonrpc/byte_stream.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace copilot::test {

json::value js(std::string_view text) {
    return json::parse(text);
}

json::value for_session(const session& s, std::string_view fields) {
    auto params = js(fields);
    params.as_object()["sessionId"] = s.id();
    return params;
}

json::object shell_prompt(std::string request_id, bool resolved_by_hook) {
    json::object data;
    data["requestId"] = std::move(request_id);
    data["permissionRequest"] =
        js(R"({"kind":"shell","toolCallId":"call-7","fullCommandText":"ls"})");
    data["permissionMode"] = "default";
    if (resolved_by_hook)
        data["resolvedByHook"] = true;
    return data;
}

json::value pre_tool_use(const session& s, std::string hook_type) {
    auto input = js(R"({"timestamp":1700000000000,"cwd":"/tmp","toolName":"shell",
                        "toolArgs":{"command":"rm -rf /"}})");
    input.as_object()["sessionId"] = s.id();
    json::object params;
    params["sessionId"] = s.id();
    params["hookType"] = std::move(hook_type);
    params["input"] = std::move(input);
    return params;
}

void session_fixture::run(std::function<asio::awaitable<void>()> body) {
    asio::ip::tcp::acceptor acceptor(io_, {asio::ip::address_v4::loopback(), 0});

    client_options options;
    options.transport = transport_kind::external;
    options.server_url = "127.0.0.1:" + std::to_string(acceptor.local_endpoint().port());
    client_ = std::make_unique<client>(io_.get_executor(), std::move(options));

    run_until_done(io_, io_.get_executor(), [&]() -> asio::awaitable<void> {
        // The fake appears once the client connects; `connect` waits in the socket until then.
        asio::co_spawn(io_, accept(acceptor), [](std::exception_ptr ep) {
            if (ep)
                ADD_FAILURE() << "accepting the client failed";
        });
        co_await client_->async_start();

        co_await body();

        co_await client_->async_stop();
        co_await fake_->async_wait_closed(asio::use_awaitable);
    });
}

asio::awaitable<void> session_fixture::accept(asio::ip::tcp::acceptor& acceptor) {
    auto socket = co_await acceptor.async_accept(asio::use_awaitable);
    acceptor.close();

    using stream = jsonrpc::duplex_stream<asio::ip::tcp::socket>;
    fake_ = std::make_unique<testing::fake_runtime>(io_.get_executor(),
                                                    std::make_unique<stream>(std::move(socket)));
    answer_pending_replies();
}

void session_fixture::answer_pending_replies() {
    // The runtime accepts the first answer to a pending request; the fake just records them.
    for (const char* method : {"session.tools.handlePendingToolCall",
                               "session.permissions.handlePendingPermissionRequest",
                               "session.ui.handlePendingElicitation"}) {
        fake_->on_request(method, [](json::value) -> asio::awaitable<json::value> {
            json::object result;
            result["success"] = true;
            co_return result;
        });
    }
}

asio::awaitable<session> session_fixture::create(session_config config) {
    co_return co_await client_->async_create_session(std::move(config));
}

asio::awaitable<session> session_fixture::create() {
    // A named config: braced temporaries passed to coroutines are mis-built by GCC 12.
    session_config config;
    co_return co_await create(std::move(config));
}

asio::awaitable<std::vector<testing::received_request>>
session_fixture::wait_for(std::string method, std::size_t count) {
    co_await wait_until([&] { return fake_->requests(method).size() >= count; });
    co_return fake_->requests(method);
}

asio::awaitable<void> session_fixture::wait_until(std::function<bool()> done) {
    asio::steady_timer pause(co_await asio::this_coro::executor);
    while (!done()) {
        pause.expires_after(std::chrono::milliseconds(2));
        co_await pause.async_wait(asio::use_awaitable);
    }
}

json::object session_fixture::params_of(std::string_view method, std::size_t index) const {
    auto requests = fake_->requests(method);
    if (index >= requests.size() || !requests[index].params.is_object()) {
        ADD_FAILURE() << "no request " << index << " named " << method;
        return {};
    }
    return requests[index].params.get_object();
}

void session_fixture::send_event(const session& s, std::string type, std::string_view data) {
    fake_->send_event(s.id(), std::move(type), js(data));
}

void session_fixture::send_event(const session& s, std::string type, json::object data) {
    fake_->send_event(s.id(), std::move(type), std::move(data));
}

} // namespace copilot::test
