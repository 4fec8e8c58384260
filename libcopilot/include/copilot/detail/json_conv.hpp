#pragma once

/// @file
/// Conversion helpers shared by the generated wire types, and `copilot::open_enum`.
///
/// The generated `tag_invoke` overloads are thin lists of `read` / `write` calls; the rules live
/// here once:
/// - decoding ignores fields it does not know and throws `copilot::error` with
///   `errc::decode_error` and a message `"<type>.<field>: <problem>"` for a missing required
///   field or a value of the wrong JSON kind;
/// - encoding omits unset `std::optional` fields; an empty `std::optional` that is not itself
///   optional (a nullable field) is written as `null`;
/// - an enum value the SDK does not know is kept as a string (see `open_enum`).

#include <boost/json/conversion.hpp>
#include <boost/json/object.hpp>
#include <boost/json/storage_ptr.hpp>
#include <boost/json/value.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace copilot {

/// A string enum value that may be one the SDK does not know.
///
/// The runtime adds enum values faster than SDKs follow, so a value missing from `E` must
/// neither fail the message it arrives in nor get lost when the message is encoded again.
/// `open_enum` holds either a known `E` or the unknown wire string.
///
/// `E` needs `to_string(E)` and `from_string(std::string_view, E&)` found by ADL, which every
/// generated enum has.
template <class E>
class open_enum {
public:
    /// Holds the first value of `E`.
    open_enum() = default;

    /// Holds a known value.
    open_enum(E value) noexcept
        : value_(value) {}

    /// Parses a wire string; an unknown one is kept as it is.
    static open_enum from_wire(std::string_view wire) {
        open_enum out;
        if (!from_string(wire, out.value_)) {
            out.known_ = false;
            out.unknown_ = std::string(wire);
        }
        return out;
    }

    /// True when the value is one of `E`.
    bool known() const noexcept { return known_; }

    /// The known value; meaningful only when `known()`.
    E value() const noexcept { return value_; }

    /// The wire string, known or not.
    std::string_view str() const noexcept { return known_ ? to_string(value_) : unknown_; }

    /// True when this holds the known value `e`.
    friend bool operator==(const open_enum& a, E e) noexcept { return a.known_ && a.value_ == e; }

    /// Compares wire strings.
    friend bool operator==(const open_enum& a, const open_enum& b) noexcept {
        return a.str() == b.str();
    }

private:
    E value_{};
    bool known_ = true;
    std::string unknown_;
};

