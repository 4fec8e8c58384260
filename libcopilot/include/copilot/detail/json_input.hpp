#pragma once

/// @file
/// Parsing of untrusted JSON from the runtime: bounded depth, lone surrogates repaired.

#include <copilot/detail/config.hpp>

#include <boost/system/error_code.hpp>

#include <string>
#include <string_view>

namespace copilot::detail {

/// True when `text` holds a `\uD800`-`\uDFFF` escape, the only input `repair_lone_surrogates`
/// may need to change. Cheap enough to run on every frame.
bool may_hold_surrogate_escape(std::string_view text) noexcept;

/// Replaces every unpaired UTF-16 surrogate escape (`\udXXX` without its partner) with
/// `\ufffd`. The runtime's JSON writer can emit them and Boost.JSON rejects them.
std::string repair_lone_surrogates(std::string_view text);

/// Parses one frame body. Sets `ec` to `errc::invalid_json` or `errc::json_too_deep` on
/// failure and returns null.
json::value
parse_untrusted(std::string_view text, unsigned max_depth, boost::system::error_code& ec);

/// Returns a copy of `value` with every secret replaced by `"<redacted>"`: the string values
/// of keys that `is_secret_key` matches, at any depth.
json::value redact(const json::value& value);

/// True when a JSON key names a secret: it contains `token`, `key`, `secret`, `password`,
/// `authorization` or `credential`, compared without case.
bool is_secret_key(std::string_view key) noexcept;

} // namespace copilot::detail
