#pragma once
// A readable socket table like `ss -tanp`: one row per socket, owners as
// users:(("comm",pid=N,fd=N),...). For terminals; machines read the JSON forms.
#include <cstdint>
#include <ostream>
#include <vector>

#include "model/capture.h"

namespace netviz {

// netns names (ip netns) are shown instead of inodes where known. The last line counts the
// rows by state and the TIME_WAIT sockets the caller left out (hidden_time_wait), with the
// option that shows them: a busy host has thousands that bury the sockets in use.
void write_socket_table(std::ostream& out, const std::vector<Socket>& sockets,
                        const std::vector<NetnsInfo>& netns, uint64_t hidden_time_wait = 0);

}  // namespace netviz
