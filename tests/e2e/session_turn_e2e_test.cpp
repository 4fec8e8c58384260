// Session turns against the real runtime: a plain turn, streaming, a transformed system
// prompt, and many sessions at once on one client.

#include "e2e/session_e2e.hpp"

#include <map>

namespace copilot::test {
namespace {

using session_turn_e2e = session_e2e;

TEST_F(session_turn_e2e, send_and_wait_returns_the_model_reply) {
    model.push_reply(scripted_reply::text("The answer is forty-two."));
    auto s = open(config());

    auto reply = turn(s, "What is the answer?");

    ASSERT_TRUE(reply);
    EXPECT_NE(reply->content.find("The answer is forty-two."), std::string::npos) << reply->content;

    auto requests = chat_requests();
    ASSERT_EQ(requests.size(), 1u);
    EXPECT_EQ(requests[0].method, "POST");
    EXPECT_EQ(requests[0].authorization, std::string("Bearer ") + static_token);
    EXPECT_NE(last_text(requests[0], "user").find("What is the answer?"), std::string::npos);
    EXPECT_FALSE(requests[0].streaming());
}

TEST_F(session_turn_e2e, streamed_deltas_add_up_to_the_final_message) {
    auto cfg = config();
    cfg.streaming = true;
    auto s = open(std::move(cfg));

    // The subscription API, typed: deltas arrive on the client's strand.
    shared_log<std::string> deltas;
    auto sub = s.on<events::assistant_message_delta>(
        [&](const events::assistant_message_delta& d) { deltas.add(d.delta_content); });

    model.push_reply(scripted_reply::text("one two three four five"));
    auto reply = turn(s, "count to five");
    sub.unsubscribe();

    ASSERT_TRUE(reply);
    EXPECT_EQ(reply->content, "one two three four five");
    auto parts = deltas.items();
    EXPECT_GT(parts.size(), 1u) << "the model server streams one chunk per word";
    std::string assembled;
    for (const auto& part : parts)
        assembled += part;
    EXPECT_EQ(assembled, reply->content);
    EXPECT_TRUE(chat_requests().back().streaming());

    // The pull API sees the same turn, delta by delta, up to session.idle.
    std::string pulled;
    std::string final_content;
    for (;;) {
        auto event = wait(s.async_next_event(use_future));
        if (auto d = event.as<events::assistant_message_delta>())
            pulled += d->delta_content;
        else if (auto m = event.as<events::assistant_message>())
            final_content = m->content;
        else if (event.is<events::session_idle>())
            break;
    }
    EXPECT_EQ(final_content, reply->content);
    EXPECT_EQ(pulled, final_content);
}

TEST_F(session_turn_e2e, a_transformed_system_section_reaches_the_model) {
    constexpr const char* marker = "[[tone-marker-5d1c]]";
    shared_log<std::string> originals;

    system_section tone;
    tone.action = "transform";
    tone.transform = [&](std::string original) -> asio::awaitable<std::string> {
        originals.add(original);
        co_return original + "\n" + marker;
    };
    system_message_config system;
    system.mode = "customize";
    system.sections.emplace("tone", std::move(tone));

    auto cfg = config();
    cfg.system_message = std::move(system);
    auto s = open(std::move(cfg));
    auto reply = turn(s, "hello");
    ASSERT_TRUE(reply);

    auto seen = originals.items();
    ASSERT_EQ(seen.size(), 1u) << "the runtime asks once per session";
    EXPECT_FALSE(seen[0].empty()) << "the callback gets the section's current text";

    auto requests = chat_requests();
    ASSERT_FALSE(requests.empty());
    auto system_text = last_text(requests[0], "system");
    EXPECT_NE(system_text.find(marker), std::string::npos);
    EXPECT_NE(system_text.find(seen[0]), std::string::npos) << "the original text is kept";
}

TEST_F(session_turn_e2e, twenty_sessions_complete_a_turn_concurrently) {
    constexpr int count = 20;
    std::vector<session> sessions;
    for (int i = 0; i < count; ++i)
        sessions.push_back(open(config()));

    // All turns are in flight before any is awaited.
    std::vector<std::future<std::optional<events::assistant_message>>> replies;
    for (int i = 0; i < count; ++i) {
        auto text = "prompt-" + std::to_string(i) + "-end";
        replies.push_back(sessions[i].async_send_and_wait(prompt(text), turn_bound, use_future));
    }

    for (int i = 0; i < count; ++i) {
        auto reply = wait(std::move(replies[i]));
        ASSERT_TRUE(reply) << "session " << i;
        // The model server echoes the prompt, so each reply proves whose prompt it answers.
        auto own = "prompt-" + std::to_string(i) + "-end";
        EXPECT_NE(reply->content.find(own), std::string::npos) << reply->content;
    }

    std::map<std::string, int> prompts_seen;
    for (const auto& request : chat_requests())
        ++prompts_seen[last_text(request, "user")];
    EXPECT_EQ(prompts_seen.size(), static_cast<std::size_t>(count));
}

} // namespace
} // namespace copilot::test
