#include "e2e_env.hpp"

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <random>

namespace copilot::test {

std::string runtime_path() {
    if (const char* from_env = std::getenv("COPILOT_CLI_PATH"); from_env && *from_env)
        return from_env;
#ifdef COPILOT_TEST_RUNTIME
    return COPILOT_TEST_RUNTIME;
#else
    return "copilot";
#endif
}

scratch_dir::scratch_dir() {
    std::random_device device;
    auto base = std::filesystem::temp_directory_path();
    do {
        path_ = base / ("copilot-test-" + std::to_string(device()));
    } while (std::filesystem::exists(path_));
    std::filesystem::create_directories(path_);
}

scratch_dir::~scratch_dir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
}

bool process_exists(int pid) {
    return ::kill(pid, 0) == 0 || errno != ESRCH;
}

e2e_test::e2e_test()
    : guard_(boost::asio::make_work_guard(io)) {
    thread_ = std::thread([this] { io.run(); });
}

e2e_test::~e2e_test() {
    guard_.reset();
    // Whatever a test left behind gets a bounded time to finish; then the loop is stopped.
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (!io.stopped() && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    io.stop();
    thread_.join();
}

client_options e2e_test::options() const {
    client_options options;
    options.cli_path = runtime_path();
    options.copilot_home = home.string();
    options.working_directory = work.string();
    options.use_logged_in_user = false;
    return options;
}

} // namespace copilot::test
