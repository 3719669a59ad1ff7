#include "scan/netlink_dump.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

namespace netviz {

std::string walk_netlink_buffer(const void* buf, size_t len,
                                const std::function<void(const nlmsghdr*)>& on_msg, bool& done) {
  int left = static_cast<int>(len);
  for (auto* h = static_cast<const nlmsghdr*>(buf); NLMSG_OK(h, left); h = NLMSG_NEXT(h, left)) {
    if (h->nlmsg_type == NLMSG_DONE) {
      done = true;
      return {};
    }
    if (h->nlmsg_type == NLMSG_ERROR) {
      done = true;
      if (h->nlmsg_len < NLMSG_LENGTH(sizeof(nlmsgerr))) return "netlink: truncated error reply";
      auto* e = static_cast<const nlmsgerr*>(NLMSG_DATA(h));
      return std::string("netlink: ") + strerror(-e->error);
    }
    on_msg(h);
  }
  return {};
}

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
    err = walk_netlink_buffer(buf.data(), static_cast<size_t>(n), on_msg, done);
  }
  close(fd);
  return err;
}

}  // namespace netviz
