// caching_token_provider: reuse until expiry minus skew, one fetch for concurrent callers,
// failures shared and not cached, cancelled waiters. A fake clock keeps the tests sleep-free.

#include <copilot/caching_token_provider.hpp>
#include <copilot/error.hpp>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_future.hpp>

#include <gtest/gtest.h>

#include <future>
#include <stdexcept>
#include <vector>

namespace copilot {
namespace {

using namespace std::chrono_literals;
using time_point = std::chrono::system_clock::time_point;

// The wrapped provider: counts its calls and answers "tok-<n>", optionally after the test
// opens a gate, optionally with an error or without expiry.
struct counting_source {
    explicit counting_source(asio::io_context& io)
        : gate(io) {
        gate.expires_at(asio::steady_timer::time_point::max());
    }

    bearer_token_provider provider() {
        return [this](provider_token_args args) -> asio::awaitable<bearer_token> {
            ++calls;
            seen.push_back(args);
            if (gated) {
                auto [ec] = co_await gate.async_wait(asio::as_tuple(asio::use_awaitable));
                if (ec && !opened)
                    throw error(errc::cancelled, "the fetch was cancelled");
            }
            if (!failure.empty())
                throw std::runtime_error(failure);
            bearer_token token;
            token.token = "tok-" + std::to_string(calls);
            token.expires_at = expires_at;
            co_return token;
        };
    }

    void open() {
        opened = true;
        gate.cancel();
    }

    asio::steady_timer gate;
    bool gated = false;
    bool opened = false;
    std::string failure;
    std::optional<time_point> expires_at;
    int calls = 0;
    std::vector<provider_token_args> seen;
};

class caching_token_provider_test : public ::testing::Test {
protected:
    caching_token_options options_with_clock() {
        caching_token_options options;
        options.clock = [this] {
            return now;
        };
        return options;
    }

    // Starts one call; its result is read after the io_context ran.
    std::future<bearer_token> call(const bearer_token_provider& provider,
                                   std::string name = "default") {
        provider_token_args args{std::move(name), "session-1"};
        return asio::co_spawn(io, provider(std::move(args)), asio::use_future);
    }

    bearer_token get(const bearer_token_provider& provider) {
        auto future = call(provider);
        io.restart();
        io.run();
        return future.get();
    }

    void poll() {
        io.restart();
        io.poll();
    }

