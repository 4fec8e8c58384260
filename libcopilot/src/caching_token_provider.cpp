#include <copilot/caching_token_provider.hpp>

#include <copilot/error.hpp>

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <cstdint>
#include <map>
#include <mutex>

namespace copilot {

namespace {

using clock_type = std::chrono::system_clock;
using token_handler = asio::any_completion_handler<void(std::exception_ptr, bearer_token)>;

// A caller waiting for a fetch: its completion handler and the executor it resumes on.
struct waiter {
    asio::any_io_executor executor;
    token_handler handler;
};

// Resumes a waiter on its own executor, never inline: the caller may be another coroutine's
// completion or a cancellation handler.
void complete(waiter w, std::exception_ptr failure, bearer_token token) {
    auto resume = [handler = std::move(w.handler), failure, token = std::move(token)]() mutable {
        // The wait is over: its cancellation handler must not outlive it.
        asio::get_associated_cancellation_slot(handler).clear();
        std::move(handler)(failure, std::move(token));
    };
    asio::post(w.executor, std::move(resume));
}

asio::awaitable<bearer_token> call_inner(bearer_token_provider inner, provider_token_args args) {
    // A coroutine of its own, so a provider that throws before its first suspension fails
    // the fetch like any other error, and `inner` lives as long as the fetch.
    co_return co_await inner(std::move(args));
}

} // namespace

struct caching_token_provider::state : std::enable_shared_from_this<state> {
    // One call of the wrapped provider and the callers waiting for it.
    struct flight {
        explicit flight(asio::any_io_executor executor)
            : executor(std::move(executor)) {}

        asio::any_io_executor executor;
        asio::cancellation_signal cancel;
        std::map<std::uint64_t, waiter> waiters;
    };

    // Installed in a waiter's cancellation slot; takes that waiter out of its flight.
    struct waiter_canceller {
        std::weak_ptr<state> owner;
        std::weak_ptr<flight> target;
        std::uint64_t id;

        void operator()(asio::cancellation_type) const {
            auto self = owner.lock();
            auto f = target.lock();
            if (self && f)
                self->leave(f, id);
        }
    };

    state(bearer_token_provider inner, caching_token_options options)
        : inner(std::move(inner))
        , options(std::move(options)) {}

    static asio::awaitable<bearer_token> get(std::shared_ptr<state> self, provider_token_args args);
    void join(asio::any_io_executor executor, provider_token_args args, token_handler handler);
    void finish(const std::shared_ptr<flight>& f, std::exception_ptr failure, bearer_token token);
    void leave(const std::shared_ptr<flight>& f, std::uint64_t id);
    void invalidate();

    std::optional<bearer_token> fresh_token();
    void remember(const bearer_token& token);
    clock_type::time_point now() const {
        return options.clock ? options.clock() : clock_type::now();
    }

    const bearer_token_provider inner;
    const caching_token_options options;

