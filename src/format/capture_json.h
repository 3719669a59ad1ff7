#pragma once
// The JSON form of the capture model (docs/output-format.md). Writers emit keys in a
// stable order; readers validate and throw netviz::Error naming the source and the field.
#include <iosfwd>
#include <string>

#include <nlohmann/json.hpp>

#include "model/capture.h"

namespace netviz {

using ojson = nlohmann::ordered_json;

ojson to_json(const Endpoint& e);
ojson to_json(const Owner& o);
ojson to_json(const Socket& s);
ojson to_json(const Process& p, bool with_cmdline = true);
ojson to_json(const NetnsInfo& n);
ojson to_json(const HostInfo& h);
ojson to_json(const Flow& f);
ojson to_json(const Stats& s);
// The whole document is written by write_capture_streamed (sinks/capture_document.h) from
// these item writers; tests/support/json_tree.h builds it as one tree to compare with.

// Where a value came from, for error messages: "web1.json: flows[3].local.port: ...".
struct JsonPath {
  const std::string& source;
  std::string path;
  JsonPath field(const std::string& key) const {
    return {source, path.empty() ? key : path + "." + key};
  }
  JsonPath index(size_t i) const { return {source, path + "[" + std::to_string(i) + "]"}; }
  [[noreturn]] void fail(const std::string& what) const;
};

Endpoint endpoint_from_json(const nlohmann::json& j, const JsonPath& at);
Flow flow_from_json(const nlohmann::json& j, const JsonPath& at);
Socket socket_from_json(const nlohmann::json& j, const JsonPath& at);
Process process_from_json(const nlohmann::json& j, const JsonPath& at);
HostInfo host_from_json(const nlohmann::json& j, const JsonPath& at);

}  // namespace netviz
