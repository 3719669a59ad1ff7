#include "scan/proc_net_parser.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <charconv>
#include <cstring>

namespace netviz {

namespace {

// Splits on blanks without allocating; at most N tokens, the rest of the line is left.
struct Tokens {
  std::string_view line;
  size_t pos = 0;
  std::string_view next() {
    while (pos < line.size() && (line[pos] == ' ' || line[pos] == '\t')) ++pos;
    size_t start = pos;
    while (pos < line.size() && line[pos] != ' ' && line[pos] != '\t') ++pos;
    return line.substr(start, pos - start);
  }
  std::string_view rest() {
    while (pos < line.size() && (line[pos] == ' ' || line[pos] == '\t')) ++pos;
    return line.substr(pos);
  }
};

template <typename T>
bool parse_num(std::string_view s, T& out, int base = 10) {
  if (s.empty()) return false;
  auto r = std::from_chars(s.data(), s.data() + s.size(), out, base);
  return r.ec == std::errc() && r.ptr == s.data() + s.size();
}

// Calls fn(line) for every line after the header.
template <typename F>
void for_each_row(std::string_view text, F&& fn) {
  size_t pos = text.find('\n');
  if (pos == std::string_view::npos) return;
  ++pos;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    if (line.find_first_not_of(" \t\r") != std::string_view::npos) fn(line);
    pos = end + 1;
  }
}

// "0100007F:0277": the kernel prints each 32-bit word of the address with %08X in host
// order, so storing the parsed words back in memory restores the network byte order.
bool parse_hex_endpoint(std::string_view s, int family, Endpoint& out, bool& is_any) {
  size_t colon = s.find(':');
  if (colon == std::string_view::npos) return false;
  std::string_view hex = s.substr(0, colon);
  size_t words = family == AF_INET ? 1 : 4;
  if (hex.size() != words * 8) return false;
  uint32_t buf[4] = {0, 0, 0, 0};
  for (size_t i = 0; i < words; ++i)
    if (!parse_num(hex.substr(i * 8, 8), buf[i], 16)) return false;
  if (!parse_num(s.substr(colon + 1), out.port, 16) || out.port > 65535) return false;
  is_any = buf[0] == 0 && buf[1] == 0 && buf[2] == 0 && buf[3] == 0;
  out.addr = inet_addr_text(family, buf);
  return true;
}

bool parse_inet_row(std::string_view line, ProcNetTable t, uint64_t netns,
                    std::vector<Socket>& out) {
  bool v6 = t == ProcNetTable::tcp6 || t == ProcNetTable::udp6 || t == ProcNetTable::raw6;
  int family = v6 ? AF_INET6 : AF_INET;
  Tokens tok{line};
  tok.next();  // "sl:"
  std::string_view local = tok.next(), remote = tok.next(), st = tok.next();
  tok.next();  // tx:rx queue
  tok.next();  // tr:when
  tok.next();  // retransmits
  tok.next();  // uid
  tok.next();  // timeout
  std::string_view ino = tok.next();
  Socket s;
  s.family = v6 ? Family::ipv6 : Family::ipv4;
  unsigned state = 0;
  Endpoint rem;
  bool local_any = false, remote_any = false;
  if (!parse_hex_endpoint(local, family, s.local, local_any) ||
      !parse_hex_endpoint(remote, family, rem, remote_any) || !parse_num(st, state, 16) ||
      !parse_num(ino, s.inode))
    return false;
  bool tcp = t == ProcNetTable::tcp || t == ProcNetTable::tcp6;
  bool raw = t == ProcNetTable::raw || t == ProcNetTable::raw6;
  s.proto = tcp ? Proto::tcp : raw ? Proto::raw : Proto::udp;
  s.state = tcp ? tcp_socket_state(state) : dgram_socket_state(state);
  // An unconnected socket shows the wildcard peer; raw sockets also show port 0.
  if (!(remote_any && rem.port == 0)) s.remote = std::move(rem);
  s.netns = netns;
  out.push_back(std::move(s));
  return true;
}

// Num RefCount Protocol Flags Type St Inode Path
bool parse_unix_row(std::string_view line, uint64_t netns, std::vector<Socket>& out) {
  Tokens tok{line};
  tok.next();
  tok.next();
  tok.next();
  std::string_view flags = tok.next(), type = tok.next(), st = tok.next(), ino = tok.next();
  uint32_t fl = 0, ty = 0, state = 0;
  Socket s;
  if (!parse_num(flags, fl, 16) || !parse_num(type, ty, 16) || !parse_num(st, state, 16) ||
      !parse_num(ino, s.inode))
    return false;
  s.proto = Proto::unix;
  s.family = Family::unix;
  s.local.addr = std::string(tok.rest());
  while (!s.local.addr.empty() && s.local.addr.back() == '\r') s.local.addr.pop_back();
  constexpr uint32_t kAcceptCon = 1u << 16;  // __SO_ACCEPTCON: a listening socket
  if (fl & kAcceptCon)
    s.state = SockState::listen;
  else if (state == 3)  // SS_CONNECTED
    s.state = SockState::established;
  else if (state == 2)  // SS_CONNECTING
    s.state = SockState::syn_sent;
  else
    s.state = SockState::unconn;
  s.netns = netns;
  out.push_back(std::move(s));
  return true;
}

// sk RefCnt Type Proto Iface R Rmem User Inode
bool parse_packet_row(std::string_view line, uint64_t netns, std::vector<Socket>& out,
                      const IfName& ifname) {
  Tokens tok{line};
  tok.next();
  tok.next();
  tok.next();
  std::string_view proto = tok.next(), iface = tok.next();
  tok.next();
  tok.next();
  tok.next();
  std::string_view ino = tok.next();
  uint32_t pr = 0;
  int ifindex = 0;
  Socket s;
  if (!parse_num(proto, pr, 16) || !parse_num(iface, ifindex) || !parse_num(ino, s.inode))
    return false;
  s.proto = Proto::packet;
  s.family = Family::packet;
  s.local.port = pr;  // the ethertype, host order (0x0003 = every protocol)
  if (ifindex == 0)
    s.local.addr = "*";
  else if (ifname)
    s.local.addr = ifname(ifindex);
  if (s.local.addr.empty()) s.local.addr = std::to_string(ifindex);
  s.state = SockState::unconn;
  s.netns = netns;
  out.push_back(std::move(s));
  return true;
}

// An address as /proc/net/sctp prints it (%pI4 or %pI6: full, colon-separated words).
std::string sctp_addr(std::string_view a) {
  if (!a.empty() && a.front() == '*') a.remove_prefix(1);
  std::string s(a);
  unsigned char buf[16];
  if (s.find(':') != std::string::npos) {
    if (inet_pton(AF_INET6, s.c_str(), buf) == 1) return inet_addr_text(AF_INET6, buf);
  } else if (inet_pton(AF_INET, s.c_str(), buf) == 1) {
    return s;
  }
  return {};
}

// ENDPT SOCK STY SST HBKT LPORT UID INODE LADDRS...
bool parse_sctp_ep_row(std::string_view line, uint64_t netns, std::vector<Socket>& out) {
  Tokens tok{line};
  for (int i = 0; i < 5; ++i) tok.next();
  std::string_view lport = tok.next();
  tok.next();
  std::string_view ino = tok.next();
  Socket s;
  if (!parse_num(lport, s.local.port) || !parse_num(ino, s.inode)) return false;
  std::string first = sctp_addr(tok.next());
  s.local.addr = first.empty() ? "*" : first;
  s.proto = Proto::sctp;
  s.family = s.local.addr.find(':') != std::string::npos ? Family::ipv6 : Family::ipv4;
  s.state = SockState::listen;
  s.netns = netns;
  out.push_back(std::move(s));
  return true;
}

// ASSOC SOCK STY SST ST HBKT ASSOC-ID TX_QUEUE RX_QUEUE UID INODE LPORT RPORT LADDRS <-> RADDRS
bool parse_sctp_assoc_row(std::string_view line, uint64_t netns, std::vector<Socket>& out) {
  Tokens tok{line};
  for (int i = 0; i < 10; ++i) tok.next();
  std::string_view ino = tok.next(), lport = tok.next(), rport = tok.next();
  Socket s;
  Endpoint rem;
  if (!parse_num(ino, s.inode) || !parse_num(lport, s.local.port) || !parse_num(rport, rem.port))
    return false;
  for (std::string_view a = tok.next(); !a.empty() && a != "<->"; a = tok.next())
    if (s.local.addr.empty()) s.local.addr = sctp_addr(a);
  // The primary peer address is marked '*'; take it, else the first.
  for (std::string_view a = tok.next(); !a.empty(); a = tok.next()) {
    std::string text = sctp_addr(a);
    if (text.empty()) break;
    if (rem.addr.empty() || a.front() == '*') rem.addr = text;
  }
  if (s.local.addr.empty() || rem.addr.empty()) return false;
  s.proto = Proto::sctp;
  s.family = s.local.addr.find(':') != std::string::npos ? Family::ipv6 : Family::ipv4;
  s.state = SockState::established;
  s.remote = std::move(rem);
  s.netns = netns;
  out.push_back(std::move(s));
  return true;
}

}  // namespace

