#pragma once

/// @file
/// The type-erased byte stream a JSON-RPC connection runs over.

#include <copilot/detail/config.hpp>

#include <boost/asio/any_completion_handler.hpp>

#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace copilot::jsonrpc {

/// Completion signature of reads and writes on a `byte_stream`.
using io_signature = void(boost::system::error_code, std::size_t);

/// A bidirectional byte stream: a socket, a pair of pipes, an in-memory test peer.
///
/// The connection calls at most one read and one write at a time, always from its strand.
class byte_stream {
public:
    virtual ~byte_stream() = default;

    /// Reads some bytes into `buffer`.
    virtual void async_read_some(asio::mutable_buffer buffer,
                                 asio::any_completion_handler<io_signature> handler) = 0;

    /// Writes every byte of `buffers`.
    virtual void async_write(std::vector<asio::const_buffer> buffers,
                             asio::any_completion_handler<io_signature> handler) = 0;

    /// Closes both directions; pending operations complete with an error.
    virtual void close() = 0;

    /// Extra context for the error raised when the stream ends, such as a child's exit status
    /// and last stderr lines. Empty when there is nothing to add.
    virtual std::string failure_context() { return {}; }
};

/// Adapts a readable and a writable Asio stream (one object twice for a socket, or two pipes).
template <class ReadStream, class WriteStream = ReadStream>
class duplex_stream final : public byte_stream {
public:
    /// Takes a socket-like object used for both directions.
    explicit duplex_stream(ReadStream stream) requires std::is_same_v<ReadStream, WriteStream>
        : read_(std::move(stream)), write_(&read_) {}

    /// Takes two one-way streams, such as a child's stdout and stdin pipes.
    duplex_stream(ReadStream reader,
                  WriteStream writer) requires(!std::is_same_v<ReadStream, WriteStream>)
        : read_(std::move(reader))
        , owned_write_(std::move(writer))
        , write_(&*owned_write_) {}

    void async_read_some(asio::mutable_buffer buffer,
                         asio::any_completion_handler<io_signature> handler) override {
        read_.async_read_some(buffer, std::move(handler));
    }

    void async_write(std::vector<asio::const_buffer> buffers,
                     asio::any_completion_handler<io_signature> handler) override {
        asio::async_write(*write_, buffers, std::move(handler));
    }

    void close() override {
        boost::system::error_code ignored;
        read_.close(ignored);
        if (owned_write_)
            owned_write_->close(ignored);
    }

    /// The reading side, for transport-specific access.
    ReadStream& reader() noexcept { return read_; }

private:
    ReadStream read_;
    std::optional<WriteStream> owned_write_;
    WriteStream* write_;
};

} // namespace copilot::jsonrpc
