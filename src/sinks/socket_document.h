#pragma once
// The capture document (README "Output contract") written element by element: the same
// JSON as write_capture(), compact, without building one tree for the whole document, so
// 100,000 sockets cost a fraction of the time and memory. Sockets and flows, the bulk,
// go through a direct writer; everything else through src/format's to_json.
#include <ostream>

#include "model/capture.h"

namespace netviz {

void write_capture_streamed(std::ostream& out, const Capture& c, bool with_cmdline = true);

// One socket / flow object exactly as to_json() renders it, compact, no newline.
void append_socket_json(std::string& out, const Socket& s);
void append_flow_json(std::string& out, const Flow& f);

}  // namespace netviz
