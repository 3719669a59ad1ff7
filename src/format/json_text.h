#pragma once
// Hand-built JSON for the bulk records (sockets, flows): a storm or a 100,000-socket
// snapshot cannot afford a JSON tree per record. Each writer produces exactly the bytes of
// to_json(x).dump() (src/format/capture_json.h); the unit tests hold them to it.
#include <string>
#include <string_view>

#include "model/capture.h"

namespace netviz {

void append_json_string(std::string& out, std::string_view s);
void append_json_time(std::string& out, WallNs t);  // "RFC 3339", as format_time()
void append_json_endpoint(std::string& out, const Endpoint& e);

// {"proto":...} exactly as to_json(Socket) / to_json(Flow) dump compact.
void append_socket_json(std::string& out, const Socket& s);
void append_flow_json(std::string& out, const Flow& f);
// The flow's members without the braces, for lines that add their own ("event", "time").
void append_flow_members(std::string& out, const Flow& f);

}  // namespace netviz
