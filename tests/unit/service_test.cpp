#include "model/service.h"

#include <gtest/gtest.h>

namespace netviz {
namespace {

struct Case {
  const char* cgroup;
  const char* service;
};

const std::string kId = "3f4e5d6c7b8a99887766554433221100ffeeddccbbaa00112233445566778899";

TEST(ServiceOfCgroup, Table) {
  const Case cases[] = {
      {"/system.slice/nginx.service", "nginx.service"},
      {"/system.slice/system-getty.slice/getty@tty1.service", "getty@tty1.service"},
      {"/system.slice/foo.service/worker", "foo.service"},  // delegated subtree
      {"/system.slice/ssh.socket", "ssh.socket"},
      {"/user.slice/user-1000.slice/user@1000.service/app.slice/foo.service", "foo.service"},
      {"/user.slice/user-1000.slice/user@1000.service/init.scope", "user@1000.service"},
      {"/user.slice/user-1000.slice/user@1000.service/app.slice/app-gnome-firefox-42.scope",
       "app-gnome-firefox-42.scope"},
      {"/user.slice/user-1000.slice/session-3.scope", "session-3.scope"},
      {"/init.scope", "init.scope"},
      {"/", ""},
      {"", ""},
      {"/user.slice", ""},
      {"/user.slice/user-1000.slice", ""},
      {"/netviz-test.slice", ""},
      {"/some/plain/dir", ""},
      {"/.service", ""},
      {"/system.slice/docker-too-short.scope", "docker-too-short.scope"},
  };
  for (const auto& c : cases) EXPECT_EQ(service_of_cgroup(c.cgroup), c.service) << c.cgroup;
}

TEST(ServiceOfCgroup, Containers) {
  const std::string want = "container:3f4e5d6c7b8a";
  EXPECT_EQ(service_of_cgroup("/system.slice/docker-" + kId + ".scope"), want);
  EXPECT_EQ(service_of_cgroup("/docker/" + kId), want);
  EXPECT_EQ(service_of_cgroup("/system.slice/containerd.service/cri-containerd-" + kId + ".scope"),
            want);
  EXPECT_EQ(service_of_cgroup("/machine.slice/libpod-" + kId + ".scope"), want);
  EXPECT_EQ(service_of_cgroup("/machine.slice/libpod-" + kId + ".scope/container"), want);
  EXPECT_EQ(service_of_cgroup("/kubepods.slice/kubepods-burstable.slice/"
                              "kubepods-burstable-pod1a2b3c4d_5e6f_7081_92a3_b4c5d6e7f809.slice/"
                              "cri-containerd-" + kId + ".scope"),
            want);
  EXPECT_EQ(service_of_cgroup("/kubepods.slice/kubepods-pod1a2b3c4d_5e6f_7081_92a3_b4c5d6e7f809"
                              ".slice/crio-" + kId + ".scope"),
            want);
  EXPECT_EQ(service_of_cgroup("/kubepods/besteffort/pod1a2b3c4d-5e6f-7081-92a3-b4c5d6e7f809/" + kId),
            want);
  // A pod's own slice (its pause process's parent) names the pod, not a container.
  EXPECT_EQ(service_of_cgroup("/kubepods.slice/kubepods-besteffort.slice/"
                              "kubepods-besteffort-pod1a2b3c4d_5e6f_7081_92a3_b4c5d6e7f809.slice"),
            "pod:1a2b3c4d-5e6f-7081-92a3-b4c5d6e7f809");
  EXPECT_EQ(service_of_cgroup("/kubepods.slice/kubepods-besteffort.slice"), "");
  // A bare hex directory outside a runtime's tree is no container.
  EXPECT_EQ(service_of_cgroup("/mine/" + kId), "");
  // Upper-case or non-hex ids are not container ids.
  EXPECT_EQ(service_of_cgroup("/system.slice/docker-XYZ" + kId.substr(3) + ".scope"),
            "docker-XYZ" + kId.substr(3) + ".scope");
}

}  // namespace
}  // namespace netviz
