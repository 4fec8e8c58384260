#pragma once

/// @file
/// The sans-I/O `Content-Length` framer of the JSON-RPC connection.

#include <boost/asio/buffer.hpp>
#include <boost/system/error_code.hpp>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace copilot::jsonrpc {

/// Default upper bound of one frame body: 64 MiB.
inline constexpr std::size_t default_max_frame_size = std::size_t{64} << 20;

/// Splits a byte stream into `Content-Length` framed message bodies.
///
/// The framer does no I/O: bytes go in through `prepare`/`commit` (or `feed`), whole bodies
/// come out of `next`. Any byte split is accepted. Header fields other than `Content-Length`
/// (such as `Content-Type`) are ignored. A missing, malformed, negative or oversized length
/// is reported before anything is allocated for the body, and leaves the framer failed: a
/// byte stream cannot be resynchronised after a bad header.
class framer {
public:
    /// Builds a framer that rejects bodies larger than `max_frame_size` bytes.
    explicit framer(std::size_t max_frame_size = default_max_frame_size);

    /// Returns a writable area of at least `min_size` bytes for the next read.
    boost::asio::mutable_buffer prepare(std::size_t min_size);

    /// Marks `n` bytes of the area returned by `prepare` as received.
    void commit(std::size_t n);

    /// Copies `bytes` in; the same as `prepare` + copy + `commit`.
    void feed(std::string_view bytes);

    /// Extracts the next whole body.
    ///
    /// Returns `std::nullopt` when more bytes are needed or on error; `ec` tells which
    /// (`errc::bad_frame_header` or `errc::frame_too_large`). The view stays valid until the
    /// next call of `prepare`, `commit`, `feed` or `next`.
    std::optional<std::string_view> next(boost::system::error_code& ec);

    /// True once a bad header was seen.
    bool failed() const noexcept { return failed_; }

    /// Bytes received and not yet returned as a frame.
    std::size_t buffered() const noexcept { return end_ - begin_; }

    /// Prepends the `Content-Length` header to `body`, giving one whole frame.
    static std::string encode(std::string_view body);

private:
    std::optional<std::size_t> parse_header(std::string_view header, boost::system::error_code& ec);
    void compact();

    std::string buffer_;
    std::size_t begin_ = 0;
    std::size_t end_ = 0;
    std::size_t max_frame_size_;
    std::optional<std::size_t> body_size_;
    std::size_t header_size_ = 0;
    bool failed_ = false;
};

} // namespace copilot::jsonrpc
