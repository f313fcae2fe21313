#include "testing/cluster_under_test.h"

#include <filesystem>

#include "kube_schema/kube_schema.h"
#include "testing/server_process.h"

namespace paddlecloud::testing {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kNfsPath = "/export";

}  // namespace

std::string ClusterKindName(const ::testing::TestParamInfo<ClusterKind>& info) {
  switch (info.param) {
    case ClusterKind::kLocal: return "Local";
    case ClusterKind::kKubernetesNative: return "KubernetesNative";
    case ClusterKind::kKubernetesPaddleJob: return "KubernetesPaddleJob";
  }
  return "Unknown";
}

ClusterUnderTest::ClusterUnderTest(ClusterKind kind, std::string work_dir, std::string data_dir)
    : kind_(kind), work_dir_(std::move(work_dir)), data_dir_(fs::absolute(data_dir).lexically_normal().string()) {
  if (!kubernetes()) return;
  fs::create_directories(data_dir_);
  fs::path model_server = fs::path(PaddlecloudBinary()).parent_path() / "paddlecloud-model-server";
  auto api = kube_test::KubernetesTestApiServer::Start(
      {.work_dir = work_dir_ + "/apiserver",
       .validate = [](const boost::json::value& object) { return kube_schema::RepositorySchemas().Validate(object); },
       .nfs_root = [data = data_dir_](const std::string& path) {
         return data + path.substr(std::min(path.size(), kNfsPath.size()));
       },
       .image_files = {{"/paddlecloud/bin/paddlecloud-model-server", model_server.string()}}});
  if (!api) {
    error_ = "the test API server did not start: " + api.error().message();
    return;
  }
  api_ = std::move(*api);
  kubeconfig_ = work_dir_ + "/kubeconfig";
  api_->Kubeconfig(kubeconfig_);
}

ClusterUnderTest::~ClusterUnderTest() = default;

std::vector<std::string> ClusterUnderTest::ServerFlags() const {
  if (!kubernetes()) return {};
  return {"--cluster-backend", "kubernetes", "--kubeconfig", kubeconfig_,
          "--kubernetes-job-kind", kind_ == ClusterKind::kKubernetesPaddleJob ? "paddlejob" : "native",
          "--kubernetes-nfs-server", "nfs.test", "--kubernetes-nfs-path", std::string(kNfsPath)};
}

std::vector<std::string> ClusterUnderTest::UnvalidatedWrites() const {
  std::vector<std::string> writes;
  if (api_)
    for (const auto& r : api_->WritesWithoutStrictFieldValidation()) writes.push_back(r.method + " " + r.path);
  return writes;
}

}  // namespace paddlecloud::testing
