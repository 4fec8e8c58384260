#include <copilot/detail/json_conv.hpp>

#include <copilot/error.hpp>

#include <cmath>
#include <limits>

namespace copilot::detail {

namespace json = boost::json;

void throw_decode_error(std::string_view where, std::string_view what) {
    std::string message(where);
    message += ": ";
    message += what;
    throw error(errc::decode_error, message);
}

const json::object& expect_object(const json::value& jv, std::string_view where) {
    const auto* obj = jv.if_object();
    if (obj == nullptr) {
        throw_decode_error(where, "expected an object");
    }
    return *obj;
}

std::string_view tag_of(const json::value& jv, std::string_view key) noexcept {
    const auto* obj = jv.if_object();
    if (obj == nullptr) {
        return {};
    }
    const auto* tag = obj->if_contains(key);
    if (tag == nullptr || !tag->is_string()) {
        return {};
    }
    return tag->get_string();
}

bool is_kind(const json::value& jv, json_kind kind) noexcept {
    switch (kind) {
    case json_kind::string:
        return jv.is_string();
    case json_kind::boolean:
        return jv.is_bool();
    case json_kind::number:
        return jv.is_number();
    case json_kind::array:
        return jv.is_array();
    case json_kind::object:
        return jv.is_object();
    }
    return false;
}

json::value with_session_id(json::value params, const std::string& session_id) {
    if (!params.is_object()) {
        params.emplace_object();
    }
    params.get_object().insert_or_assign("sessionId", session_id);
    return params;
}

void decode(const json::value& jv, std::string& out, std::string_view where) {
    const auto* s = jv.if_string();
    if (s == nullptr) {
        throw_decode_error(where, "expected a string");
    }
    out.assign(s->data(), s->size());
}

void decode(const json::value& jv, bool& out, std::string_view where) {
    const auto* b = jv.if_bool();
    if (b == nullptr) {
        throw_decode_error(where, "expected a boolean");
    }
    out = *b;
}

void decode(const json::value& jv, std::int64_t& out, std::string_view where) {
    // The runtime is JavaScript: an integer may arrive as a double with no fraction.
    if (const auto* i = jv.if_int64()) {
        out = *i;
        return;
    }
    if (const auto* u = jv.if_uint64(); u && *u <= std::numeric_limits<std::int64_t>::max()) {
        out = static_cast<std::int64_t>(*u);
        return;
    }
    if (const auto* d = jv.if_double(); d && std::trunc(*d) == *d && std::fabs(*d) < 0x1p63) {
        out = static_cast<std::int64_t>(*d);
        return;
    }
    throw_decode_error(where, "expected an integer");
}

void decode(const json::value& jv, double& out, std::string_view where) {
    if (!jv.is_number()) {
        throw_decode_error(where, "expected a number");
    }
    out = jv.to_number<double>();
}

void decode(const json::value& jv, json::value& out, std::string_view /*where*/) {
    out = jv;
}

void decode(const json::value& jv, json::object& out, std::string_view where) {
    out = expect_object(jv, where);
}

json::value encode(const std::string& v, json::storage_ptr sp) {
    return json::value(json::string_view(v), std::move(sp));
}

json::value encode(bool v, json::storage_ptr sp) {
    return json::value(v, std::move(sp));
}

json::value encode(std::int64_t v, json::storage_ptr sp) {
    return json::value(v, std::move(sp));
}

json::value encode(double v, json::storage_ptr sp) {
    // JavaScript has one number type: write whole numbers as integers, as the runtime does.
    if (std::trunc(v) == v && std::fabs(v) < 0x1p53) {
        return json::value(static_cast<std::int64_t>(v), std::move(sp));
    }
    return json::value(v, std::move(sp));
}

json::value encode(const json::value& v, json::storage_ptr sp) {
    return json::value(v, std::move(sp));
}

json::value encode(const json::object& v, json::storage_ptr sp) {
    return json::value(json::object(v, sp), sp);
}

} // namespace copilot::detail
