#include <gtest/gtest.h>

#include <sstream>

#include "trace/trace_session.h"
#include "util/error.h"

using namespace netviz;

namespace {

std::string failure(const TraceFeatures& f) {
  TraceOptions o;
  o.duration = 1;
  std::stringstream out, err;
  try {
    run_trace_session(o, f, out, err, false, false);
  } catch (const Error& e) {
    EXPECT_EQ(out.str(), "");  // nothing half-written
    return e.what();
  }
  return "";
}

}  // namespace

TEST(TraceSession, RefusesWithOneLineNamingWhatIsMissing) {
  TraceFeatures f;  // injected: nothing available
  std::string m = failure(f);
  EXPECT_NE(m.find("needs root"), std::string::npos) << m;
  EXPECT_EQ(m.find('\n'), std::string::npos);

  f.privileged = true;
  f.ringbuf = true;
  f.cgroup2 = "/sys/fs/cgroup";
  m = failure(f);
  EXPECT_NE(m.find("BTF"), std::string::npos) << m;

  f.btf = true;
  f.ringbuf = false;
  m = failure(f);
  EXPECT_NE(m.find("ring buffers"), std::string::npos) << m;

  f.ringbuf = true;
  f.cgroup2 = "";
  m = failure(f);
  EXPECT_NE(m.find("cgroup2"), std::string::npos) << m;
}
