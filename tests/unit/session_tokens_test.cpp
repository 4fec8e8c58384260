// BYOK bearer tokens: `providerToken.getToken` (and the older `providerToken.acquire`)
// answered from a provider's token callback.

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

using copilot::bearer_token;
using copilot::provider_token_args;
using copilot::test::failure_of;
using copilot::test::js;

using args_log = std::shared_ptr<std::vector<provider_token_args>>;

asio::awaitable<bearer_token> fixed_token(args_log log, std::string token, provider_token_args a) {
    log->push_back(std::move(a));
    co_return bearer_token{std::move(token), std::nullopt};
}

asio::awaitable<bearer_token> failing_token(provider_token_args) {
    throw std::runtime_error("identity service down");
    co_return bearer_token{};
}

asio::awaitable<bearer_token> hanging_token(provider_token_args) {
    asio::steady_timer timer(co_await asio::this_coro::executor, std::chrono::hours(1));
    co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    co_return bearer_token{"too late", std::nullopt};
}

copilot::bearer_token_provider fixed(args_log log, std::string token) {
    return [log, token](provider_token_args a) {
        return fixed_token(log, token, std::move(a));
    };
}

copilot::provider_config provider_with(copilot::bearer_token_provider callback) {
    copilot::provider_config provider;
    provider.base_url = "http://127.0.0.1:9/v1";
    provider.model_id = "test-model";
    provider.token_provider = std::move(callback);
    return provider;
}

copilot::named_provider_config named(std::string name, copilot::bearer_token_provider callback) {
    copilot::named_provider_config provider;
    provider.name = std::move(name);
    provider.base_url = "http://127.0.0.1:9/v1";
    provider.token_provider = std::move(callback);
    return provider;
}

json::value token_request(const copilot::session& s, std::string provider_name) {
    json::object params;
    params["sessionId"] = s.id();
    params["providerName"] = std::move(provider_name);
    return params;
}

class session_tokens_test : public copilot::test::session_fixture {
protected:
    // Asks for a token and returns the error text the reply carried (empty on success).
    asio::awaitable<std::string> token_failure(const copilot::session& s, std::string name) {
        std::string message;
        auto params = token_request(s, std::move(name));
        auto ec = co_await failure_of(fake_->call("providerToken.getToken", params), &message);
        EXPECT_EQ(ec.category(), copilot::rpc_category()) << message;
        co_return message;
    }
};

TEST_F(session_tokens_test, get_token_and_acquire_are_answered_by_the_callback) {
    run([&]() -> asio::awaitable<void> {
        auto log = std::make_shared<std::vector<provider_token_args>>();
        copilot::session_config config;
        config.provider = provider_with(fixed(log, "tok-1"));
        auto s = co_await create(std::move(config));

        auto params = token_request(s, "default");
        auto from_get = co_await fake_->call("providerToken.getToken", params);
        auto from_acquire = co_await fake_->call("providerToken.acquire", params);
        EXPECT_EQ(from_get, js(R"({"token":"tok-1"})"));
        EXPECT_EQ(from_acquire, js(R"({"token":"tok-1"})"));

        EXPECT_EQ(log->size(), 2u);
        for (const auto& args : *log) {
            EXPECT_EQ(args.provider_name, "default");
            EXPECT_EQ(args.session_id, s.id());
        }
    });
}

TEST_F(session_tokens_test, named_providers_use_their_own_callbacks) {
    run([&]() -> asio::awaitable<void> {
        auto log = std::make_shared<std::vector<provider_token_args>>();
        copilot::session_config config;
        config.providers.push_back(named("alpha", fixed(log, "tok-alpha")));
        config.providers.push_back(named("beta", fixed(log, "tok-beta")));
        auto s = co_await create(std::move(config));

        auto params = token_request(s, "beta");
        auto result = co_await fake_->call("providerToken.getToken", params);

        EXPECT_EQ(result, js(R"({"token":"tok-beta"})"));
        EXPECT_EQ(log->size(), 1u);
        EXPECT_EQ(log->at(0).provider_name, "beta");
    });
}

TEST_F(session_tokens_test, unknown_provider_is_an_error) {
    run([&]() -> asio::awaitable<void> {
        auto log = std::make_shared<std::vector<provider_token_args>>();
        copilot::session_config config;
        config.providers.push_back(named("alpha", fixed(log, "tok-alpha")));
        auto s = co_await create(std::move(config));

        auto message = co_await token_failure(s, "gamma");
        EXPECT_NE(message.find("gamma"), std::string::npos) << message;
        EXPECT_TRUE(log->empty());
    });
}

TEST_F(session_tokens_test, empty_token_is_an_error_naming_the_provider) {
    run([&]() -> asio::awaitable<void> {
        auto log = std::make_shared<std::vector<provider_token_args>>();
        copilot::session_config config;
        config.providers.push_back(named("alpha", fixed(log, "")));
        auto s = co_await create(std::move(config));

        auto message = co_await token_failure(s, "alpha");
        EXPECT_NE(message.find("alpha"), std::string::npos) << message;
        EXPECT_NE(message.find("empty"), std::string::npos) << message;
    });
}

TEST_F(session_tokens_test, throwing_callback_is_an_error_with_its_message) {
    run([&]() -> asio::awaitable<void> {
        copilot::session_config config;
        config.provider = provider_with(failing_token);
        auto s = co_await create(std::move(config));

        auto message = co_await token_failure(s, "default");
        EXPECT_NE(message.find("identity service down"), std::string::npos) << message;
    });
}

TEST_F(session_tokens_test, hanging_callback_is_cut_by_the_token_timeout) {
    run([&]() -> asio::awaitable<void> {
        copilot::session_config config;
        config.provider = provider_with(hanging_token);
        config.token_timeout = std::chrono::milliseconds(200);
        auto s = co_await create(std::move(config));

        auto message = co_await token_failure(s, "default");
        EXPECT_NE(message.find("timed out"), std::string::npos) << message;

        // The connection is still usable.
        auto pong = co_await client_->async_ping("still there");
        EXPECT_EQ(pong.message, "pong: still there");
    });
}

} // namespace
