// copilot-model-server: the local OpenAI-compatible endpoint as a standalone process, for
// benchmarks and manual runs against the real runtime.
//
//   copilot-model-server [PORT] [--record FILE] [--token TOKEN] [--model ID]... [--call-tool NAME]
//
// Prints "listening on http://127.0.0.1:PORT/v1" on stdout once it accepts connections,
// appends each request to FILE as one JSON line, and exits 0 on SIGTERM or SIGINT.

#include <copilot/testing/model_server.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include <csignal>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace {

namespace asio = copilot::asio;
namespace json = copilot::json;
using copilot::testing::model_server;
using copilot::testing::recorded_request;
using copilot::testing::scripted_reply;

struct arguments {
    unsigned short port = 0;
    std::string record_file;
    std::optional<std::string> token;
    std::vector<std::string> models;
    std::string call_tool;
};

[[noreturn]] void usage(std::string_view problem) {
    std::cerr << "copilot-model-server: " << problem << "\n"
              << "usage: copilot-model-server [PORT] [--record FILE] [--token TOKEN]"
                 " [--model ID]... [--call-tool NAME]\n";
    std::exit(2);
}

arguments parse_arguments(int argc, char** argv) {
    arguments args;
    for (int i = 1; i < argc; ++i) {
        std::string_view arg = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc) {
                usage(std::string(arg) + " needs a value");
            }
            return argv[++i];
        };

        if (arg == "--record") {
            args.record_file = value();
        } else if (arg == "--token") {
            args.token = value();
        } else if (arg == "--model") {
            args.models.push_back(value());
        } else if (arg == "--call-tool") {
            args.call_tool = value();
        } else if (!arg.empty() && arg.find_first_not_of("0123456789") == std::string_view::npos &&
                   arg.size() <= 5 && std::stoul(std::string(arg)) <= 65535) {
            args.port = static_cast<unsigned short>(std::stoul(std::string(arg)));
        } else {
            usage("unknown argument " + std::string(arg));
        }
    }
    return args;
}

bool offers_tool(const json::value& body, std::string_view name) {
    const auto* tools = body.as_object().if_contains("tools");
    if (!tools || !tools->is_array()) {
        return false;
    }
    for (const auto& tool : tools->get_array()) {
        const auto* function =
            tool.is_object() ? tool.get_object().if_contains("function") : nullptr;
        const auto* tool_name = function && function->is_object()
                                    ? function->get_object().if_contains("name")
                                    : nullptr;
        if (tool_name && tool_name->is_string() && tool_name->get_string() == name) {
            return true;
        }
    }
    return false;
}

bool has_tool_result(const json::value& body) {
    const auto* messages = body.as_object().if_contains("messages");
    if (!messages || !messages->is_array()) {
        return false;
    }
    for (const auto& message : messages->get_array()) {
        const auto* role = message.is_object() ? message.get_object().if_contains("role") : nullptr;
        if (role && role->is_string() && role->get_string() == "tool") {
            return true;
        }
    }
    return false;
}

// The benchmark's tool turn: the first request of a conversation that offers the tool gets a
// call to it; every later request (the tool result is then in the history) gets text.
scripted_reply call_tool_once(const std::string& tool, const recorded_request& request) {
    scripted_reply text = model_server::default_reply(request);
    if (!offers_tool(request.body, tool) || has_tool_result(request.body)) {
        return text;
    }
    return scripted_reply::tool_call(tool, json::object{{"text", "hello"}});
}

copilot::testing::model_server_options make_options(const arguments& args, std::ofstream* record) {
    copilot::testing::model_server_options options;
    options.port = args.port;
    options.required_bearer_token = args.token;
    if (!args.models.empty()) {
        options.model_ids = args.models;
    }
    if (record) {
        // Flushed per line so a runner can count requests while the server keeps running.
        options.on_request = [record](const recorded_request& request) {
            *record << json::serialize(json::value_from(request)) << '\n' << std::flush;
        };
    }
    return options;
}

} // namespace

int main(int argc, char** argv) {
    arguments args = parse_arguments(argc, argv);

    std::ofstream record;
    if (!args.record_file.empty()) {
        record.open(args.record_file, std::ios::out | std::ios::trunc);
        if (!record) {
            usage("cannot open " + args.record_file);
        }
    }

    asio::io_context io;
    model_server server{io.get_executor(),
                        make_options(args, record.is_open() ? &record : nullptr)};
    if (!args.call_tool.empty()) {
        server.set_handler(
            [tool = args.call_tool](const recorded_request& r) { return call_tool_once(tool, r); });
    }
    server.start();

    // Stopping the server ends its coroutines; `run` then returns with no work left.
    asio::signal_set signals{io, SIGINT, SIGTERM};
    signals.async_wait([&server](const boost::system::error_code& ec, int) {
        if (!ec) {
            server.stop();
        }
    });

    std::cout << "listening on " << server.base_url() << std::endl;
    io.run();
    return 0;
}
