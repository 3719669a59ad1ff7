#include "model/event.h"

namespace netviz {

const char* event_name(EventKind k) {
  switch (k) {
    case EventKind::connect: return "connect";
    case EventKind::accept: return "accept";
    case EventKind::close: return "close";
    case EventKind::bind: return "bind";
    case EventKind::listen: return "listen";
    case EventKind::udp: return "udp";
    case EventKind::exec: return "exec";
    case EventKind::exit: return "exit";
    case EventKind::fork: return "fork";
  }
  return "?";
}

bool is_socket_event(EventKind k) {
  return k != EventKind::exec && k != EventKind::exit && k != EventKind::fork;
}

}  // namespace netviz
