#include "scan/netlink_dump.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

namespace netviz {

std::string netlink_dump(int protocol, const void* request, size_t len,
                         const std::function<void(const nlmsghdr*)>& on_msg) {
  int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, protocol);
  if (fd < 0) return std::string("netlink socket: ") + strerror(errno);
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  if (sendto(fd, request, len, 0, reinterpret_cast<sockaddr*>(&kernel), sizeof kernel) < 0) {
    std::string err = std::string("netlink send: ") + strerror(errno);
    close(fd);
    return err;
  }
  // Large reads mean few syscalls for big dumps.
  std::vector<char> buf(1 << 17);
  std::string err;
  for (bool done = false; !done;) {
    ssize_t n = recv(fd, buf.data(), buf.size(), 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      err = std::string("netlink recv: ") + strerror(errno);
      break;
    }
    if (n == 0) break;
    int len = static_cast<int>(n);
    for (auto* h = reinterpret_cast<nlmsghdr*>(buf.data()); NLMSG_OK(h, len);
         h = NLMSG_NEXT(h, len)) {
      if (h->nlmsg_type == NLMSG_DONE) {
        done = true;
        break;
      }
      if (h->nlmsg_type == NLMSG_ERROR) {
        auto* e = static_cast<const nlmsgerr*>(NLMSG_DATA(h));
        err = std::string("netlink: ") + strerror(-e->error);
        done = true;
        break;
      }
      on_msg(h);
    }
  }
  close(fd);
  return err;
}

}  // namespace netviz
