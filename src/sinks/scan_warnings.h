#pragma once
// What a snapshot could not see, as warning lines for stderr ("netviz-trace: ...").
#include <ostream>

#include "model/scan_result.h"

namespace netviz {

// One line summing up what is missing (nothing when the scan was complete). Processes whose
// network namespace was unreadable are named by pid and comm; those that are the init of a
// pid namespace get a line each only when verbose: a container runtime often keeps its init
// out of our reach while the processes it starts, and so its namespace, are readable.
// as_root says whether missing privileges can explain the gaps.
void write_scan_warnings(std::ostream& err, const ScanResult& r, bool verbose, bool as_root);

}  // namespace netviz
