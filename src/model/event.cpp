#include "model/event.h"

namespace netviz {

bool is_socket_event(EventKind k) {
  return k != EventKind::exec && k != EventKind::exit && k != EventKind::fork;
}

}  // namespace netviz
