#include <copilot/session_event.hpp>

#include <copilot/error.hpp>
#include <copilot/generated/event_registry.hpp>

#include <utility>

namespace copilot {

namespace json = boost::json;

namespace {

[[noreturn]] void broken_envelope(std::string_view field, std::string_view problem) {
    std::string message = "session_event.";
    message += field;
    message += ": ";
    message += problem;
    throw error(errc::decode_error, message);
}

std::string required_string(const json::object& event, std::string_view key) {
    const auto* jv = event.if_contains(key);
    if (jv == nullptr) {
        broken_envelope(key, "missing required field");
    }
    if (!jv->is_string()) {
        broken_envelope(key, "expected a string");
    }
    return std::string(jv->get_string());
}

// `parentId` is required by the schema but `null` for the first event; absent is read as
// `null` too, so one odd event does not cost the whole stream.
std::optional<std::string> optional_string(const json::object& event, std::string_view key) {
    const auto* jv = event.if_contains(key);
    if (jv == nullptr || jv->is_null()) {
        return std::nullopt;
    }
    if (!jv->is_string()) {
        broken_envelope(key, "expected a string");
    }
    return std::string(jv->get_string());
}

std::optional<bool> optional_bool(const json::object& event, std::string_view key) {
    const auto* jv = event.if_contains(key);
    if (jv == nullptr || jv->is_null()) {
        return std::nullopt;
    }
    if (!jv->is_bool()) {
        broken_envelope(key, "expected a boolean");
    }
    return jv->get_bool();
}

// Reads everything but `data`, which the two overloads take by copy or by move.
session_event parse_envelope(const json::value& event) {
    const auto* obj = event.if_object();
    if (obj == nullptr) {
        broken_envelope("event", "expected an object");
    }
    const auto* data = obj->if_contains("data");
    if (data == nullptr) {
        broken_envelope("data", "missing required field");
    }
    if (!data->is_object()) {
        broken_envelope("data", "expected an object");
    }

    session_event out;
    out.id = required_string(*obj, "id");
    out.timestamp = required_string(*obj, "timestamp");
    out.type = required_string(*obj, "type");
    out.parent_id = optional_string(*obj, "parentId");
    out.ephemeral = optional_bool(*obj, "ephemeral");
    out.agent_id = optional_string(*obj, "agentId");
    return out;
}

} // namespace

bool session_event::is_known_type() const noexcept {
    return events::find_codec(type) != nullptr;
}

std::string session_event::check_data() const {
    const auto* codec = events::find_codec(type);
    if (codec == nullptr) {
        return {};
    }
    try {
        codec->round_trip(data);
    } catch (const error& e) {
        return e.what();
    }
    return {};
}

json::value session_event::to_json() const {
    json::object out;
    out["id"] = id;
    out["timestamp"] = timestamp;
    out["parentId"] = parent_id ? json::value(*parent_id) : json::value(nullptr);
    if (ephemeral) {
        out["ephemeral"] = *ephemeral;
    }
    if (agent_id) {
        out["agentId"] = *agent_id;
    }
    out["type"] = type;
    out["data"] = data;
    return out;
}

session_event parse_session_event(const json::value& event) {
    auto out = parse_envelope(event);
    out.data = event.get_object().at("data").get_object();
    return out;
}

session_event parse_session_event(json::value&& event) {
    auto out = parse_envelope(event);
    out.data = std::move(event.get_object().at("data").get_object());
    return out;
}

} // namespace copilot
