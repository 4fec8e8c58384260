#pragma once

/// @file
/// Namespace aliases shared by every libcopilot header.

#include <boost/asio.hpp>
#include <boost/json.hpp>

namespace copilot {
namespace asio = boost::asio;
namespace json = boost::json;
} // namespace copilot
