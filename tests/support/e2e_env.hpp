#pragma once

// Shared set-up of the end-to-end tests: the pinned runtime, a scratch COPILOT_HOME per test,
// and an io_context running on a background thread so tests can wait on futures.

#include <copilot/client.hpp>
#include <copilot/error.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <future>
#include <optional>
#include <string>
#include <thread>

namespace copilot::test {

/// The runtime the tests run against: COPILOT_CLI_PATH if set, else the pinned copy.
std::string runtime_path();

/// A fresh, empty directory under the system temp folder, removed by its destructor.
class scratch_dir {
public:
    scratch_dir();
    ~scratch_dir();
    scratch_dir(const scratch_dir&) = delete;
    scratch_dir& operator=(const scratch_dir&) = delete;

    const std::filesystem::path& path() const noexcept { return path_; }
    std::string string() const { return path_.string(); }

private:
    std::filesystem::path path_;
};

/// True while a process with this id exists (zombies included).
bool process_exists(int pid);

/// Expects `future` to fail with `code`; returns the error's message. A future that never
/// completes fails the test instead of hanging it.
template <class T>
std::string expect_error(std::future<T> future, boost::system::error_code code) {
    if (future.wait_for(std::chrono::seconds(120)) != std::future_status::ready) {
        ADD_FAILURE() << "operation did not complete within the test's bound";
        return {};
    }
    try {
        future.get();
    } catch (const copilot::error& e) {
        EXPECT_EQ(e.code(), code) << e.what();
        return e.what();
    }
    ADD_FAILURE() << "expected " << code.message();
    return {};
}

/// A fixture with a running io_context, a scratch COPILOT_HOME and client options for it.
class e2e_test : public ::testing::Test {
protected:
    e2e_test();
    ~e2e_test() override;

    /// Client options: the pinned runtime, this test's COPILOT_HOME and working directory.
    client_options options() const;

    /// Waits for a future with a generous bound, failing the test instead of hanging.
    template <class T>
    T wait(std::future<T> future, std::chrono::seconds bound = std::chrono::seconds(120)) {
        if (future.wait_for(bound) != std::future_status::ready)
            throw std::runtime_error("operation did not complete within the test's bound");
        return future.get();
    }

    boost::asio::io_context io;
    scratch_dir home;
    scratch_dir work;

private:
    std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> guard_;
    std::thread thread_;
};

} // namespace copilot::test
