#include <copilot/error.hpp>
#include <copilot/jsonrpc/framer.hpp>

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace {

using copilot::errc;
using copilot::jsonrpc::framer;

// Feeds `input` in two pieces split at `split` and collects every frame and the final error.
struct split_result {
    std::vector<std::string> frames;
    boost::system::error_code ec;
};

split_result feed_split(std::string_view input, std::size_t split, std::size_t max = 1 << 20) {
    framer f(max);
    split_result out;
    for (auto piece : {input.substr(0, split), input.substr(split)}) {
        f.feed(piece);
        while (auto body = f.next(out.ec))
            out.frames.emplace_back(*body);
        if (out.ec)
            break;
    }
    return out;
}

TEST(framer, every_byte_split_of_two_frames_gives_the_same_frames) {
    std::string input = framer::encode(R"({"a":1})") +
                        "Content-Type: application/vscode-jsonrpc; charset=utf-8\r\n"
                        "Content-Length: 12\r\n\r\n{\"b\":[1,2]}\n";
    for (std::size_t split = 0; split <= input.size(); ++split) {
        auto result = feed_split(input, split);
        ASSERT_FALSE(result.ec) << "split at " << split;
        ASSERT_EQ(result.frames.size(), 2u) << "split at " << split;
        EXPECT_EQ(result.frames[0], R"({"a":1})");
        EXPECT_EQ(result.frames[1], "{\"b\":[1,2]}\n");
    }
}

TEST(framer, byte_by_byte_feeding_of_many_frames) {
    std::string input;
    for (int i = 0; i < 50; ++i)
        input += framer::encode(std::string(static_cast<std::size_t>(i), 'x'));
    framer f;
    std::vector<std::string> frames;
    boost::system::error_code ec;
    for (char c : input) {
        f.feed(std::string_view(&c, 1));
        while (auto body = f.next(ec))
            frames.emplace_back(*body);
        ASSERT_FALSE(ec);
    }
    ASSERT_EQ(frames.size(), 50u);
    EXPECT_EQ(frames[49], std::string(49, 'x'));
    EXPECT_EQ(f.buffered(), 0u);
}

TEST(framer, header_name_is_case_insensitive) {
    auto result = feed_split("content-length: 2\r\n\r\n{}", 0);
    ASSERT_FALSE(result.ec);
    ASSERT_EQ(result.frames.size(), 1u);
}

struct bad_header_case {
    const char* input;
    errc expected;
};

class framer_bad_header : public ::testing::TestWithParam<bad_header_case> {};

TEST_P(framer_bad_header, is_rejected_with_a_named_error_at_any_split) {
    std::string input = GetParam().input;
    for (std::size_t split = 0; split <= input.size(); ++split) {
        auto result = feed_split(input, split, 1024);
        EXPECT_TRUE(result.frames.empty());
        EXPECT_EQ(result.ec, copilot::make_error_code(GetParam().expected)) << input;
    }
}

INSTANTIATE_TEST_SUITE_P(
    cases,
    framer_bad_header,
    ::testing::Values(bad_header_case{"Content-Type: x\r\n\r\n{}", errc::bad_frame_header},
                      bad_header_case{"Content-Length: -2\r\n\r\n{}", errc::bad_frame_header},
                      bad_header_case{"Content-Length: abc\r\n\r\n{}", errc::bad_frame_header},
                      bad_header_case{"Content-Length: 2x\r\n\r\n{}", errc::bad_frame_header},
                      bad_header_case{"Content-Length: 2.5\r\n\r\n{}", errc::bad_frame_header},
                      bad_header_case{"Content-Length:\r\n\r\n{}", errc::bad_frame_header},
                      bad_header_case{"garbage line\r\n\r\n{}", errc::bad_frame_header},
                      bad_header_case{"Content-Length: 1025\r\n\r\n{}", errc::frame_too_large},
                      bad_header_case{"Content-Length: 99999999999999999999999\r\n\r\n",
                                      errc::frame_too_large}));

TEST(framer, oversized_frame_is_rejected_before_the_body_arrives) {
    framer f(100);
    f.feed("Content-Length: 101\r\n\r\n");
    boost::system::error_code ec;
    EXPECT_FALSE(f.next(ec));
    EXPECT_EQ(ec, copilot::make_error_code(errc::frame_too_large));
    EXPECT_TRUE(f.failed());
}

TEST(framer, endless_header_fails_instead_of_buffering_forever) {
    framer f;
    boost::system::error_code ec;
    f.feed(std::string(9000, 'a'));
    EXPECT_FALSE(f.next(ec));
    EXPECT_EQ(ec, copilot::make_error_code(errc::bad_frame_header));
}

TEST(framer, failed_framer_stays_failed) {
    framer f;
    boost::system::error_code ec;
    f.feed("Content-Length: x\r\n\r\n");
    EXPECT_FALSE(f.next(ec));
    f.feed(framer::encode("{}"));
    EXPECT_FALSE(f.next(ec));
    EXPECT_TRUE(ec);
}

} // namespace
