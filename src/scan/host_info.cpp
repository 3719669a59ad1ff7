#include "scan/host_info.h"

#include <fcntl.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>
#include <sys/utsname.h>

#include "scan/netlink_dump.h"
#include "scan/process_info.h"
#include "scan/proc_net_parser.h"

namespace netviz {

namespace {
std::string first_line(const std::string& path) {
  std::string buf;
  if (!read_small_file(AT_FDCWD, path.c_str(), buf)) return {};
  return buf.substr(0, buf.find('\n'));
}
}  // namespace

HostInfo read_host_identity(const std::string& proc_root) {
  HostInfo h;
  utsname u{};
  if (uname(&u) == 0) {
    h.name = u.nodename;
    h.kernel = u.release;
  }
  h.machine_id = first_line("/etc/machine-id");
  h.boot_id = first_line(proc_root + "/sys/kernel/random/boot_id");
  return h;
}

bool parse_ifaddr_msg(const nlmsghdr* h, std::string& out) {
  if (h->nlmsg_type != RTM_NEWADDR || h->nlmsg_len < NLMSG_LENGTH(sizeof(ifaddrmsg))) return false;
  auto* ifa = static_cast<const ifaddrmsg*>(NLMSG_DATA(h));
  if (ifa->ifa_family != AF_INET && ifa->ifa_family != AF_INET6) return false;
  const unsigned need = ifa->ifa_family == AF_INET ? 4 : 16;
  int len = static_cast<int>(IFA_PAYLOAD(h));
  const void* address = nullptr;
  const void* local = nullptr;
  for (auto* rta = IFA_RTA(ifa); RTA_OK(rta, len); rta = RTA_NEXT(rta, len)) {
    if (RTA_PAYLOAD(rta) < need) continue;
    if (rta->rta_type == IFA_ADDRESS) address = RTA_DATA(rta);
    if (rta->rta_type == IFA_LOCAL) local = RTA_DATA(rta);
  }
  // On point-to-point links IFA_ADDRESS is the peer; IFA_LOCAL is ours.
  const void* a = local ? local : address;
  if (!a) return false;
  out = inet_addr_text(ifa->ifa_family, a);
  return !out.empty();
}

std::string namespace_addresses(std::vector<std::string>& out) {
  struct {
    nlmsghdr nh;
    ifaddrmsg ifa;
  } msg{};
  msg.nh.nlmsg_len = sizeof msg;
  msg.nh.nlmsg_type = RTM_GETADDR;
  msg.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  msg.ifa.ifa_family = AF_UNSPEC;
  return netlink_dump(NETLINK_ROUTE, &msg, sizeof msg, [&](const nlmsghdr* h) {
    std::string text;
    if (parse_ifaddr_msg(h, text)) out.push_back(std::move(text));
  });
}

}  // namespace netviz