    asio::io_context io;
    time_point now = std::chrono::system_clock::time_point{} + std::chrono::hours(1000);
    counting_source source{io};
};

TEST_F(caching_token_provider_test, reuses_a_token_until_expiry_minus_skew) {
    source.expires_at = now + 10min;
    auto options = options_with_clock();
    options.skew = 60s;
    bearer_token_provider cached = caching_token_provider(source.provider(), options);

    auto first = get(cached);
    EXPECT_EQ(first.token, "tok-1");
    EXPECT_EQ(first.expires_at, now + 10min);

    // One second before the renewal point the token is still reused.
    now += 9min - 1s;
    EXPECT_EQ(get(cached).token, "tok-1");
    EXPECT_EQ(source.calls, 1);

    // At expiry minus skew it is renewed.
    now += 1s;
    source.expires_at = now + 10min;
    EXPECT_EQ(get(cached).token, "tok-2");
    EXPECT_EQ(get(cached).token, "tok-2");
    EXPECT_EQ(source.calls, 2);
}

TEST_F(caching_token_provider_test, a_token_shorter_lived_than_the_skew_is_never_reused) {
    source.expires_at = now + 30s;
    auto options = options_with_clock();
    options.skew = 60s;
    bearer_token_provider cached = caching_token_provider(source.provider(), options);

    EXPECT_EQ(get(cached).token, "tok-1");
    EXPECT_EQ(get(cached).token, "tok-2");
    EXPECT_EQ(source.calls, 2);
}

TEST_F(caching_token_provider_test, tokens_without_expiry_are_not_reused_by_default) {
    bearer_token_provider cached = caching_token_provider(source.provider(), options_with_clock());

    EXPECT_EQ(get(cached).token, "tok-1");
    EXPECT_EQ(get(cached).token, "tok-2");
    EXPECT_EQ(source.calls, 2);
}

TEST_F(caching_token_provider_test, tokens_without_expiry_live_for_the_default_lifetime) {
    auto options = options_with_clock();
    options.default_lifetime = 5min;
    bearer_token_provider cached = caching_token_provider(source.provider(), options);

    EXPECT_EQ(get(cached).token, "tok-1");
    now += 5min - 1s;
    EXPECT_EQ(get(cached).token, "tok-1");
    now += 1s;
    EXPECT_EQ(get(cached).token, "tok-2");
    EXPECT_EQ(source.calls, 2);
}

TEST_F(caching_token_provider_test, a_hundred_concurrent_callers_share_one_fetch) {
    source.gated = true;
    source.expires_at = now + 1h;
    bearer_token_provider cached = caching_token_provider(source.provider(), options_with_clock());

    std::vector<std::future<bearer_token>> calls;
    for (int i = 0; i < 100; ++i)
        calls.push_back(call(cached, "caller-" + std::to_string(i)));
    poll();
    EXPECT_EQ(source.calls, 1);
    for (auto& f : calls)
        EXPECT_EQ(f.wait_for(0s), std::future_status::timeout) << "answered before the fetch";

    source.open();
    poll();
    for (auto& f : calls)
        EXPECT_EQ(f.get().token, "tok-1");
    EXPECT_EQ(source.calls, 1);

    // The fetch ran with the arguments of the caller that started it.
    ASSERT_EQ(source.seen.size(), 1u);
    EXPECT_EQ(source.seen[0].provider_name, "caller-0");
    EXPECT_EQ(source.seen[0].session_id, "session-1");
}

TEST_F(caching_token_provider_test, a_failed_fetch_fails_every_waiter_and_is_not_cached) {
    source.gated = true;
    source.failure = "identity endpoint unreachable";
    source.expires_at = now + 1h;
    bearer_token_provider cached = caching_token_provider(source.provider(), options_with_clock());

    std::vector<std::future<bearer_token>> calls;
    for (int i = 0; i < 10; ++i)
        calls.push_back(call(cached));
    poll();
    source.open();
    poll();
    for (auto& f : calls) {
        try {
            f.get();
            ADD_FAILURE() << "a waiter got a token from a failed fetch";
        } catch (const std::runtime_error& e) {
            EXPECT_STREQ(e.what(), "identity endpoint unreachable");
        }
    }
    EXPECT_EQ(source.calls, 1);

    // The next call fetches again and succeeds.
    source.gated = false;
    source.failure.clear();
    EXPECT_EQ(get(cached).token, "tok-2");
    EXPECT_EQ(get(cached).token, "tok-2");
    EXPECT_EQ(source.calls, 2);
}

TEST_F(caching_token_provider_test, a_provider_throwing_before_it_suspends_fails_the_call) {
    bearer_token_provider broken = [](provider_token_args) -> asio::awaitable<bearer_token> {
        throw std::runtime_error("no awaitable for you");
    };
    bearer_token_provider cached = caching_token_provider(broken);

    auto future = call(cached);
    poll();
    EXPECT_THROW(future.get(), std::runtime_error);
}

TEST_F(caching_token_provider_test, an_empty_token_is_passed_on_but_not_cached) {
    int calls = 0;
    auto empty = make_token_provider([&](const provider_token_args&) {
        ++calls;
        return bearer_token{"", std::chrono::system_clock::time_point::max()};
    });
    bearer_token_provider cached = caching_token_provider(empty, options_with_clock());

    EXPECT_EQ(get(cached).token, "");
    EXPECT_EQ(get(cached).token, "");
    EXPECT_EQ(calls, 2);
}

TEST_F(caching_token_provider_test, a_cancelled_waiter_leaves_and_the_others_still_get_the_token) {
    source.gated = true;
    source.expires_at = now + 1h;
    bearer_token_provider cached = caching_token_provider(source.provider(), options_with_clock());

    asio::cancellation_signal cancel;
    auto leaving = asio::co_spawn(io, cached({"default", "s"}),
                                  asio::bind_cancellation_slot(cancel.slot(), asio::use_future));
    auto staying = call(cached);
    poll();

    cancel.emit(asio::cancellation_type::terminal);
    poll();
    try {
        leaving.get();
        ADD_FAILURE() << "the cancelled waiter got a token";
    } catch (const error& e) {
        EXPECT_EQ(e.code(), make_error_code(errc::cancelled));
    }
    EXPECT_EQ(staying.wait_for(0s), std::future_status::timeout);

    source.open();
    poll();
    EXPECT_EQ(staying.get().token, "tok-1");
    EXPECT_EQ(source.calls, 1);
}

TEST_F(caching_token_provider_test, when_the_last_waiter_leaves_the_fetch_is_cancelled) {
    source.gated = true;
    source.expires_at = now + 1h;
    bearer_token_provider cached = caching_token_provider(source.provider(), options_with_clock());

    asio::cancellation_signal cancel;
    auto leaving = asio::co_spawn(io, cached({"default", "s"}),
                                  asio::bind_cancellation_slot(cancel.slot(), asio::use_future));
    poll();
    cancel.emit(asio::cancellation_type::terminal);
    poll();
    EXPECT_THROW(leaving.get(), error);

    // The hung fetch saw the cancellation (its gate wait ended without being opened), and a
    // new caller starts a fresh fetch instead of joining the abandoned one.
    EXPECT_FALSE(source.opened);
    source.gated = false;
    EXPECT_EQ(get(cached).token, "tok-2");
    EXPECT_EQ(source.calls, 2);
}

TEST_F(caching_token_provider_test, invalidate_forces_a_new_fetch) {
    source.expires_at = now + 1h;
    caching_token_provider wrapper(source.provider(), options_with_clock());
    bearer_token_provider cached = wrapper;

    EXPECT_EQ(get(cached).token, "tok-1");
    wrapper.invalidate();
    EXPECT_EQ(get(cached).token, "tok-2");
    EXPECT_EQ(get(cached).token, "tok-2");
}

TEST_F(caching_token_provider_test, copies_share_one_cache) {
    source.expires_at = now + 1h;
    caching_token_provider original(source.provider(), options_with_clock());
    bearer_token_provider first = original;
    bearer_token_provider second = original;

    EXPECT_EQ(get(first).token, "tok-1");
    EXPECT_EQ(get(second).token, "tok-1");
    EXPECT_EQ(source.calls, 1);
}

TEST_F(caching_token_provider_test, a_pending_call_outlives_the_wrapper) {
    source.gated = true;
    source.expires_at = now + 1h;
    std::future<bearer_token> pending;
    {
        bearer_token_provider cached =
            caching_token_provider(source.provider(), options_with_clock());
        pending = call(cached);
        poll();
    }
    source.open();
    poll();
    EXPECT_EQ(pending.get().token, "tok-1");
}

TEST_F(caching_token_provider_test, an_empty_inner_provider_is_rejected) {
    try {
        caching_token_provider wrapper{bearer_token_provider{}};
        ADD_FAILURE() << "an empty provider was accepted";
    } catch (const error& e) {
        EXPECT_EQ(e.code(), make_error_code(errc::invalid_config));
    }
}

} // namespace
} // namespace copilot
