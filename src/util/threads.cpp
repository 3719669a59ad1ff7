#include "util/threads.h"

#include <dirent.h>

namespace netviz {

size_t thread_count() {
  DIR* d = opendir("/proc/self/task");
  if (!d) return 1;  // no /proc: nothing to check against
  size_t n = 0;
  while (dirent* e = readdir(d))
    if (e->d_name[0] != '.') ++n;
  closedir(d);
  return n;
}

}  // namespace netviz