const char* proc_net_file(ProcNetTable t) {
  switch (t) {
    case ProcNetTable::tcp: return "tcp";
    case ProcNetTable::tcp6: return "tcp6";
    case ProcNetTable::udp: return "udp";
    case ProcNetTable::udp6: return "udp6";
    case ProcNetTable::raw: return "raw";
    case ProcNetTable::raw6: return "raw6";
    case ProcNetTable::packet: return "packet";
    case ProcNetTable::unix_: return "unix";
    case ProcNetTable::sctp_eps: return "sctp/eps";
    case ProcNetTable::sctp_assocs: return "sctp/assocs";
  }
  return "";
}

SockState tcp_socket_state(unsigned state) {
  SockState s = tcp_state_from_kernel(state);
  return s == SockState::new_syn_recv ? SockState::syn_recv : s;
}

SockState dgram_socket_state(unsigned state) {
  return state == 1 ? SockState::established : SockState::unconn;
}

std::string inet_addr_text(int family, const void* addr) {
  if (family == AF_INET) {
    // inet_ntop goes through sprintf; this is the hot path of a big scan.
    const auto* b = static_cast<const unsigned char*>(addr);
    char buf[16];
    char* p = buf;
    for (int i = 0; i < 4; ++i) {
      if (i) *p++ = '.';
      p = std::to_chars(p, buf + sizeof buf, b[i]).ptr;
    }
    return std::string(buf, p);
  }
  char buf[INET6_ADDRSTRLEN];
  if (!inet_ntop(family, addr, buf, sizeof buf)) return {};
  return buf;
}

size_t parse_proc_net(ProcNetTable t, std::string_view text, uint64_t netns,
                      std::vector<Socket>& out, const IfName& ifname) {
  size_t bad = 0;
  for_each_row(text, [&](std::string_view line) {
    bool ok = false;
    switch (t) {
      case ProcNetTable::unix_: ok = parse_unix_row(line, netns, out); break;
      case ProcNetTable::packet: ok = parse_packet_row(line, netns, out, ifname); break;
      case ProcNetTable::sctp_eps: ok = parse_sctp_ep_row(line, netns, out); break;
      case ProcNetTable::sctp_assocs: ok = parse_sctp_assoc_row(line, netns, out); break;
      default: ok = parse_inet_row(line, t, netns, out); break;
    }
    if (!ok) ++bad;
  });
  return bad;
}

}  // namespace netviz
