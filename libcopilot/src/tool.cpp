#include <copilot/tool.hpp>

namespace copilot {

namespace {

const char* wire_name(tool_result_type type) {
    switch (type) {
    case tool_result_type::success:
        return "success";
    case tool_result_type::failure:
        return "failure";
    case tool_result_type::rejected:
        return "rejected";
    case tool_result_type::denied:
        return "denied";
    }
    return "failure";
}

} // namespace

tool_result tool_result::success(std::string text) {
    tool_result result;
    result.text = std::move(text);
    return result;
}

tool_result tool_result::failure(std::string error) {
    tool_result result;
    result.text = error;
    result.type = tool_result_type::failure;
    result.error = std::move(error);
    return result;
}

tool_result tool_result::image(std::string base64_data, std::string mime_type, std::string text) {
    tool_result result;
    result.text = std::move(text);
    result.binary.push_back({std::move(base64_data), std::move(mime_type), "image", {}});
    return result;
}

json::value tool_result::to_json() const {
    json::object out;
    out["textResultForLlm"] = text;
    out["resultType"] = wire_name(type);
    if (error)
        out["error"] = *error;
    if (session_log)
        out["sessionLog"] = *session_log;
    if (!binary.empty()) {
        json::array items;
        for (const auto& item : binary) {
            json::object entry{
                {"data", item.data}, {"mimeType", item.mime_type}, {"type", item.type}};
            if (item.description)
                entry["description"] = *item.description;
            items.push_back(std::move(entry));
        }
        out["binaryResultsForLlm"] = std::move(items);
    }
    return out;
}

} // namespace copilot
