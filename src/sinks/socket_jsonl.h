#pragma once
// Sockets as JSON lines: one object per line, {"event":"socket", <the socket's fields as in
// the capture document>} (docs/output-format.md).
#include <ostream>
#include <vector>

#include "model/capture.h"

namespace netviz {

void write_socket_line(std::ostream& out, const Socket& s);
void write_socket_lines(std::ostream& out, const std::vector<Socket>& sockets);

}  // namespace netviz
