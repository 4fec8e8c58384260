// BYOK against the real runtime: the bearer-token callback, refresh and caching, named
// providers, concurrency, failures, and the static api_key / bearer_token configs. The local
// model server records every request's Authorization header; nothing leaves the machine.

#include "support/e2e_env.hpp"

#include <copilot/caching_token_provider.hpp>
#include <copilot/client.hpp>
#include <copilot/testing/model_server.hpp>

#include <boost/asio/steady_timer.hpp>

#include <spdlog/logger.h>
#include <spdlog/sinks/ostream_sink.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <mutex>
#include <set>
#include <sstream>

namespace copilot::test {
namespace {

using boost::asio::use_future;
using copilot::testing::model_server;
using copilot::testing::scripted_reply;
using namespace std::chrono_literals;

class byok_e2e : public e2e_test {
protected:
    // A provider pointing at a local model server, without credentials.
    static provider_config local_provider(const model_server& model) {
        provider_config provider;
        provider.type = "openai";
        provider.base_url = model.base_url();
        return provider;
    }

    static session_config config_with(provider_config provider) {
        session_config config;
        config.model = "gpt-4o";
        config.provider = std::move(provider);
        config.on_permission = approve_all();
        return config;
    }

    // The Authorization header of every chat-completions request, oldest first. The list is
    // also kept in the test's report (`--gtest_output`), per endpoint, so a run shows the
    // headers each scenario produced.
    static std::vector<std::string> authorizations(const model_server& model) {
        std::vector<std::string> seen;
        std::string listed;
        for (const auto& request : model.requests()) {
            if (request.path != "/v1/chat/completions")
                continue;
            seen.push_back(request.authorization);
            listed += (listed.empty() ? "" : ", ") + request.authorization;
        }
        std::string key = "authorization_" + model.base_url();
        std::replace_if(
            key.begin(), key.end(), [](char c) { return !std::isalnum(c); }, '_');
        RecordProperty(key, listed);
        return seen;
    }

    // Sends a prompt and waits for the turn's last assistant message text.
    std::string turn(session& s, std::string text) {
        auto reply = wait(s.async_send_and_wait(prompt(std::move(text)), {}, use_future));
        return reply ? reply->content : std::string();
    }

    // Expects the turn to fail with errc::session_error; returns the message.
    std::string failed_turn(session& s, std::string text) {
        try {
            turn(s, std::move(text));
        } catch (const error& e) {
            EXPECT_EQ(e.code(), make_error_code(errc::session_error)) << e.what();
            return e.what();
        }
        ADD_FAILURE() << "the turn did not fail";
        return {};
    }

    static provider_model_config model_entry(std::string id, std::string provider) {
        provider_model_config entry;
        entry.id = std::move(id);
        entry.provider = std::move(provider);
        return entry;
    }

    static tool weather_tool() {
        json::object parameters;
        parameters["type"] = "object";
        return make_tool("get_weather", "Weather of a city", parameters,
                         [](const tool_invocation&) { return std::string("sunny, 21 C"); });
    }

    model_server model{io.get_executor()};
};

// A callback that hands out tok-1, tok-2, ... and remembers who asked.
struct rotating_tokens {
    bearer_token_provider provider() {
        return [this](provider_token_args args) -> asio::awaitable<bearer_token> {
            bearer_token token;
            {
                std::lock_guard lock(mutex);
                asked.push_back(args);
                token.token = "tok-" + std::to_string(asked.size());
            }
            co_return token;
        };
    }

    std::size_t calls() {
        std::lock_guard lock(mutex);
        return asked.size();
    }

