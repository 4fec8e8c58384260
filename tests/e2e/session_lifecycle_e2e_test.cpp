// Sessions over their life against the real runtime: resumed by another client, listed and
// deleted, failing turns, and a send-and-wait that gives up before the turn ends.

#include "e2e/session_e2e.hpp"

#include <algorithm>
#include <atomic>

namespace copilot::test {
namespace {

using session_lifecycle_e2e = session_e2e;

bool lists(const std::vector<session_metadata>& sessions, const std::string& id) {
    return std::any_of(sessions.begin(), sessions.end(),
                       [&](const session_metadata& m) { return m.session_id == id; });
}

TEST_F(session_lifecycle_e2e, a_second_client_resumes_the_session_with_its_own_callbacks) {
    // Client A holds a turn and lets go of the session.
    auto first = open(config());
    ASSERT_TRUE(turn(first, "remember-the-word-walnut"));
    auto id = first.id();
    wait(first.async_disconnect(use_future));

    // Client B shares the runtime's home and brings its own token and tool callbacks.
    std::atomic<int> token_calls{0};
    shared_log<std::string> tool_calls;
    auto cfg = config();
    cfg.provider->bearer_token.reset();
    cfg.provider->token_provider = make_token_provider([&](provider_token_args args) {
        ++token_calls;
        EXPECT_EQ(args.provider_name, "default");
        return std::string("token-of-b");
    });
    cfg.tools.push_back(make_tool("lookup", "Looks a word up",
                                  json::object{{"type", "object"}, {"properties", json::object{}}},
                                  [&](tool_invocation call) {
                                      tool_calls.add(call.session_id);
                                      return std::string("found by client B");
                                  }));

    copilot::client other(io.get_executor(), options());
    wait(other.async_start(use_future));
    auto resumed = wait(other.async_resume_session(id, std::move(cfg), use_future));
    EXPECT_EQ(resumed.id(), id);

    model.clear_requests();
    model.push_reply(scripted_reply::tool_call("lookup"));
    auto reply =
        wait(resumed.async_send_and_wait(prompt("what was the word?"), turn_bound, use_future));
    ASSERT_TRUE(reply);
    EXPECT_EQ(reply->content, "Tool result: found by client B");

    // B answered: its tool ran, and every model request carried B's token.
    EXPECT_EQ(tool_calls.items(), std::vector<std::string>{id});
    auto requests = chat_requests();
    ASSERT_EQ(requests.size(), 2u);
    EXPECT_EQ(token_calls.load(), 2);
    for (const auto& request : requests)
        EXPECT_EQ(request.authorization, "Bearer token-of-b");

    // The resumed conversation still holds client A's turn.
    auto users = messages_with_role(requests[0], "user");
    ASSERT_GE(users.size(), 2u);
    EXPECT_NE(content_text(users.front()).find("walnut"), std::string::npos);

    wait(other.async_stop(use_future));
}

TEST_F(session_lifecycle_e2e, a_session_is_listed_described_and_deleted) {
    auto s = open(config());
    ASSERT_TRUE(turn(s, "hello"));
    auto id = s.id();

    EXPECT_TRUE(lists(wait(client.async_list_sessions({}, use_future)), id));
    auto metadata = wait(client.async_get_session_metadata(id, use_future));
    ASSERT_TRUE(metadata);
    EXPECT_EQ(metadata->session_id, id);
    EXPECT_FALSE(metadata->start_time.empty());
    EXPECT_FALSE(metadata->modified_time.empty());

    wait(s.async_disconnect(use_future));
    wait(client.async_delete_session(id, use_future));

    EXPECT_FALSE(lists(wait(client.async_list_sessions({}, use_future)), id));
    EXPECT_FALSE(wait(client.async_get_session_metadata(id, use_future)));
    expect_error(client.async_delete_session(id, use_future),
                 make_error_code(errc::session_not_found));
}

TEST_F(session_lifecycle_e2e, a_rejected_model_request_fails_the_turn_and_the_client_goes_on) {
    model.set_handler([](const recorded_request&) {
        return scripted_reply::error(400, "model-rejects-this-request");
    });
    shared_log<json::value> hook_errors;
    auto cfg = config();
    cfg.hooks.error_occurred =
        [&](error_occurred_input in) -> asio::awaitable<std::optional<hook_output>> {
        hook_errors.add(in.error);
        co_return std::nullopt;
    };
    auto failing = open(std::move(cfg));
    shared_log<events::session_error> errors;
    failing.on<events::session_error>([&](const events::session_error& e) { errors.add(e); });

    auto message = expect_error(failing.async_send_and_wait(prompt("hi"), turn_bound, use_future),
                                make_error_code(errc::session_error));
    EXPECT_NE(message.find("model-rejects-this-request"), std::string::npos) << message;
    EXPECT_EQ(chat_requests().size(), 1u) << "the runtime does not retry a 400";

    auto seen = errors.items();
    ASSERT_EQ(seen.size(), 1u);
    EXPECT_EQ(seen[0].error_type, "query");
    EXPECT_EQ(seen[0].status_code, 400);

    // The errorOccurred hook saw the same failure.
    auto hooked = hook_errors.items();
    ASSERT_EQ(hooked.size(), 1u);
    EXPECT_NE(json::serialize(hooked[0]).find("model-rejects-this-request"), std::string::npos);

    // The next session of the same client completes a turn.
    model.set_handler({});
    auto next = open(config());
    auto reply = turn(next, "second-try");
    ASSERT_TRUE(reply);
    EXPECT_NE(reply->content.find("second-try"), std::string::npos);
}

TEST_F(session_lifecycle_e2e, send_and_wait_times_out_while_the_turn_goes_on) {
    auto s = open(config());
    model.push_reply(scripted_reply::text("a slow answer").after(std::chrono::seconds(2)));

    expect_error(
        s.async_send_and_wait(prompt("take your time"), std::chrono::milliseconds(200), use_future),
        make_error_code(errc::timeout));

    // The turn was not aborted: its message and its idle still arrive.
    std::string content;
    std::optional<events::session_idle> idle;
    while (!idle) {
        auto event = wait(s.async_next_event(use_future));
        if (auto m = event.as<events::assistant_message>())
            content = m->content;
        idle = event.as<events::session_idle>();
    }
    EXPECT_EQ(content, "a slow answer");
    EXPECT_FALSE(idle->aborted.value_or(false));

    auto reply = turn(s, "and now quickly");
    ASSERT_TRUE(reply);
    EXPECT_NE(reply->content.find("and now quickly"), std::string::npos);
}

} // namespace
} // namespace copilot::test
