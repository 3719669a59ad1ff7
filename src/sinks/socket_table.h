#pragma once
// A readable socket table like `ss -tanp`: one row per socket, owners as
// users:(("comm",pid=N,fd=N),...). For terminals; machines read the JSON forms.
#include <ostream>
#include <vector>

#include "model/capture.h"

namespace netviz {

// netns names (ip netns) are shown instead of inodes where known.
void write_socket_table(std::ostream& out, const std::vector<Socket>& sockets,
                        const std::vector<NetnsInfo>& netns);

}  // namespace netviz
