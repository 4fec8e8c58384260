#include <copilot/error.hpp>
#include <copilot/jsonrpc/framer.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstring>

namespace copilot::jsonrpc {

namespace {

// A header block longer than this is not a JSON-RPC header: fail instead of buffering forever.
constexpr std::size_t max_header_size = 8 * 1024;

constexpr std::string_view header_end = "\r\n\r\n";

bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) ==
                      std::tolower(static_cast<unsigned char>(y));
           });
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
        s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
        s.remove_suffix(1);
    return s;
}

} // namespace

framer::framer(std::size_t max_frame_size)
    : max_frame_size_(max_frame_size) {}

boost::asio::mutable_buffer framer::prepare(std::size_t min_size) {
    compact();
    if (buffer_.size() - end_ < min_size)
        buffer_.resize(end_ + min_size);
    return {buffer_.data() + end_, buffer_.size() - end_};
}

void framer::commit(std::size_t n) {
    end_ += n;
}

void framer::feed(std::string_view bytes) {
    auto area = prepare(bytes.size());
    std::memcpy(area.data(), bytes.data(), bytes.size());
    commit(bytes.size());
}

std::optional<std::string_view> framer::next(boost::system::error_code& ec) {
    ec = {};
    if (failed_) {
        ec = errc::bad_frame_header;
        return std::nullopt;
    }

    std::string_view pending(buffer_.data() + begin_, end_ - begin_);

    // Step 1: the header block, once per frame.
    if (!body_size_) {
        auto pos = pending.find(header_end);
        if (pos == std::string_view::npos) {
            if (pending.size() > max_header_size) {
                failed_ = true;
                ec = errc::bad_frame_header;
            }
            return std::nullopt;
        }
        body_size_ = parse_header(pending.substr(0, pos), ec);
        if (!body_size_) {
            failed_ = true;
            return std::nullopt;
        }
        header_size_ = pos + header_end.size();
    }

    // Step 2: the body, once all of it is here.
    if (pending.size() - header_size_ < *body_size_)
        return std::nullopt;

    auto body = pending.substr(header_size_, *body_size_);
    begin_ += header_size_ + *body_size_;
    body_size_.reset();
    header_size_ = 0;
    return body;
}

std::string framer::encode(std::string_view body) {
    std::string frame = "Content-Length: ";
    frame.reserve(frame.size() + 24 + body.size());
    frame += std::to_string(body.size());
    frame += header_end;
    frame += body;
    return frame;
}

std::optional<std::size_t> framer::parse_header(std::string_view header,
                                                boost::system::error_code& ec) {
    std::optional<std::size_t> length;
    while (!header.empty()) {
        auto eol = header.find("\r\n");
        auto line = header.substr(0, eol);
        header = eol == std::string_view::npos ? std::string_view{} : header.substr(eol + 2);

        auto colon = line.find(':');
        if (colon == std::string_view::npos) {
            ec = errc::bad_frame_header;
            return std::nullopt;
        }
        if (!iequals(trim(line.substr(0, colon)), "Content-Length"))
            continue;

        // Digits only: a sign, a fraction or trailing junk all make the header invalid.
        auto value = trim(line.substr(colon + 1));
        std::size_t parsed = 0;
        auto [end, err] = std::from_chars(value.data(), value.data() + value.size(), parsed);
        if (value.empty() || err == std::errc::result_out_of_range) {
            ec = value.empty() ? errc::bad_frame_header : errc::frame_too_large;
            return std::nullopt;
        }
        if (err != std::errc{} || end != value.data() + value.size() || value.front() == '-' ||
            value.front() == '+') {
            ec = errc::bad_frame_header;
            return std::nullopt;
        }
        length = parsed;
    }

    if (!length) {
        ec = errc::bad_frame_header;
        return std::nullopt;
    }
    if (*length > max_frame_size_) {
        ec = errc::frame_too_large;
        return std::nullopt;
    }
    return length;
}

void framer::compact() {
    // Move the unread tail to the front once the consumed prefix dominates the buffer.
    if (begin_ == 0)
        return;
    if (begin_ == end_) {
        begin_ = end_ = 0;
        return;
    }
    if (begin_ < buffer_.size() / 2)
        return;
    std::memmove(buffer_.data(), buffer_.data() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
}

} // namespace copilot::jsonrpc
