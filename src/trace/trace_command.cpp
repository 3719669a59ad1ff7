// netviz-trace without --snapshot: probe the kernel, then run the session on stdout/stderr.
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "cli/trace_options.h"
#include "trace/trace_session.h"
#include "util/atomic_file.h"
#include "util/error.h"
#include "util/privileges.h"

namespace netviz {

namespace {

// What AtomicFile would refuse at the end (a symlink, a directory, a directory that does not
// exist or cannot be written), found before anything is loaded: a long run must not be
// thrown away when the document is written. The file itself is still created at the end.
void check_output_early(const std::string& path) {
  struct stat st {};
  bool special = lstat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode) &&
                 !S_ISLNK(st.st_mode) && !S_ISDIR(st.st_mode);
  if (special) return;  // a device or FIFO, written in place: opening it now could block
  AtomicFile probe(path);  // throws as it would at the end; its temporary file goes with it
}

// Hooks attached, scan done: keep only the capabilities the rest of the run needs
// (src/util/privileges.h says which and why).
void drop_tracer_privileges(const TraceOptions& opts, std::ostream& err) {
  std::vector<std::string> why;
  std::vector<int> keep = tracer_kept_caps_here(opts.output, &why);
  try {
    drop_capabilities(keep);
  } catch (const Error& e) {
    err << "netviz-trace: warning: capabilities not dropped: " << e.what() << "\n";
    return;
  }
  if (opts.verbose) {
    err << "netviz-trace: capabilities dropped" << (why.empty() ? ", none kept" : "; kept:") << "\n";
    for (const auto& w : why) err << "netviz-trace:   " << w << "\n";
  }
}

}  // namespace

int run_trace(const TraceOptions& opts) {
  std::ios::sync_with_stdio(false);
  if (!opts.output.empty()) check_output_early(opts.output);
  TraceFeatures f = probe_trace_features();
  // For tests and for kernels where tp_btf loads but misbehaves: force the classic
  // sock:inet_sock_set_state tracepoint.
  if (const char* v = getenv("NETVIZ_TRACE_NO_TP_BTF"); v && *v && std::string(v) != "0")
    f.tp_btf = false;
  // For tests: the hand-over of skipped tp_btf runs as on architectures whose stacks the BPF
  // side does not know.
  if (const char* v = getenv("NETVIZ_TRACE_ONE_CONTEXT"); v && *v && std::string(v) != "0")
    f.one_context = true;
  // For scripts/bench-trace BREAKDOWN=1: what each group of hooks costs.
  if (const char* v = getenv("NETVIZ_TRACE_SKIP_HOOKS")) {
    std::string list = v;
    for (size_t at = 0; at <= list.size();) {
      size_t comma = list.find(',', at);
      if (comma == std::string::npos) comma = list.size();
      if (comma > at) f.skip_hooks.push_back(list.substr(at, comma - at));
      at = comma + 1;
    }
  }
  return run_trace_session(opts, f, std::cout, std::cerr, isatty(STDOUT_FILENO),
                           isatty(STDERR_FILENO), [&opts](std::ostream& err) {
                             drop_tracer_privileges(opts, err);
                           });
}

}  // namespace netviz