    // A mutex, not a strand: one wrapper may serve several clients, each with its own strand.
    // It is never held across a suspension or while a handler runs.
    std::mutex mutex;
    std::optional<bearer_token> cached;
    clock_type::time_point renew_at;
    std::shared_ptr<flight> current;
    std::uint64_t next_waiter = 1;
};

asio::awaitable<bearer_token> caching_token_provider::state::get(std::shared_ptr<state> self,
                                                                 provider_token_args args) {
    {
        std::lock_guard lock(self->mutex);
        if (auto token = self->fresh_token())
            co_return std::move(*token);
    }

    auto executor = co_await asio::this_coro::executor;
    auto initiation = [&](auto handler) {
        self->join(executor, std::move(args), token_handler(std::move(handler)));
    };
    auto token = co_await asio::async_initiate<decltype(asio::use_awaitable),
                                               void(std::exception_ptr, bearer_token)>(
        initiation, asio::use_awaitable);
    co_return token;
}

void caching_token_provider::state::join(asio::any_io_executor executor,
                                         provider_token_args args,
                                         token_handler handler) {
    std::shared_ptr<flight> started;
    std::optional<bearer_token> ready;
    {
        std::lock_guard lock(mutex);

        // Another fetch may have finished since the caller looked.
        ready = fresh_token();
        if (!ready) {
            if (!current)
                current = started = std::make_shared<flight>(executor);

            auto id = next_waiter++;
            auto slot = asio::get_associated_cancellation_slot(handler);
            if (slot.is_connected())
                slot.emplace<waiter_canceller>(waiter_canceller{weak_from_this(), current, id});
            current->waiters.emplace(id, waiter{executor, std::move(handler)});
        }
    }
    if (ready) {
        complete(waiter{executor, std::move(handler)}, nullptr, std::move(*ready));
        return;
    }
    if (!started)
        return;

    // The fetch belongs to no caller: it ends when the provider answers or every waiter left.
    asio::co_spawn(started->executor, call_inner(inner, std::move(args)),
                   asio::bind_cancellation_slot(
                       started->cancel.slot(), [self = shared_from_this(), started](
                                                   std::exception_ptr failure, bearer_token token) {
                           self->finish(started, failure, std::move(token));
                       }));
}

void caching_token_provider::state::finish(const std::shared_ptr<flight>& f,
                                           std::exception_ptr failure,
                                           bearer_token token) {
    std::map<std::uint64_t, waiter> waiters;
    {
        std::lock_guard lock(mutex);

        // An abandoned fetch has no waiters and is not cached: the cache may have moved on.
        if (current == f) {
            current.reset();
            if (!failure)
                remember(token);
        }
        waiters.swap(f->waiters);
    }
    for (auto& [id, w] : waiters)
        complete(std::move(w), failure, token);
}

void caching_token_provider::state::leave(const std::shared_ptr<flight>& f, std::uint64_t id) {
    std::optional<waiter> leaving;
    bool abandoned = false;
    {
        std::lock_guard lock(mutex);
        auto it = f->waiters.find(id);
        if (it == f->waiters.end())
            return;
        leaving.emplace(std::move(it->second));
        f->waiters.erase(it);

        // Nobody wants this fetch any more; the next caller starts a fresh one.
        if (f->waiters.empty() && current == f) {
            current.reset();
            abandoned = true;
        }
    }

    // The signal belongs to the fetch's executor, so it is emitted there.
    if (abandoned)
        asio::post(f->executor, [f] { f->cancel.emit(asio::cancellation_type::terminal); });
    auto failure = std::make_exception_ptr(
        error(errc::cancelled, "the wait for a bearer token was cancelled"));
    complete(std::move(*leaving), failure, {});
}

void caching_token_provider::state::invalidate() {
    std::lock_guard lock(mutex);
    cached.reset();
}

std::optional<bearer_token> caching_token_provider::state::fresh_token() {
    if (cached && now() < renew_at)
        return cached;
    return std::nullopt;
}

void caching_token_provider::state::remember(const bearer_token& token) {
    cached.reset();

    // An empty token is refused by the session; the next request must fetch again.
    if (token.token.empty())
        return;
    if (token.expires_at) {
        cached = token;
        renew_at = *token.expires_at - options.skew;
    } else if (options.default_lifetime) {
        cached = token;
        renew_at = now() + *options.default_lifetime;
    }
}

caching_token_provider::caching_token_provider(bearer_token_provider inner,
                                               caching_token_options options) {
    if (!inner)
        throw error(errc::invalid_config, "caching_token_provider needs a token provider");
    state_ = std::make_shared<state>(std::move(inner), std::move(options));
}

caching_token_provider::caching_token_provider(bearer_token_provider inner)
    : caching_token_provider(std::move(inner), caching_token_options{}) {}

asio::awaitable<bearer_token> caching_token_provider::operator()(provider_token_args args) const {
    // Not a coroutine itself: the pending call holds the state, never this wrapper, which the
    // caller may destroy while waiting.
    return state::get(state_, std::move(args));
}

void caching_token_provider::invalidate() const {
    state_->invalidate();
}

} // namespace copilot
