// The generated typed wrappers against the real runtime: their method names, the params they
// send and the results they decode must match runtime 1.0.102.

#include "e2e/session_e2e.hpp"

#include <algorithm>

namespace copilot::test {
namespace {

using typed_rpc_e2e = session_e2e;

TEST_F(typed_rpc_e2e, server_ping_decodes_its_typed_result) {
    api::ping_request request;
    request.message = "typed";

    auto result = wait(client.rpc().async_ping(request, use_future));

    EXPECT_EQ(result.message, "pong: typed");
    EXPECT_EQ(result.protocol_version, 3);
    EXPECT_FALSE(result.timestamp.empty());
}

TEST_F(typed_rpc_e2e, session_model_query_reports_the_configured_model) {
    auto s = open(config());

    auto current = wait(s.rpc().async_model_get_current(use_future));

    ASSERT_TRUE(current.model_id);
    EXPECT_EQ(*current.model_id, "gpt-4o");
}

TEST_F(typed_rpc_e2e, session_log_writes_an_event_into_the_session_history) {
    auto s = open(config());
    api::log_request entry;
    entry.message = "written through the typed wrapper";
    entry.level = api::session_log_level::warning;

    auto logged = wait(s.rpc().async_log(entry, use_future));
    ASSERT_FALSE(logged.event_id.empty());

    // The event the runtime created carries the id it returned and our message.
    auto history = wait(s.async_get_messages(use_future));
    auto it = std::find_if(history.begin(), history.end(),
                           [&](const session_event& e) { return e.id == logged.event_id; });
    ASSERT_NE(it, history.end()) << "no event with id " << logged.event_id;
    auto* message = it->data.if_contains("message");
    ASSERT_NE(message, nullptr);
    EXPECT_EQ(*message, "written through the typed wrapper");
}

TEST_F(typed_rpc_e2e, session_mode_set_is_read_back_by_mode_get) {
    auto s = open(config());
    api::mode_set_request change;
    change.mode = api::session_mode::plan;

    wait(s.rpc().async_mode_set(change, use_future));
    auto mode = wait(s.rpc().async_mode_get(use_future));

    EXPECT_EQ(mode, json::value("plan"));
}

TEST_F(typed_rpc_e2e, a_wrapper_for_a_destroyed_session_fails_with_the_runtime_error) {
    auto s = open(config());
    auto orphan = s.rpc();
    wait(s.async_destroy(use_future));

    try {
        wait(orphan.async_model_get_current(use_future));
        ADD_FAILURE() << "a call for a session that does not exist succeeded";
    } catch (const copilot::error& e) {
        EXPECT_EQ(e.code().category(), rpc_category()) << e.what();
    }
}

} // namespace
} // namespace copilot::test
