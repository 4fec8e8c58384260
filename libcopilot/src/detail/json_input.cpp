#include <copilot/detail/json_input.hpp>
#include <copilot/error.hpp>

#include <algorithm>
#include <array>
#include <cctype>

namespace copilot::detail {

namespace {

int hex_value(char c) noexcept {
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

// The code unit of a `\uXXXX` escape starting at `pos`, or -1 if there is none.
long escape_at(std::string_view text, std::size_t pos) noexcept {
    if (pos + 6 > text.size() || text[pos] != '\\' || text[pos + 1] != 'u')
        return -1;
    long unit = 0;
    for (std::size_t i = pos + 2; i < pos + 6; ++i) {
        int h = hex_value(text[i]);
        if (h < 0)
            return -1;
        unit = unit * 16 + h;
    }
    return unit;
}

bool is_high(long unit) noexcept {
    return unit >= 0xD800 && unit <= 0xDBFF;
}
bool is_low(long unit) noexcept {
    return unit >= 0xDC00 && unit <= 0xDFFF;
}

} // namespace

bool may_hold_surrogate_escape(std::string_view text) noexcept {
    for (auto pos = text.find("\\u"); pos != std::string_view::npos;
         pos = text.find("\\u", pos + 2)) {
        if (pos + 3 < text.size() && (text[pos + 2] == 'd' || text[pos + 2] == 'D'))
            return true;
    }
    return false;
}

std::string repair_lone_surrogates(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    std::size_t i = 0;
    while (i < text.size()) {
        // Keep escaped backslashes together so `\\ud800` (a literal) is never touched.
        if (text[i] == '\\' && i + 1 < text.size() && text[i + 1] == '\\') {
            out.append(text.substr(i, 2));
            i += 2;
            continue;
        }

        long unit = escape_at(text, i);
        if (is_high(unit) && is_low(escape_at(text, i + 6))) {
            out.append(text.substr(i, 12));
            i += 12;
            continue;
        }
        if (is_high(unit) || is_low(unit)) {
            out.append("\\ufffd");
            i += 6;
            continue;
        }
        out.push_back(text[i]);
        ++i;
    }
    return out;
}

json::value
parse_untrusted(std::string_view text, unsigned max_depth, boost::system::error_code& ec) {
    json::parse_options options;
    options.max_depth = max_depth;

    std::string repaired;
    if (may_hold_surrogate_escape(text)) {
        repaired = repair_lone_surrogates(text);
        text = repaired;
    }

    boost::system::error_code parse_ec;
    auto value = json::parse(text, parse_ec, {}, options);
    if (!parse_ec)
        return value;

    ec = parse_ec == json::error::too_deep ? errc::json_too_deep : errc::invalid_json;
    return nullptr;
}

bool is_secret_key(std::string_view key) noexcept {
    // Substrings rather than a fixed list: `GITHUB_TOKEN` in an MCP server's env, `x-api-key`
    // in provider headers and `connectionToken` all have to go.
    static constexpr std::array<std::string_view, 6> markers = {
        "token", "key", "secret", "password", "authorization", "credential"};
    std::string lowered(key);
    std::transform(lowered.begin(), lowered.end(), lowered.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return std::any_of(markers.begin(), markers.end(), [&lowered](std::string_view marker) {
        return lowered.find(marker) != std::string::npos;
    });
}

json::value redact(const json::value& value) {
    if (auto* object = value.if_object()) {
        json::object copy;
        for (const auto& [key, item] : *object) {
            // Only strings are secrets; `hasBearerTokenProvider: true` stays readable.
            bool hide = item.is_string() && is_secret_key(key);
            copy[key] = hide ? json::value("<redacted>") : redact(item);
        }
        return copy;
    }
    if (auto* array = value.if_array()) {
        json::array copy;
        for (const auto& item : *array)
            copy.push_back(redact(item));
        return copy;
    }
    return value;
}

} // namespace copilot::detail
