// Generated API wire types, method names and the hand-written runtime -> client requests.

#include <copilot/client_requests.hpp>
#include <copilot/error.hpp>
#include <copilot/generated/api.hpp>
#include <copilot/generated/events.hpp>
#include <copilot/generated/methods.hpp>

#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <variant>
#include <vector>

namespace {

namespace json = boost::json;
namespace api = copilot::api;
namespace detail = copilot::detail;

// The params of every runtime -> client request named `method` in the capture.
std::vector<json::value> captured_params(std::string_view method) {
    std::ifstream in(std::string(COPILOT_SHARED_DIR) + "/wire-transcript.jsonl");
    std::vector<json::value> out;
    std::string line;
    while (std::getline(in, line)) {
        auto entry = json::parse(line);
        const auto* msg = entry.as_object().if_contains("msg");
        if (msg == nullptr || entry.at("dir") != "s2c") {
            continue;
        }
        const auto* m = msg->as_object().if_contains("method");
        if (m != nullptr && m->is_string() && m->get_string() == method) {
            out.push_back(msg->at("params"));
        }
    }
    return out;
}

template <class T>
std::string decode_error_of(const json::value& jv) {
    try {
        (void)detail::decode_as<T>(jv, "test");
    } catch (const copilot::error& e) {
        EXPECT_EQ(e.code(), copilot::make_error_code(copilot::errc::decode_error));
        return e.what();
    }
    return {};
}

TEST(GeneratedApi, MethodNameConstants) {
    EXPECT_EQ(copilot::methods::session_model_get_current, "session.model.getCurrent");
    EXPECT_EQ(copilot::methods::session_model_switch_to, "session.model.switchTo");
    EXPECT_EQ(copilot::methods::provider_token_get_token, "providerToken.getToken");
    EXPECT_EQ(copilot::methods::session_fs_read_file, "sessionFs.readFile");
    // Not in the schema, listed by hand.
    EXPECT_EQ(copilot::methods::user_input_request, "userInput.request");
    EXPECT_EQ(copilot::methods::session_event, "session.event");
}

TEST(GeneratedApi, ProviderTokenRequestsOfTheCaptureDecode) {
    const auto all = captured_params(copilot::methods::provider_token_get_token);
    ASSERT_EQ(all.size(), 4u);
    for (const auto& params : all) {
        const auto req = detail::decode_as<api::provider_token_acquire_request>(params, "");
        EXPECT_EQ(req.provider_name, "default");
        EXPECT_EQ(detail::encode(req), params);
    }
}

TEST(GeneratedApi, HookRequestsOfTheCaptureDecode) {
    const auto all = captured_params(copilot::methods::hooks_invoke);
    ASSERT_FALSE(all.empty());
    for (const auto& params : all) {
        const auto req = detail::decode_as<api::hook_invoke_request>(params, "");
        EXPECT_TRUE(req.hook_type.known()) << req.hook_type.str();
        EXPECT_EQ(detail::encode(req), params);
    }
}

TEST(GeneratedApi, UnknownEnumValueSurvivesReencoding) {
    const json::value params = {{"sessionId", "s"}, {"hookType", "futureHook"}, {"input", {}}};

    const auto req = detail::decode_as<api::hook_invoke_request>(params, "");

    EXPECT_FALSE(req.hook_type.known());
    EXPECT_EQ(req.hook_type.str(), "futureHook");
    EXPECT_EQ(detail::encode(req), params);
}

TEST(GeneratedApi, EnumStringsRoundTrip) {
    api::hook_type t{};
    ASSERT_TRUE(from_string("preToolUse", t));
    EXPECT_EQ(t, api::hook_type::pre_tool_use);
    EXPECT_EQ(to_string(t), "preToolUse");
    EXPECT_FALSE(from_string("PreToolUse", t));
}

TEST(GeneratedApi, UnknownFieldIsIgnoredAndNotReencoded) {
    const json::value params = {{"sessionId", "s"}, {"providerName", "alpha"}, {"extra", 1}};

    const auto req = detail::decode_as<api::provider_token_acquire_request>(params, "");

    EXPECT_EQ(req.provider_name, "alpha");
    EXPECT_EQ(detail::encode(req), (json::value{{"sessionId", "s"}, {"providerName", "alpha"}}));
}

TEST(GeneratedApi, MissingRequiredFieldNamesTypeAndField) {
    const auto what =
        decode_error_of<api::provider_token_acquire_request>(json::value{{"sessionId", "s"}});

    EXPECT_NE(what.find("provider_token_acquire_request.provider_name"), std::string::npos) << what;
    EXPECT_NE(what.find("missing required field"), std::string::npos) << what;
}

TEST(GeneratedApi, NotAnObjectIsANamedError) {
    const auto what = decode_error_of<api::provider_token_acquire_request>(json::value("x"));
    EXPECT_NE(what.find("provider_token_acquire_request"), std::string::npos) << what;
}

TEST(GeneratedApi, OptionalFieldsAreOmittedAndNullableOnesSentAsNull) {
    api::model_switch_to_request req;
    req.session_id = "s";
    req.model_id = "gpt-4o";
    req.reasoning_effort.emplace(); // present, null: clear the override

    const auto jv = detail::encode(req);

    EXPECT_EQ(
        jv, (json::value{{"sessionId", "s"}, {"modelId", "gpt-4o"}, {"reasoningEffort", nullptr}}));
    const auto back = detail::decode_as<api::model_switch_to_request>(jv, "");
    ASSERT_TRUE(back.reasoning_effort);
    EXPECT_FALSE(*back.reasoning_effort);
    EXPECT_FALSE(back.provider_id);
}

TEST(GeneratedApi, DiscriminatedUnionPicksTheTaggedShape) {
    const json::value shell = {{"kind", "shell"},
                               {"fullCommandText", "ls"},
                               {"intention", "list"},
                               {"commands", json::array{}},
                               {"possiblePaths", json::array{}},
                               {"possibleUrls", json::array{}},
                               {"hasWriteFileRedirection", false},
                               {"canOfferSessionApproval", false}};

    const auto req = detail::decode_as<copilot::events::permission_request>(shell, "");

    EXPECT_TRUE(std::holds_alternative<copilot::events::permission_request_shell>(req.value));
}

TEST(GeneratedApi, UnionWithUnknownTagIsKeptRaw) {
    const json::value future = {{"kind", "teleport"}, {"where", "mars"}};

    const auto req = detail::decode_as<copilot::events::permission_request>(future, "");

    ASSERT_TRUE(std::holds_alternative<json::value>(req.value));
    EXPECT_EQ(detail::encode(req), future);
}

TEST(ClientRequests, UserInputRequestOfTheCapture) {
    const auto all = captured_params(copilot::methods::user_input_request);
    ASSERT_EQ(all.size(), 1u);

    const auto req = detail::decode_as<api::user_input_request>(all[0], "");

    EXPECT_EQ(req.question, "Which color?");
    EXPECT_EQ(req.choices, (std::vector<std::string>{"red", "blue"}));
    EXPECT_EQ(req.allow_freeform, true);
    EXPECT_EQ(detail::encode(req), all[0]);
    EXPECT_EQ(detail::encode(api::user_input_response{"blue", false}),
              (json::value{{"answer", "blue"}, {"wasFreeform", false}}));
}

TEST(ClientRequests, SystemMessageTransformOfTheCapture) {
    const auto all = captured_params(copilot::methods::system_message_transform);
    ASSERT_EQ(all.size(), 1u);

    const auto req = detail::decode_as<api::system_message_transform_request>(all[0], "");

    ASSERT_EQ(req.sections.count("tone"), 1u);
    EXPECT_FALSE(req.sections.at("tone").content.empty());
    EXPECT_EQ(detail::encode(req), all[0]);
}

TEST(ClientRequests, MissingRequiredFieldNamesTypeAndField) {
    const auto what = decode_error_of<api::exit_plan_mode_request>(
        json::value{{"sessionId", "s"}, {"summary", "plan"}, {"actions", json::array{}}});

    EXPECT_NE(what.find("exit_plan_mode_request.recommended_action"), std::string::npos) << what;
}

TEST(ClientRequests, AutoModeSwitchRoundTrip) {
    const json::value params = {
        {"sessionId", "s"}, {"errorCode", "rate_limited"}, {"retryAfterSeconds", 30}};

    const auto req = detail::decode_as<api::auto_mode_switch_request>(params, "");

    EXPECT_EQ(req.retry_after_seconds, 30);
    EXPECT_EQ(detail::encode(req), params);
}

} // namespace
