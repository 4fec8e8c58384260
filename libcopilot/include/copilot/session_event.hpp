#pragma once

/// @file
/// The envelope of one session event, with lazy typed access to its data.

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace copilot {

/// One event of a session's stream, as carried by a `session.event` notification.
///
/// Only the envelope is decoded when the event arrives; `data` stays raw JSON until someone
/// asks for a typed payload with `as<T>()`, so events nobody looks at cost no typed decoding.
/// Every event is kept, including types this SDK does not know (the runtime sends some that
/// its own schema does not list): their `data` is available as JSON.
///
/// @par Example
/// @code
/// if (auto msg = ev.as<events::assistant_message>()) {
///     std::cout << msg->content << '\n';
/// }
/// @endcode
struct session_event {
    /// Unique id of the event.
    std::string id;
    /// When the runtime emitted the event (ISO 8601).
    std::string timestamp;
    /// Id of the previous event of the session; empty for the first one.
    std::optional<std::string> parent_id;
    /// The event type, e.g. `"assistant.message"`.
    std::string type;
    /// True when the runtime does not persist the event; absent means persisted.
    std::optional<bool> ephemeral;
    /// The sub-agent that produced the event; absent for the main agent.
    std::optional<std::string> agent_id;
    /// The payload as received, always kept.
    boost::json::object data;

    /// True when this event is of the type of payload `T` (e.g. `events::session_idle`).
    template <class T>
    bool is() const noexcept {
        return type == T::type_name;
    }

    /// The payload decoded as `T`, or `std::nullopt` when the event is of another type.
    ///
    /// @throws copilot::error with `errc::decode_error` when the type matches but `data` does
    /// not have the shape of `T` (a required field is missing or has the wrong kind). The
    /// event itself stays usable: catch, log, and fall back to `data`.
    template <class T>
    std::optional<T> as() const {
        if (!is<T>()) {
            return std::nullopt;
        }
        return T::from_data(data);
    }

    /// True when the event's type is one the generated event list knows.
    bool is_known_type() const noexcept;

    /// Decodes `data` with the payload type of `type` to check it; returns the problem, or
    /// an empty string when it decodes (or the type is unknown, which is not a problem).
    ///
    /// Meant for logging: it never throws for a decoding failure.
    std::string check_data() const;

    /// The whole event as JSON again, in the wire layout.
    boost::json::value to_json() const;
};

/// Parses the `event` member of a `session.event` notification.
///
/// Only the envelope is checked: `id`, `timestamp` and `type` must be strings and `data` an
/// object; `parentId` may be a string or `null` (absent counts as `null`).
///
/// @throws copilot::error with `errc::decode_error` naming the broken envelope field.
session_event parse_session_event(const boost::json::value& event);

/// Same as above, but moves `data` out of `event` instead of copying it.
session_event parse_session_event(boost::json::value&& event);

} // namespace copilot
