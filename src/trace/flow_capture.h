#pragma once
// The capture document of a trace (-o FILE): host, processes and sockets from the scan,
// flows = scan flows + traced flows (short-lived ones included), the same fields for both.
#include <optional>
#include <ostream>

#include "model/capture.h"
#include "model/filter.h"

namespace netviz {

class LiveTable;
struct ScanResult;

// Applies filter to sockets and flows; processes are those owning what is kept.
Capture assemble_trace_capture(const ScanResult& scan, const LiveTable& table,
                               const Filter& filter, const Stats& stats);
// Written with write_capture_streamed (sinks/capture_document.h), like the snapshot's.

}  // namespace netviz
