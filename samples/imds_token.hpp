#pragma once

// Azure Managed Identity tokens from the Instance Metadata Service (IMDS), as a coroutine.
//
// The managed_identity sample and its end-to-end test share this header, so the test runs the
// very fetch the sample shows. Header-only; needs Boost.Beast and Boost.URL.
//
// The IMDS protocol: `GET /metadata/identity/oauth2/token?api-version=2018-02-01&resource=R`
// with the header `Metadata: true` (IMDS refuses requests without it, which keeps
// server-side request forgery out). The reply is JSON with `access_token` and `expires_on`,
// seconds since the epoch as a string.

#include <copilot/provider.hpp>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>
#include <boost/url.hpp>

#include <chrono>
#include <optional>
#include <stdexcept>
#include <string>

namespace imds {

/// Where and what to ask.
struct options {
    /// The IMDS base URL; Azure VMs and containers reach it at this link-local address.
    std::string endpoint = "http://169.254.169.254";
    /// The audience of the token (Azure OpenAI and AI Foundry use this one).
    std::string resource = "https://cognitiveservices.azure.com";
    /// The client id of a user-assigned identity; unset: the system-assigned identity.
    std::optional<std::string> client_id;
    /// Deadline of the whole exchange.
    std::chrono::seconds timeout{10};
};

namespace detail {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
namespace json = boost::json;

// The request target, with the query encoded properly (the resource is itself a URL).
inline std::string token_target(const options& opts) {
    boost::urls::url target("/metadata/identity/oauth2/token");
    target.params().append({"api-version", "2018-02-01"});
    target.params().append({"resource", opts.resource});
    if (opts.client_id)
        target.params().append({"client_id", *opts.client_id});
    return std::string(target.buffer());
}

// `expires_on` is a string of seconds since the epoch; accept a number as well.
inline std::optional<std::chrono::system_clock::time_point> expiry_of(const json::object& reply) {
    const auto* value = reply.if_contains("expires_on");
    if (!value)
        return std::nullopt;

    long long seconds = 0;
    if (value->is_string())
        seconds = std::stoll(std::string(value->get_string()));
    else if (value->is_int64())
        seconds = value->get_int64();
    else
        return std::nullopt;
    return std::chrono::system_clock::time_point{} + std::chrono::seconds(seconds);
}

// A short reason for a refusal. Only the documented error fields are quoted, never the
// whole body.
inline std::string refusal(const http::response<http::string_body>& response) {
    std::string reason = "IMDS answered HTTP " + std::to_string(response.result_int());
    boost::system::error_code ec;
    auto body = json::parse(response.body(), ec);
    if (ec || !body.is_object())
        return reason;
    for (const char* field : {"error", "error_description"}) {
        if (const auto* text = body.get_object().if_contains(field); text && text->is_string())
            reason += std::string(": ") + text->get_string().c_str();
    }
    return reason;
}

inline copilot::bearer_token parse_token(const http::response<http::string_body>& response) {
    if (response.result() != http::status::ok)
        throw std::runtime_error(refusal(response));

    boost::system::error_code ec;
    auto body = json::parse(response.body(), ec);
    if (ec || !body.is_object())
        throw std::runtime_error("IMDS reply is not a JSON object");
    const auto& reply = body.get_object();
    const auto* token = reply.if_contains("access_token");
    if (!token || !token->is_string() || token->get_string().empty())
        throw std::runtime_error("IMDS reply has no access_token");

    copilot::bearer_token result;
    result.token = std::string(token->get_string());
    result.expires_at = expiry_of(reply);
    return result;
}

} // namespace detail

/// Fetches a token for `opts.resource` from IMDS. Throws on any failure, with a message that
/// never contains a token.
inline boost::asio::awaitable<copilot::bearer_token> fetch_token(options opts) {
    namespace asio = detail::asio;
    namespace beast = detail::beast;
    namespace http = detail::http;

    boost::urls::url_view base(opts.endpoint);
    std::string host(base.host());
    std::string port = base.has_port() ? std::string(base.port()) : "80";

    auto executor = co_await asio::this_coro::executor;
    asio::ip::tcp::resolver resolver(executor);
    auto endpoints = co_await resolver.async_resolve(host, port, asio::use_awaitable);

    beast::tcp_stream stream(executor);
    stream.expires_after(opts.timeout);
    co_await stream.async_connect(endpoints, asio::use_awaitable);

    http::request<http::empty_body> request(http::verb::get, detail::token_target(opts), 11);
    request.set(http::field::host, host);
    request.set("Metadata", "true");
    co_await http::async_write(stream, request, asio::use_awaitable);

    beast::flat_buffer buffer;
    http::response<http::string_body> response;
    co_await http::async_read(stream, buffer, response, asio::use_awaitable);

    boost::system::error_code ignored;
    stream.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
    co_return detail::parse_token(response);
}

/// A token callback that asks IMDS on every call; wrap it in `copilot::caching_token_provider`
/// so a token is reused until it nears its expiry.
inline copilot::bearer_token_provider token_provider(options opts) {
    return [opts = std::move(opts)](copilot::provider_token_args) {
        return fetch_token(opts);
    };
}

} // namespace imds