namespace detail {

/// JSON kinds a union without a discriminator field is told apart by.
enum class json_kind { string, boolean, number, array, object };

/// Throws `copilot::error(errc::decode_error, "<where>: <what>")`.
[[noreturn]] void throw_decode_error(std::string_view where, std::string_view what);

/// The object in `jv`, or a decode error naming `where`.
const boost::json::object& expect_object(const boost::json::value& jv, std::string_view where);

/// The string value of `jv[key]`, or an empty view when there is none.
std::string_view tag_of(const boost::json::value& jv, std::string_view key) noexcept;

/// True when `jv` is of `kind` (any number kind counts as `number`).
bool is_kind(const boost::json::value& jv, json_kind kind) noexcept;

/// Adds `sessionId` to an encoded params object.
boost::json::value with_session_id(boost::json::value params, const std::string& session_id);

/// Looks `s` up in a table of an enum's wire strings.
template <class E, std::size_t N>
bool lookup_enum(const std::pair<std::string_view, E> (&table)[N],
                 std::string_view s,
                 E& out) noexcept {
    for (const auto& [wire, value] : table) {
        if (wire == s) {
            out = value;
            return true;
        }
    }
    return false;
}

// Decoding. Non-template overloads come first so the templates below find them.

void decode(const boost::json::value& jv, std::string& out, std::string_view where);
void decode(const boost::json::value& jv, bool& out, std::string_view where);
void decode(const boost::json::value& jv, std::int64_t& out, std::string_view where);
void decode(const boost::json::value& jv, double& out, std::string_view where);
void decode(const boost::json::value& jv, boost::json::value& out, std::string_view where);
void decode(const boost::json::value& jv, boost::json::object& out, std::string_view where);

template <class T>
void decode(const boost::json::value& jv, std::vector<T>& out, std::string_view where);
template <class T>
void decode(const boost::json::value& jv, std::map<std::string, T>& out, std::string_view where);
template <class T>
void decode(const boost::json::value& jv, std::optional<T>& out, std::string_view where);
template <class E>
void decode(const boost::json::value& jv, open_enum<E>& out, std::string_view where);

/// Generated types decode through their own `tag_invoke`, which names its own fields.
template <class T>
void decode(const boost::json::value& jv, T& out, std::string_view /*where*/) {
    out = tag_invoke(boost::json::value_to_tag<T>{}, jv);
}

template <class T>
void decode(const boost::json::value& jv, std::vector<T>& out, std::string_view where) {
    const auto* arr = jv.if_array();
    if (arr == nullptr) {
        throw_decode_error(where, "expected an array");
    }
    out.clear();
    out.reserve(arr->size());
    for (const auto& item : *arr) {
        decode(item, out.emplace_back(), where);
    }
}

template <class T>
void decode(const boost::json::value& jv, std::map<std::string, T>& out, std::string_view where) {
    const auto* obj = jv.if_object();
    if (obj == nullptr) {
        throw_decode_error(where, "expected an object");
    }
    out.clear();
    for (const auto& kv : *obj) {
        decode(kv.value(), out[std::string(kv.key())], where);
    }
}

/// A nullable value: `null` decodes to an empty optional.
template <class T>
void decode(const boost::json::value& jv, std::optional<T>& out, std::string_view where) {
    if (jv.is_null()) {
        out.reset();
        return;
    }
    decode(jv, out.emplace(), where);
}

template <class E>
void decode(const boost::json::value& jv, open_enum<E>& out, std::string_view where) {
    const auto* s = jv.if_string();
    if (s == nullptr) {
        throw_decode_error(where, "expected a string");
    }
    out = open_enum<E>::from_wire(*s);
}

/// Decodes a whole value as `T`; `where` names it in errors of non-generated types.
template <class T>
T decode_as(const boost::json::value& jv, std::string_view where) {
    T out;
    decode(jv, out, where);
    return out;
}

/// Decodes the required field `key`.
template <class T>
void read(const boost::json::object& obj, std::string_view key, T& out, std::string_view where) {
    const auto* jv = obj.if_contains(key);
    if (jv == nullptr) {
        throw_decode_error(where, "missing required field");
    }
    decode(*jv, out, where);
}

/// Decodes the optional field `key`; absent leaves `out` empty.
template <class T>
void read_optional(const boost::json::object& obj,
                   std::string_view key,
                   std::optional<T>& out,
                   std::string_view where) {
    const auto* jv = obj.if_contains(key);
    if (jv == nullptr) {
        out.reset();
        return;
    }
    decode(*jv, out.emplace(), where);
}

// Encoding, in the same order.

boost::json::value encode(const std::string& v, boost::json::storage_ptr sp = {});
boost::json::value encode(bool v, boost::json::storage_ptr sp = {});
boost::json::value encode(std::int64_t v, boost::json::storage_ptr sp = {});
boost::json::value encode(double v, boost::json::storage_ptr sp = {});
boost::json::value encode(const boost::json::value& v, boost::json::storage_ptr sp = {});
boost::json::value encode(const boost::json::object& v, boost::json::storage_ptr sp = {});

template <class T>
boost::json::value encode(const std::vector<T>& v, boost::json::storage_ptr sp = {});
template <class T>
boost::json::value encode(const std::map<std::string, T>& v, boost::json::storage_ptr sp = {});
template <class T>
boost::json::value encode(const std::optional<T>& v, boost::json::storage_ptr sp = {});
template <class E>
boost::json::value encode(const open_enum<E>& v, boost::json::storage_ptr sp = {});

/// Generated types encode through their own `tag_invoke`.
template <class T>
boost::json::value encode(const T& v, boost::json::storage_ptr sp = {}) {
    boost::json::value jv(std::move(sp));
    tag_invoke(boost::json::value_from_tag{}, jv, v);
    return jv;
}

template <class T>
boost::json::value encode(const std::vector<T>& v, boost::json::storage_ptr sp) {
    boost::json::array arr(sp);
    arr.reserve(v.size());
    for (const auto& item : v) {
        arr.push_back(encode(item, sp));
    }
    return arr;
}

template <class T>
boost::json::value encode(const std::map<std::string, T>& v, boost::json::storage_ptr sp) {
    boost::json::object obj(sp);
    for (const auto& [key, item] : v) {
        obj.emplace(key, encode(item, sp));
    }
    return obj;
}

/// A nullable value: empty encodes as `null`.
template <class T>
boost::json::value encode(const std::optional<T>& v, boost::json::storage_ptr sp) {
    if (!v) {
        return boost::json::value(nullptr, std::move(sp));
    }
    return encode(*v, std::move(sp));
}

template <class E>
boost::json::value encode(const open_enum<E>& v, boost::json::storage_ptr sp) {
    return boost::json::value(boost::json::string_view(v.str()), std::move(sp));
}

/// Writes the required field `key`.
template <class T>
void write(boost::json::object& obj, std::string_view key, const T& v) {
    obj.insert_or_assign(key, encode(v, obj.storage()));
}

/// Writes the optional field `key` when it is set.
template <class T>
void write_optional(boost::json::object& obj, std::string_view key, const std::optional<T>& v) {
    if (v) {
        obj.insert_or_assign(key, encode(*v, obj.storage()));
    }
}

} // namespace detail
} // namespace copilot
