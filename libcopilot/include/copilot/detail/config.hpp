#pragma once

/// @file
/// Namespace aliases and the default completion token shared by every libcopilot header.

#include <boost/asio.hpp>
#include <boost/json.hpp>

namespace copilot {
namespace asio = boost::asio;
namespace json = boost::json;

/// The completion token used when a caller passes none: `co_await op()` works directly.
///
/// It is `asio::use_awaitable` rather than `asio::deferred` because Boost 1.81 cannot
/// `co_await` a deferred operation whose signature is `void(std::exception_ptr, T)`: its
/// `awaitable_async_op_handler` tests the result struct instead of the stored exception and
/// fails to compile. Every other token (deferred included, for composition) still works.
using default_token_t = asio::use_awaitable_t<>;
} // namespace copilot
