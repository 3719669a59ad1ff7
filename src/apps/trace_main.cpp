// netviz-trace: placeholder main, replaced by the snapshot and tracing work.
#include <iostream>
int main() {
  std::cerr << "netviz-trace: not built yet\n";
  return 2;
}
