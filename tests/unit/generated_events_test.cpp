// Round trip of every session event captured from the pinned runtime through the generated
// payload types.

#include <copilot/generated/events.hpp>
#include <copilot/session_event.hpp>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <string>
#include <vector>

namespace {

namespace json = boost::json;

// The `event` members of every `session.event` notification in the capture.
std::vector<json::value> captured_events() {
    std::ifstream in(std::string(COPILOT_SHARED_DIR) + "/wire-transcript.jsonl");
    std::vector<json::value> out;
    std::string line;
    while (std::getline(in, line)) {
        auto entry = json::parse(line);
        const auto* msg = entry.as_object().if_contains("msg");
        if (msg == nullptr) {
            continue;
        }
        const auto* method = msg->as_object().if_contains("method");
        if (method != nullptr && *method == "session.event") {
            out.push_back(msg->at("params").at("event"));
        }
    }
    return out;
}

TEST(GeneratedEvents, TranscriptHasEvents) {
    // Guards the tests below against passing on an empty or missing capture.
    EXPECT_GT(captured_events().size(), 40u);
}

// Walks `before` (captured) and `after` (decoded and encoded again) side by side: every value
// in `after` must equal the captured one, and each captured field missing from `after` is
// recorded in `dropped`. Numbers compare by value: JavaScript has one number type, so `38`
// and `38.0` are the same number on the wire.
void compare(const json::value& before,
             const json::value& after,
             const std::string& path,
             std::set<std::string>& dropped) {
    if (before.is_number() && after.is_number()) {
        EXPECT_EQ(before.to_number<double>(), after.to_number<double>()) << path;
        return;
    }
    if (before.is_object() && after.is_object()) {
        for (const auto& kv : before.get_object()) {
            const auto key = path + "." + std::string(kv.key());
            const auto* again = after.get_object().if_contains(kv.key());
            if (again == nullptr) {
                dropped.insert(key);
            } else {
                compare(kv.value(), *again, key, dropped);
            }
        }
        for (const auto& kv : after.get_object()) {
            EXPECT_TRUE(before.get_object().contains(kv.key())) << "added " << path << kv.key();
        }
        return;
    }
    if (before.is_array() && after.is_array()) {
        ASSERT_EQ(before.get_array().size(), after.get_array().size()) << path;
        for (std::size_t i = 0; i < before.get_array().size(); ++i) {
            compare(before.get_array()[i], after.get_array()[i], path + "[]", dropped);
        }
        return;
    }
    EXPECT_EQ(before, after) << path;
}

TEST(GeneratedEvents, EveryKnownEventRoundTripsWithAllSchemaFields) {
    std::size_t known = 0;
    std::set<std::string> dropped;
    for (const auto& raw : captured_events()) {
        const auto ev = copilot::parse_session_event(raw);
        const auto* codec = copilot::events::find_codec(ev.type);
        if (codec == nullptr) {
            continue;
        }
        ++known;

        SCOPED_TRACE(ev.type);
        json::value again;
        ASSERT_NO_THROW(again = codec->round_trip(ev.data)) << ev.check_data();
        compare(json::value(ev.data), again, ev.type, dropped);
    }
    EXPECT_GT(known, 30u);

    // The runtime sends these fields although its 1.0.102 schema does not list them, so they
    // are the only ones a typed round trip may lose. Any other loss is a generator bug.
    const std::set<std::string> not_in_schema = {
        "permission.requested.permissionRequest.shellType",
        "permission.requested.permissionRequest.commandSegments[].allowMatchIdentifier",
        "permission.requested.permissionRequest.commandSegments[].staticTokens",
        "permission.requested.permissionRequest.commandSegments[].hasUnboundExecutableContent",
        "permission.requested.permissionRequest.commandSegments[].workingDirectory",
    };
    for (const auto& path : dropped) {
        EXPECT_TRUE(not_in_schema.count(path)) << "lost a schema field: " << path;
    }
}

TEST(GeneratedEvents, UnknownTypesInCaptureAreKeptRaw) {
    std::set<std::string> unknown;
    for (const auto& raw : captured_events()) {
        const auto ev = copilot::parse_session_event(raw);
        if (copilot::events::find_codec(ev.type) != nullptr) {
            continue;
        }
        unknown.insert(ev.type);
        EXPECT_FALSE(ev.is_known_type());
        EXPECT_EQ(json::value(ev.data), raw.at("data"));
        EXPECT_EQ(ev.check_data(), "");
        EXPECT_EQ(ev.to_json(), raw);
    }
    // The runtime sends `model.*` events its schema does not list.
    EXPECT_TRUE(unknown.count("model.turn_started")) << unknown.size();
}

TEST(GeneratedEvents, EnvelopeRoundTripsForEveryCapturedEvent) {
    for (const auto& raw : captured_events()) {
        EXPECT_EQ(copilot::parse_session_event(raw).to_json(), raw);
    }
}

TEST(GeneratedEvents, TypeNamesAreSortedUniqueAndFindable) {
    const auto& names = copilot::events::type_names;
    ASSERT_EQ(names.size(), 163u);
    for (std::size_t i = 1; i < names.size(); ++i) {
        EXPECT_LT(names[i - 1], names[i]);
    }
    for (auto name : names) {
        const auto* codec = copilot::events::find_codec(name);
        ASSERT_NE(codec, nullptr) << name;
        EXPECT_EQ(codec->type_name, name);
    }
    EXPECT_EQ(copilot::events::find_codec("model.turn_started"), nullptr);
    EXPECT_EQ(copilot::events::find_codec(""), nullptr);
}

TEST(GeneratedEvents, PayloadTypeNamesMatchTheirEvents) {
    EXPECT_EQ(copilot::events::assistant_message::type_name, "assistant.message");
    EXPECT_EQ(copilot::events::session_idle::type_name, "session.idle");
    EXPECT_TRUE(copilot::events::session_idle::always_ephemeral);
    EXPECT_FALSE(copilot::events::assistant_message::always_ephemeral);
}

} // namespace