    std::mutex mutex;
    std::vector<provider_token_args> asked;
};

TEST_F(byok_e2e, the_callback_token_reaches_the_model_and_never_the_log) {
    std::ostringstream log;
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(log);
    auto logger = std::make_shared<spdlog::logger>("byok", sink);
    logger->set_level(spdlog::level::trace);
    auto opts = options();
    opts.logger = logger;
    model.start();

    const std::string secret = "callback-secret-7f3a9c";
    std::vector<provider_token_args> asked;
    auto provider = local_provider(model);
    provider.token_provider = [&](provider_token_args args) -> asio::awaitable<bearer_token> {
        asked.push_back(args);
        co_return bearer_token{secret, std::nullopt};
    };

    copilot::client client(io.get_executor(), opts);
    wait(client.async_start(use_future));
    auto s = wait(client.async_create_session(config_with(provider), use_future));
    EXPECT_NE(turn(s, "hello").find("You said:"), std::string::npos);
    wait(client.async_stop(use_future));
    logger->flush();

    auto seen = authorizations(model);
    ASSERT_FALSE(seen.empty());
    for (const auto& header : seen)
        EXPECT_EQ(header, "Bearer " + secret);
    ASSERT_EQ(asked.size(), seen.size()) << "one callback per model request";
    EXPECT_EQ(asked[0].provider_name, "default");
    EXPECT_EQ(asked[0].session_id, s.id());

    // The wire shows the flag and the token request, never the token itself.
    auto text = log.str();
    EXPECT_NE(text.find(">>>"), std::string::npos);
    EXPECT_NE(text.find("providerToken.getToken"), std::string::npos);
    auto create = text.find("\"method\":\"session.create\"");
    ASSERT_NE(create, std::string::npos);
    auto create_line = text.substr(create, text.find('\n', create) - create);
    EXPECT_NE(create_line.find("\"hasBearerTokenProvider\":true"), std::string::npos);
    EXPECT_EQ(create_line.find("bearerToken\""), std::string::npos) << create_line;
    EXPECT_EQ(create_line.find("apiKey"), std::string::npos) << create_line;
    EXPECT_EQ(text.find(secret), std::string::npos) << "the token reached the log";
}

TEST_F(byok_e2e, a_rotating_callback_gives_each_model_request_its_own_token) {
    model.push_reply(scripted_reply::tool_call("get_weather", {{"city", "Paris"}}));
    model.start();
    rotating_tokens tokens;
    auto provider = local_provider(model);
    provider.token_provider = tokens.provider();
    auto config = config_with(provider);
    config.tools.push_back(weather_tool());

    copilot::client client(io.get_executor(), options());
    wait(client.async_start(use_future));
    auto s = wait(client.async_create_session(config, use_future));

    // A tool turn is two model requests, hence two tokens.
    EXPECT_NE(turn(s, "weather in Paris?").find("sunny"), std::string::npos);
    EXPECT_EQ(authorizations(model), (std::vector<std::string>{"Bearer tok-1", "Bearer tok-2"}));

    EXPECT_NE(turn(s, "thanks").find("You said:"), std::string::npos);
    auto seen = authorizations(model);
    EXPECT_EQ(seen.size(), 3u);
    EXPECT_EQ(seen.back(), "Bearer tok-3");
    EXPECT_EQ(tokens.calls(), seen.size());
    wait(client.async_stop(use_future));
}

TEST_F(byok_e2e, the_caching_wrapper_changes_the_token_only_after_expiry) {
    model.push_reply(scripted_reply::tool_call("get_weather", {{"city", "Paris"}}));
    model.start();

    // Tokens live ten minutes on a clock the test moves.
    std::atomic<std::int64_t> minutes{0};
    auto clock = [&minutes] {
        return std::chrono::system_clock::time_point{} + std::chrono::minutes(minutes.load());
    };
    std::atomic<int> fetches{0};
    bearer_token_provider inner = [&](provider_token_args) -> asio::awaitable<bearer_token> {
        bearer_token token;
        token.token = "cached-" + std::to_string(++fetches);
        token.expires_at = clock() + 10min;
        co_return token;
    };
    caching_token_options cache;
    cache.clock = clock;
    cache.skew = 60s;
    auto provider = local_provider(model);
    provider.token_provider = caching_token_provider(inner, cache);
    auto config = config_with(provider);
    config.tools.push_back(weather_tool());

    copilot::client client(io.get_executor(), options());
    wait(client.async_start(use_future));
    auto s = wait(client.async_create_session(config, use_future));

    turn(s, "weather in Paris?");
    EXPECT_EQ(authorizations(model),
              (std::vector<std::string>{"Bearer cached-1", "Bearer cached-1"}));
    EXPECT_EQ(fetches, 1);

    minutes = 9; // past expiry minus skew
    turn(s, "and now?");
    EXPECT_EQ(authorizations(model).back(), "Bearer cached-2");
    EXPECT_EQ(fetches, 2);
    wait(client.async_stop(use_future));
}

TEST_F(byok_e2e, named_providers_each_get_their_own_token) {
    model_server other(io.get_executor());
    model.start();
    other.start();

    std::mutex mutex;
    std::vector<provider_token_args> asked;
    auto token_for = [&](std::string token) -> bearer_token_provider {
        return [&, token](provider_token_args args) -> asio::awaitable<bearer_token> {
            {
                std::lock_guard lock(mutex);
                asked.push_back(args);
            }
            co_return bearer_token{token, std::nullopt};
        };
    };
    named_provider_config alpha;
    static_cast<provider_config&>(alpha) = local_provider(model);
    alpha.name = "alpha";
    alpha.token_provider = token_for("alpha-token");
    named_provider_config beta;
    static_cast<provider_config&>(beta) = local_provider(other);
    beta.name = "beta";
    beta.token_provider = token_for("beta-token");

    auto config_for = [&](std::string model_name) {
        session_config config;
        config.model = std::move(model_name);
        config.providers = {alpha, beta};
        config.models = {model_entry("gpt-4o", "alpha"), model_entry("gpt-4o", "beta")};
        config.on_permission = approve_all();
        return config;
    };

    copilot::client client(io.get_executor(), options());
    wait(client.async_start(use_future));
    auto on_alpha = wait(client.async_create_session(config_for("alpha/gpt-4o"), use_future));
    turn(on_alpha, "to alpha");
    auto on_beta = wait(client.async_create_session(config_for("beta/gpt-4o"), use_future));
    turn(on_beta, "to beta");
    wait(client.async_stop(use_future));

    auto alpha_seen = authorizations(model);
    auto beta_seen = authorizations(other);
    ASSERT_FALSE(alpha_seen.empty());
    ASSERT_FALSE(beta_seen.empty());
    for (const auto& header : alpha_seen)
        EXPECT_EQ(header, "Bearer alpha-token");
    for (const auto& header : beta_seen)
        EXPECT_EQ(header, "Bearer beta-token");

    std::lock_guard lock(mutex);
    ASSERT_EQ(asked.size(), alpha_seen.size() + beta_seen.size());
    EXPECT_EQ(asked.front().provider_name, "alpha");
    EXPECT_EQ(asked.front().session_id, on_alpha.id());
    EXPECT_EQ(asked.back().provider_name, "beta");
    EXPECT_EQ(asked.back().session_id, on_beta.id());
}

TEST_F(byok_e2e, twenty_sessions_with_slow_callbacks_all_complete) {
    model.start();
    std::atomic<int> in_flight{0};
    std::atomic<int> most_in_flight{0};

    copilot::client client(io.get_executor(), options());
    wait(client.async_start(use_future));

    std::vector<session> sessions;
    for (int i = 0; i < 20; ++i) {
        auto provider = local_provider(model);
        std::string token = "slow-" + std::to_string(i);
        provider.token_provider = [&, token](provider_token_args) -> asio::awaitable<bearer_token> {
            auto now = ++in_flight;
            for (auto seen = most_in_flight.load(); now > seen;)
                most_in_flight.compare_exchange_weak(seen, now);

            // A slow identity fetch.
            auto executor = co_await asio::this_coro::executor;
            asio::steady_timer delay(executor, 100ms);
            co_await delay.async_wait(asio::use_awaitable);
            --in_flight;
            co_return bearer_token{token, std::nullopt};
        };
        sessions.push_back(wait(client.async_create_session(config_with(provider), use_future)));
    }

    std::vector<std::future<std::optional<events::assistant_message>>> turns;
    for (auto& s : sessions)
        turns.push_back(s.async_send_and_wait(prompt("hi"), {}, use_future));
    for (auto& t : turns) {
        auto reply = wait(std::move(t));
        ASSERT_TRUE(reply);
        EXPECT_NE(reply->content.find("You said:"), std::string::npos);
    }
    wait(client.async_stop(use_future));

    std::set<std::string> expected;
    for (int i = 0; i < 20; ++i)
        expected.insert("Bearer slow-" + std::to_string(i));
    auto seen = authorizations(model);
    EXPECT_EQ(std::set<std::string>(seen.begin(), seen.end()), expected);
    EXPECT_GT(most_in_flight.load(), 1) << "the callbacks never overlapped";
}

TEST_F(byok_e2e, a_throwing_callback_fails_the_turn_and_the_client_stays_usable) {
    model.start();
    std::atomic<int> attempts{0};
    auto broken = local_provider(model);
    broken.token_provider = [&](provider_token_args) -> asio::awaitable<bearer_token> {
        ++attempts;
        throw std::runtime_error("the vault is sealed");
        co_return bearer_token{};
    };

    copilot::client client(io.get_executor(), options());
    wait(client.async_start(use_future));
    auto s = wait(client.async_create_session(config_with(broken), use_future));
    auto message = failed_turn(s, "hi");
    EXPECT_NE(message.find("the vault is sealed"), std::string::npos) << message;
    EXPECT_GT(attempts.load(), 1) << "the runtime did not retry";
    EXPECT_TRUE(model.requests().empty()) << "a model request left without a token";

    rotating_tokens tokens;
    auto working = local_provider(model);
    working.token_provider = tokens.provider();
    auto next = wait(client.async_create_session(config_with(working), use_future));
    EXPECT_NE(turn(next, "again").find("You said:"), std::string::npos);
    EXPECT_EQ(authorizations(model).front(), "Bearer tok-1");
    wait(client.async_stop(use_future));
}

TEST_F(byok_e2e, a_hanging_callback_is_cut_by_the_token_timeout) {
    model.start();
    auto cancelled = std::make_shared<std::atomic<int>>(0);
    auto hanging = local_provider(model);
    hanging.token_provider = [cancelled](provider_token_args) -> asio::awaitable<bearer_token> {
        auto executor = co_await asio::this_coro::executor;
        asio::steady_timer forever(executor, std::chrono::hours(1));
        auto [ec] = co_await forever.async_wait(asio::as_tuple(asio::use_awaitable));

        // Reads a capture after the session gave up: the closure must still be alive.
        if (ec == asio::error::operation_aborted)
            ++*cancelled;
        bearer_token late;
        late.token = "too-late";
        co_return late;
    };
    auto config = config_with(hanging);
    config.token_timeout = 1s;

    copilot::client client(io.get_executor(), options());
    wait(client.async_start(use_future));
    auto s = wait(client.async_create_session(config, use_future));
    auto message = failed_turn(s, "hi");
    EXPECT_NE(message.find("timed out"), std::string::npos) << message;
    EXPECT_TRUE(model.requests().empty());
    EXPECT_GT(cancelled->load(), 0) << "the timed-out callback was not cancelled";

    rotating_tokens tokens;
    auto working = local_provider(model);
    working.token_provider = tokens.provider();
    auto next = wait(client.async_create_session(config_with(working), use_future));
    EXPECT_NE(turn(next, "again").find("You said:"), std::string::npos);
    wait(client.async_stop(use_future));
}

TEST_F(byok_e2e, an_empty_token_fails_the_turn_naming_the_provider) {
    model.start();
    named_provider_config blank;
    static_cast<provider_config&>(blank) = local_provider(model);
    blank.name = "blank-provider";
    blank.token_provider = make_token_provider([](const provider_token_args&) { return ""; });
    session_config config;
    config.model = "blank-provider/gpt-4o";
    config.providers = {blank};
    config.models = {model_entry("gpt-4o", "blank-provider")};
    config.on_permission = approve_all();

    copilot::client client(io.get_executor(), options());
    wait(client.async_start(use_future));
    auto s = wait(client.async_create_session(config, use_future));
    auto message = failed_turn(s, "hi");
    EXPECT_NE(message.find("blank-provider"), std::string::npos) << message;
    EXPECT_NE(message.find("empty token"), std::string::npos) << message;
    EXPECT_TRUE(model.requests().empty()) << "an empty bearer token reached the model";
    wait(client.async_stop(use_future));
}

TEST_F(byok_e2e, static_credentials_work_and_a_callback_overrides_a_static_token) {
    model.start();
    copilot::client client(io.get_executor(), options());
    wait(client.async_start(use_future));

    auto with_key = local_provider(model);
    with_key.api_key = "static-api-key";
    auto s1 = wait(client.async_create_session(config_with(with_key), use_future));
    turn(s1, "with a key");
    auto after_key = authorizations(model);
    ASSERT_FALSE(after_key.empty());
    EXPECT_EQ(after_key.back(), "Bearer static-api-key");

    auto with_token = local_provider(model);
    with_token.bearer_token = "static-bearer-token";
    auto s2 = wait(client.async_create_session(config_with(with_token), use_future));
    turn(s2, "with a token");
    EXPECT_EQ(authorizations(model).back(), "Bearer static-bearer-token");

    auto both = with_token;
    both.token_provider = make_token_provider(
        [](const provider_token_args&) { return std::string("callback-wins"); });
    auto s3 = wait(client.async_create_session(config_with(both), use_future));
    turn(s3, "with both");
    EXPECT_EQ(authorizations(model).back(), "Bearer callback-wins");
    wait(client.async_stop(use_future));
}

} // namespace
} // namespace copilot::test
