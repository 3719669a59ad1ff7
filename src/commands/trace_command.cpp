// netviz-trace without --snapshot: probe the kernel, then run the session on stdout/stderr.
#include "commands/trace_command.h"

#include <sys/stat.h>
#include <unistd.h>

#include <iostream>
#include <string>
#include <vector>

#include "trace/trace_options.h"
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
  // --test-tracepoint-flavour classic, for tests and for kernels where tp_btf loads but
  // misbehaves: force the classic sock:inet_sock_set_state tracepoint.
  if (opts.test_classic_tracepoint) f.tp_btf = false;
  // --test-one-context, for tests: the hand-over of skipped tp_btf runs as on architectures
  // whose stacks the BPF side does not know.
  if (opts.test_one_context) f.one_context = true;
  // --bench-skip-hooks, for scripts/bench-trace BREAKDOWN=1: what each group of hooks costs.
  for (const auto& h : opts.bench_skip_hooks)
    if (!h.empty()) f.skip_hooks.push_back(h);
  return run_trace_session(opts, f, std::cout, std::cerr, isatty(STDOUT_FILENO),
                           isatty(STDERR_FILENO), [&opts](std::ostream& err) {
                             drop_tracer_privileges(opts, err);
                           });
}

}  // namespace netviz
