#pragma once

/// @file
/// `copilot::caching_token_provider`: reuses bearer tokens until they are about to expire.

#include <copilot/detail/config.hpp>
#include <copilot/provider.hpp>

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>

namespace copilot {

/// Settings of a `caching_token_provider`.
struct caching_token_options {
    /// A cached token is renewed this long before its `expires_at`, so a request never leaves
    /// with a token that dies in flight.
    std::chrono::seconds skew{60};

    /// How long a token without `expires_at` is reused. Unset (the default): such a token
    /// goes to the callers that waited for its fetch and is never reused.
    std::optional<std::chrono::seconds> default_lifetime;

    /// The clock expiry is judged by; empty means `std::chrono::system_clock::now`. Tests
    /// inject their own so they need not sleep.
    std::function<std::chrono::system_clock::time_point()> clock;
};

/// Wraps a `bearer_token_provider` so that tokens are reused until `expires_at - skew`.
///
/// The runtime asks for a token before every model request and caches nothing; this wrapper
/// turns that into one fetch per token lifetime:
///
/// ```cpp
/// config.provider->token_provider =
///     copilot::caching_token_provider(fetch_managed_identity_token, {});
/// ```
///
/// - A cached token is handed out while `clock() < expires_at - skew`.
/// - Callers that arrive while a fetch runs wait for that fetch: 100 concurrent callers make
///   one call of the wrapped provider.
/// - A failed fetch fails every caller waiting for it and is not cached; the next call
///   fetches again. An empty token is passed on (the session rejects it) but never cached.
/// - A caller that is cancelled (the session's `token_timeout`, a closed session) stops
///   waiting at once. When the last waiter of a fetch leaves, the fetch is cancelled and
///   forgotten, so a hung identity endpoint does not block later calls.
///
/// One cache per wrapper: the wrapped provider is called with the arguments of the caller
/// that started the fetch, and its token serves every provider name and session that uses
/// this wrapper. That fits the usual case of one identity per provider; give each identity
/// its own wrapper.
///
/// @par Executor
/// A fetch runs on the executor of the caller that started it (the client's strand when the
/// SDK calls); each waiter resumes on its own executor.
///
/// @par Thread safety
/// Copies share one cache. Any copy may be called from any thread and from several clients
/// at once: the shared state is guarded by a mutex that is never held across a suspension.
///
/// @par Object lifetimes
/// The wrapper may be destroyed while calls are pending: they keep the shared state alive.
class caching_token_provider {
public:
    /// Wraps `inner`. Throws `copilot::error` (`errc::invalid_config`) when `inner` is empty.
    caching_token_provider(bearer_token_provider inner, caching_token_options options);

    /// Wraps `inner` with the default options.
    explicit caching_token_provider(bearer_token_provider inner);

    /// Returns the cached token, or waits for a fetch (joining one that already runs).
    ///
    /// Throws what the wrapped provider threw. Per-operation cancellation: terminal
    /// cancellation ends the wait with `errc::cancelled`.
    asio::awaitable<bearer_token> operator()(provider_token_args args) const;

    /// Forgets the cached token, for example after the provider rejected it; the next call
    /// fetches a new one. A fetch already running is not affected.
    void invalidate() const;

private:
    struct state;
    std::shared_ptr<state> state_;
};

} // namespace copilot
