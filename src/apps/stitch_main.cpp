// netviz-stitch: placeholder main, replaced by the stitcher work.
#include <iostream>
int main() {
  std::cerr << "netviz-stitch: not built yet\n";
  return 2;
}
