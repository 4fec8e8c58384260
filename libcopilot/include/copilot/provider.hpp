#pragma once

/// @file
/// BYOK model providers and the bearer-token callback.

#include <copilot/detail/config.hpp>

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

namespace copilot {

/// A bearer token and, when known, when it stops being valid.
struct bearer_token {
    /// The raw token, without a `Bearer ` prefix.
    std::string token;
    /// Expiry; used by `caching_token_provider`, ignored by the runtime.
    std::optional<std::chrono::system_clock::time_point> expires_at;
};

/// Who is asking for a token.
struct provider_token_args {
    /// "default" for the session's single `provider`, else a named provider's `name`.
    std::string provider_name;
    std::string session_id;
};

/// The bearer-token callback: a coroutine, so it can `co_await` an identity fetch.
///
/// The runtime asks once per outbound model request (retries included) and caches nothing;
/// wrap the callback in `caching_token_provider` to reuse tokens until they expire.
using bearer_token_provider = std::function<asio::awaitable<bearer_token>(provider_token_args)>;

namespace detail {

template <class F>
asio::awaitable<bearer_token> call_token_source(F f, provider_token_args args) {
    using result = std::invoke_result_t<F&, provider_token_args>;
    if constexpr (std::is_same_v<result, asio::awaitable<bearer_token>>)
        co_return co_await f(std::move(args));
    else if constexpr (std::is_same_v<result, asio::awaitable<std::string>>)
        co_return bearer_token{co_await f(std::move(args)), std::nullopt};
    else if constexpr (std::is_convertible_v<result, std::string>)
        co_return bearer_token{std::string(f(std::move(args))), std::nullopt};
    else
        co_return f(std::move(args));
}

} // namespace detail

/// Adapts any token source to a `bearer_token_provider`: a coroutine returning `bearer_token`
/// or `std::string`, or a plain callable returning either.
template <class F>
bearer_token_provider make_token_provider(F f) {
    return [f = std::move(f)](provider_token_args args) {
        return detail::call_token_source(f, std::move(args));
    };
}

/// A BYOK model provider, as sent in a session's `provider` (wire names in comments).
struct provider_config {
    /// "openai", "azure" or "anthropic" (`type`).
    std::optional<std::string> type;
    /// "completions" or "responses" (`wireApi`).
    std::optional<std::string> wire_api;
    /// "http" or "websockets" (`transport`).
    std::optional<std::string> transport;
    /// Endpoint, required (`baseUrl`).
    std::string base_url;
    /// Static API key (`apiKey`).
    std::optional<std::string> api_key;
    /// Static bearer token (`bearerToken`); a `token_provider` overrides it.
    std::optional<std::string> bearer_token;
    /// Azure API version (`azure.apiVersion`).
    std::optional<std::string> azure_api_version;
    /// Extra HTTP headers on model requests (`headers`).
    std::map<std::string, std::string> headers;
    /// Model name sent to the provider (`wireModel`).
    std::optional<std::string> wire_model;
    /// Model id (`modelId`).
    std::optional<std::string> model_id;
    std::optional<std::int64_t> max_prompt_tokens;
    std::optional<std::int64_t> max_context_window_tokens;
    std::optional<std::int64_t> max_output_tokens;
    /// Capability overrides (`modelCapabilities`), passed through as given.
    std::optional<json::object> model_capabilities;
    /// Fetches a bearer token per model request. Never sent: the wire carries
    /// `hasBearerTokenProvider: true` instead.
    bearer_token_provider token_provider;

    /// The wire object, without the callback.
    json::object to_json() const;
};

/// A provider with a name, for a session's `providers` list.
struct named_provider_config : provider_config {
    /// Unique name; select its models as "<name>/<model id>".
    std::string name;

    /// The wire object, without the callback.
    json::object to_json() const;
};

/// A model of the model registry (`models`).
struct provider_model_config {
    /// Model id within its provider.
    std::string id;
    /// Name of the provider in `providers`.
    std::string provider;
    std::optional<std::string> wire_model;
    std::optional<std::string> model_id;
    std::optional<std::string> name;
    std::optional<std::int64_t> max_prompt_tokens;
    std::optional<std::int64_t> max_context_window_tokens;
    std::optional<std::int64_t> max_output_tokens;
    std::optional<json::object> capabilities;

    /// The wire object.
    json::object to_json() const;
};

} // namespace copilot
