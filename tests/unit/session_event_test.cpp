// The session event envelope: parsing, typed access and forward compatibility.

#include <copilot/error.hpp>
#include <copilot/generated/events.hpp>
#include <copilot/session_event.hpp>

#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

#include <string>

namespace {

namespace json = boost::json;
namespace events = copilot::events;

json::value event(std::string type, json::object data) {
    return json::object{{"id", "e-2"},
                        {"timestamp", "2026-12-03T10:00:00.000Z"},
                        {"parentId", "e-1"},
                        {"type", std::move(type)},
                        {"data", std::move(data)}};
}

bool is_decode_error(const copilot::error& e) {
    return e.code() == copilot::make_error_code(copilot::errc::decode_error);
}

TEST(SessionEvent, ParsesEnvelopeFields) {
    auto raw = event("session.idle", {{"aborted", true}});
    raw.as_object()["ephemeral"] = true;
    raw.as_object()["agentId"] = "sub-1";

    const auto ev = copilot::parse_session_event(raw);

    EXPECT_EQ(ev.id, "e-2");
    EXPECT_EQ(ev.timestamp, "2026-12-03T10:00:00.000Z");
    EXPECT_EQ(ev.parent_id, "e-1");
    EXPECT_EQ(ev.type, "session.idle");
    EXPECT_EQ(ev.ephemeral, true);
    EXPECT_EQ(ev.agent_id, "sub-1");
    EXPECT_EQ(ev.data.at("aborted"), true);
}

TEST(SessionEvent, NullParentAndMissingOptionals) {
    auto raw = event("session.idle", {});
    raw.as_object()["parentId"] = nullptr;

    const auto ev = copilot::parse_session_event(raw);

    EXPECT_FALSE(ev.parent_id);
    EXPECT_FALSE(ev.ephemeral);
    EXPECT_FALSE(ev.agent_id);
    EXPECT_EQ(ev.to_json(), raw);
}

TEST(SessionEvent, MoveOverloadKeepsData) {
    const auto ev = copilot::parse_session_event(event("abort", {{"reason", "user_initiated"}}));
    EXPECT_EQ(ev.data.at("reason"), "user_initiated");
}

TEST(SessionEvent, BrokenEnvelopeIsANamedDecodeError) {
    auto no_id = event("abort", {});
    no_id.as_object().erase("id");
    auto data_not_object = event("abort", {});
    data_not_object.as_object()["data"] = 3;

    for (const auto& [raw, field] :
         {std::pair{no_id, "session_event.id"}, std::pair{data_not_object, "session_event.data"},
          std::pair{json::value(42), "session_event.event"}}) {
        try {
            copilot::parse_session_event(raw);
            ADD_FAILURE() << "no error for " << field;
        } catch (const copilot::error& e) {
            EXPECT_TRUE(is_decode_error(e));
            EXPECT_NE(std::string(e.what()).find(field), std::string::npos) << e.what();
        }
    }
}

TEST(SessionEvent, TypedAccessDecodesOnlyItsOwnType) {
    const auto ev = copilot::parse_session_event(
        event("assistant.message", {{"messageId", "m-1"}, {"content", "Paris is sunny."}}));

    EXPECT_TRUE(ev.is<events::assistant_message>());
    EXPECT_FALSE(ev.as<events::session_idle>());

    const auto msg = ev.as<events::assistant_message>();
    ASSERT_TRUE(msg);
    EXPECT_EQ(msg->message_id, "m-1");
    EXPECT_EQ(msg->content, "Paris is sunny.");
    EXPECT_FALSE(msg->tool_requests);
}

TEST(SessionEvent, UnknownTypeIsKeptAndDelivered) {
    const auto raw = event("model.turn_started", {{"turn", 1}, {"note", json::array{1, 2}}});

    const auto ev = copilot::parse_session_event(raw);

    EXPECT_EQ(ev.type, "model.turn_started");
    EXPECT_FALSE(ev.is_known_type());
    EXPECT_EQ(ev.check_data(), "");
    EXPECT_FALSE(ev.as<events::assistant_message>());
    EXPECT_EQ(ev.to_json(), raw);
}

TEST(SessionEvent, UnknownFieldIsIgnored) {
    const auto ev = copilot::parse_session_event(
        event("assistant.message", {{"messageId", "m-1"}, {"content", "hi"}, {"newField", 7}}));

    EXPECT_EQ(ev.check_data(), "");
    EXPECT_EQ(ev.as<events::assistant_message>()->content, "hi");
    EXPECT_EQ(ev.data.at("newField"), 7);
}

TEST(SessionEvent, UnknownEnumValueDoesNotFailTheEvent) {
    const auto ev = copilot::parse_session_event(event("session.idle", {{"mode", "hyperdrive"}}));

    const auto idle = ev.as<events::session_idle>();

    ASSERT_TRUE(idle && idle->mode);
    EXPECT_FALSE(idle->mode->known());
    EXPECT_EQ(idle->mode->str(), "hyperdrive");
    EXPECT_FALSE(*idle->mode == events::session_mode::interactive);
    EXPECT_EQ(copilot::detail::encode(*idle), ev.data);
}

TEST(SessionEvent, KnownEnumValueIsTyped) {
    const auto ev = copilot::parse_session_event(event("session.idle", {{"mode", "plan"}}));

    const auto idle = ev.as<events::session_idle>();

    ASSERT_TRUE(idle && idle->mode);
    EXPECT_TRUE(*idle->mode == events::session_mode::plan);
    EXPECT_EQ(idle->mode->value(), events::session_mode::plan);
}

TEST(SessionEvent, MissingRequiredFieldIsANamedErrorAndTheEventStaysUsable) {
    const auto ev = copilot::parse_session_event(event("assistant.message", {{"content", "x"}}));

    try {
        (void)ev.as<events::assistant_message>();
        ADD_FAILURE() << "no error";
    } catch (const copilot::error& e) {
        EXPECT_TRUE(is_decode_error(e));
        EXPECT_NE(std::string(e.what()).find("assistant_message.message_id"), std::string::npos)
            << e.what();
    }

    EXPECT_NE(ev.check_data().find("assistant_message.message_id"), std::string::npos);
    EXPECT_EQ(ev.data.at("content"), "x");
}

TEST(SessionEvent, WrongKindIsANamedError) {
    const auto ev = copilot::parse_session_event(
        event("assistant.message", {{"messageId", 5}, {"content", "x"}}));

    const auto problem = ev.check_data();

    EXPECT_NE(problem.find("assistant_message.message_id"), std::string::npos) << problem;
    EXPECT_NE(problem.find("expected a string"), std::string::npos) << problem;
}

TEST(SessionEvent, OneBadEventDoesNotStopTheOthers) {
    const json::value stream[] = {
        event("assistant.message", {{"content", "missing id"}}),
        event("model.log", {{"anything", true}}),
        event("session.idle", {{"aborted", false}}),
    };

    int delivered = 0;
    int problems = 0;
    for (const auto& raw : stream) {
        const auto ev = copilot::parse_session_event(raw);
        ++delivered;
        problems += ev.check_data().empty() ? 0 : 1;
    }

    EXPECT_EQ(delivered, 3);
    EXPECT_EQ(problems, 1);
}

} // namespace
