// Any bytes as one netlink receive buffer: the message walk, then each message as a
// sock_diag inet reply and as an RTM_NEWADDR reply.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include <netinet/in.h>

#include "scan/host_info.h"
#include "scan/netlink_dump.h"
#include "scan/sock_diag.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // The kernel hands netlink messages over 4-byte aligned.
  std::vector<uint32_t> aligned((size + 3) / 4);
  if (size) std::memcpy(aligned.data(), data, size);
  bool done = false;
  (void)netviz::walk_netlink_buffer(aligned.data(), size, [](const nlmsghdr* h) {
    netviz::Socket s;
    (void)netviz::parse_inet_diag_msg(h, IPPROTO_TCP, 1, s);
    (void)netviz::parse_inet_diag_msg(h, IPPROTO_UDP, 1, s);
    std::string addr;
    (void)netviz::parse_ifaddr_msg(h, addr);
  }, done);
  return 0;
}
