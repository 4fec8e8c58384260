// A local MCP server in a session against the real runtime: the runtime starts it, offers its
// tools to the model, asks the preMcpToolCall hook before calling one, and forwards the server's
// elicitations to this client.

#include "e2e/session_e2e.hpp"

#include <filesystem>

namespace copilot::test {
namespace {

using session_mcp_e2e = session_e2e;

// The MCP server script next to this project's test support code.
std::string mcp_server_script() {
    auto here = std::filesystem::path(__FILE__).parent_path();
    return (here.parent_path() / "support" / "echo_mcp_server.py").string();
}

// The name under which the request offers a tool whose name ends in `suffix`, or "".
std::string offered_tool(const recorded_request& request, std::string_view suffix) {
    for (auto& name : offered_tools(request))
        if (name.ends_with(suffix))
            return name;
    return {};
}

// A session config with the test MCP server under the name "echo".
session_config with_mcp_server(session_config cfg) {
    mcp_local_server server;
    server.command = "python3";
    server.args = {mcp_server_script()};
    cfg.mcp_servers["echo"] = std::move(server);
    return cfg;
}

// Makes the first model request of a turn call the offered tool ending in `suffix`; records the
// name it was offered under in `called`.
copilot::testing::reply_handler
call_tool_once(std::string suffix, json::object args, std::string& called) {
    return [suffix, args, &called](const recorded_request& request) {
        auto name = offered_tool(request, suffix);
        if (name.empty() || !messages_with_role(request, "tool").empty() || !called.empty())
            return copilot::testing::model_server::default_reply(request);
        called = name;
        return scripted_reply::tool_call(name, args);
    };
}

TEST_F(session_mcp_e2e, an_mcp_tool_call_passes_the_pre_mcp_tool_call_hook) {
    shared_log<pre_mcp_tool_call_input> seen;
    auto cfg = with_mcp_server(config());
    cfg.hooks.pre_mcp_tool_call =
        [&seen](pre_mcp_tool_call_input in) -> asio::awaitable<std::optional<hook_output>> {
        seen.add(std::move(in));
        co_return std::nullopt;
    };
    auto s = open(std::move(cfg));

    // The first request calls the MCP tool under whatever name the runtime gave it.
    std::string tool_name;
    model.set_handler(call_tool_once("shout", json::object{{"text", "quiet words"}}, tool_name));
    auto reply = turn(s, "Shout 'quiet words' with the MCP tool.");
    ASSERT_TRUE(reply);
    ASSERT_FALSE(tool_name.empty()) << "the model was never offered the MCP tool";

    auto calls = seen.items();
    ASSERT_EQ(calls.size(), 1u);
    EXPECT_EQ(calls[0].server_name, "echo");
    EXPECT_EQ(calls[0].tool_name, "shout");
    EXPECT_TRUE(tool_name.ends_with("shout")) << tool_name;
    EXPECT_EQ(calls[0].tool_args, (json::object{{"text", "quiet words"}}))
        << json::serialize(calls[0].raw);
    EXPECT_FALSE(calls[0].tool_call_id.empty());

    // The MCP server's answer went back to the model.
    auto requests = chat_requests();
    ASSERT_GE(requests.size(), 2u);
    EXPECT_NE(tool_message_text(requests[1]).find("QUIET WORDS"), std::string::npos)
        << tool_message_text(requests[1]);
}

TEST_F(session_mcp_e2e, an_mcp_server_elicitation_is_answered_by_the_handler) {
    shared_log<elicitation_request> asked;
    auto cfg = with_mcp_server(config());
    cfg.on_elicitation = [&asked](elicitation_request r) -> asio::awaitable<elicitation_result> {
        asked.add(std::move(r));
        co_return elicitation_result{"accept", json::object{{"name", "Ada"}}};
    };
    auto s = open(std::move(cfg));

    std::string tool_name;
    model.set_handler(call_tool_once("ask_name", json::object{}, tool_name));
    auto reply = turn(s, "Ask me for my name with the MCP tool.");
    ASSERT_TRUE(reply);
    ASSERT_FALSE(tool_name.empty()) << "the model was never offered the MCP tool";

    auto requests = asked.items();
    ASSERT_EQ(requests.size(), 1u);
    EXPECT_EQ(requests[0].session_id, s.id());
    EXPECT_EQ(requests[0].message, "What is your name?");
    ASSERT_TRUE(requests[0].requested_schema);
    EXPECT_TRUE(requests[0].requested_schema->at("properties").as_object().contains("name"));

    // The server got the answer and returned it as the tool's result.
    auto result = tool_message_text(chat_requests().at(1));
    EXPECT_NE(result.find("accept"), std::string::npos) << result;
    EXPECT_NE(result.find("Ada"), std::string::npos) << result;
}

} // namespace
} // namespace copilot::test
