#pragma once
// A netlink dump (NLM_F_DUMP) in the calling thread's network namespace: send one request,
// hand every reply message to a callback. Used by sock_diag and the address listing.
#include <linux/netlink.h>

#include <functional>
#include <string>

namespace netviz {

// One received buffer: hands each message to on_msg until NLMSG_DONE (sets done) or an
// error reply (returned as text, done set). Pure, so tests/fuzz can feed it any bytes.
std::string walk_netlink_buffer(const void* buf, size_t len,
                                const std::function<void(const nlmsghdr*)>& on_msg, bool& done);

// Returns "" on success, else why it failed (socket, send, or an NLMSG_ERROR reply).
std::string netlink_dump(int protocol, const void* request, size_t len,
                         const std::function<void(const nlmsghdr*)>& on_msg);

}  // namespace netviz
