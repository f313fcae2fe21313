#include "cluster/kubernetes/kube_config.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "testing/server_process.h"

namespace paddlecloud::cluster::kubernetes {
namespace {

namespace fs = std::filesystem;
using paddlecloud::testing::TempDir;

std::string Base64(std::string_view in) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    std::uint32_t v = (std::uint8_t(in[i]) << 16) | (std::uint8_t(in[i + 1]) << 8) | std::uint8_t(in[i + 2]);
    for (int s = 18; s >= 0; s -= 6) out += kAlphabet[(v >> s) & 63];
  }
  if (in.size() - i == 1) {
    std::uint32_t v = std::uint8_t(in[i]) << 16;
    out += std::string{kAlphabet[(v >> 18) & 63], kAlphabet[(v >> 12) & 63]} + "==";
  } else if (in.size() - i == 2) {
    std::uint32_t v = (std::uint8_t(in[i]) << 16) | (std::uint8_t(in[i + 1]) << 8);
    out += std::string{kAlphabet[(v >> 18) & 63], kAlphabet[(v >> 12) & 63], kAlphabet[(v >> 6) & 63]} + "=";
  }
  return out;
}

void Write(const fs::path& path, std::string_view text) {
  fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << text;
}

const std::string kCa = "-----BEGIN CERTIFICATE-----\nCA\n-----END CERTIFICATE-----\n";
const std::string kCert = "-----BEGIN CERTIFICATE-----\nCLIENT\n-----END CERTIFICATE-----\n";
const std::string kKey = "-----BEGIN PRIVATE KEY-----\nKEY\n-----END PRIVATE KEY-----\n";

class KubeconfigTest : public ::testing::Test {
 protected:
  Result<KubeConnection> Load(std::string_view yaml) {
    Write(file_, yaml);
    return LoadKubeconfig(file_);
  }
  TempDir dir_;
  fs::path file_ = fs::path(dir_.path()) / "kube" / "config";
};

TEST_F(KubeconfigTest, DataFieldsOfTheCurrentContext) {
  auto c = Load(R"(apiVersion: v1
kind: Config
current-context: prod
clusters:
- name: dev
  cluster: {server: "https://dev:6443"}
- name: prod-cluster
  cluster:
    server: https://10.0.0.1:6443
    certificate-authority-data: )" + Base64(kCa) + R"(
contexts:
- name: dev
  context: {cluster: dev, user: dev}
- name: prod
  context:
    cluster: prod-cluster
    user: admin
    namespace: paddlecloud
users:
- name: dev
  user: {token: dev-token}
- name: admin
  user:
    client-certificate-data: )" + Base64(kCert) + R"(
    client-key-data: )" + Base64(kKey) + R"(
)");
  ASSERT_TRUE(c) << c.error().ToString();
  EXPECT_EQ(c->server, "https://10.0.0.1:6443");
  EXPECT_EQ(c->ca_pem, kCa);
  EXPECT_EQ(c->client_cert_pem, kCert);
  EXPECT_EQ(c->client_key_pem, kKey);
  EXPECT_EQ(c->token, "");
  EXPECT_EQ(c->token_file, "");
  EXPECT_FALSE(c->insecure_skip_tls_verify);
  EXPECT_EQ(c->namespace_name, "paddlecloud");
}

TEST_F(KubeconfigTest, FilePathsAreRelativeToTheKubeconfigsFolder) {
  fs::path base = file_.parent_path();
  Write(base / "certs" / "ca.crt", kCa);
  Write(base / "certs" / "client.crt", kCert);
  Write(fs::path(dir_.path()) / "elsewhere" / "client.key", kKey);
  Write(base / "token", "  file-token\n");
  auto c = Load(R"(current-context: c
clusters: [{name: k, cluster: {server: "https://k:6443", certificate-authority: certs/ca.crt}}]
contexts: [{name: c, context: {cluster: k, user: u}}]
users:
- name: u
  user:
    tokenFile: token
    client-certificate: certs/client.crt
    client-key: )" + dir_.path() + R"(/elsewhere/client.key
)");
  ASSERT_TRUE(c) << c.error().ToString();
  EXPECT_EQ(c->ca_pem, kCa);
  EXPECT_EQ(c->client_cert_pem, kCert);
  EXPECT_EQ(c->client_key_pem, kKey);
  EXPECT_EQ(c->token, "file-token");
  EXPECT_EQ(fs::path(c->token_file), fs::absolute(base / "token"));
  EXPECT_EQ(c->namespace_name, "default");
}

TEST_F(KubeconfigTest, TokenAndInsecureSkipTlsVerify) {
  auto c = Load(R"(current-context: c
clusters: [{name: k, cluster: {server: "http://127.0.0.1:8001", insecure-skip-tls-verify: true}}]
contexts: [{name: c, context: {cluster: k, user: u, namespace: pc-a}}]
users: [{name: u, user: {token: "abc.def"}}]
)");
  ASSERT_TRUE(c) << c.error().ToString();
  EXPECT_EQ(c->server, "http://127.0.0.1:8001");
  EXPECT_TRUE(c->insecure_skip_tls_verify);
  EXPECT_EQ(c->token, "abc.def");
  EXPECT_EQ(c->ca_pem, "");

  auto anonymous = Load(R"(current-context: c
clusters: [{name: k, cluster: {server: "https://k"}}]
contexts: [{name: c, context: {cluster: k}}]
)");
  ASSERT_TRUE(anonymous) << anonymous.error().ToString();
  EXPECT_EQ(anonymous->token, "");
}

TEST_F(KubeconfigTest, MissingPiecesAreNamed) {
  auto no_context = Load(R"(clusters: [{name: k, cluster: {server: "https://k"}}]
contexts: [{name: c, context: {cluster: k}}]
)");
  ASSERT_FALSE(no_context);
  EXPECT_EQ(no_context.error().code(), Code::kInvalidArgument);
  EXPECT_NE(no_context.error().message().find("current-context is not set"), std::string::npos)
      << no_context.error().message();
  EXPECT_NE(no_context.error().message().find(file_.string()), std::string::npos);

  auto unknown_context = Load("current-context: nope\ncontexts: []\n");
  ASSERT_FALSE(unknown_context);
  EXPECT_NE(unknown_context.error().message().find("no context named 'nope'"), std::string::npos)
      << unknown_context.error().message();

  auto unknown_cluster = Load("current-context: c\ncontexts: [{name: c, context: {cluster: gone, user: u}}]\n");
  ASSERT_FALSE(unknown_cluster);
  EXPECT_NE(unknown_cluster.error().message().find("no cluster named 'gone'"), std::string::npos)
      << unknown_cluster.error().message();

  auto unknown_user = Load(R"(current-context: c
clusters: [{name: k, cluster: {server: "https://k"}}]
contexts: [{name: c, context: {cluster: k, user: who}}]
)");
  ASSERT_FALSE(unknown_user);
  EXPECT_NE(unknown_user.error().message().find("no user named 'who'"), std::string::npos);

  auto no_server = Load(R"(current-context: c
clusters: [{name: k, cluster: {certificate-authority-data: AAAA}}]
contexts: [{name: c, context: {cluster: k}}]
)");
  ASSERT_FALSE(no_server);
  EXPECT_NE(no_server.error().message().find("cluster 'k' has no server"), std::string::npos);

  auto bad_server = Load(R"(current-context: c
clusters: [{name: k, cluster: {server: "ftp://k"}}]
contexts: [{name: c, context: {cluster: k}}]
)");
  ASSERT_FALSE(bad_server);
  EXPECT_EQ(bad_server.error().field(), "server");

  auto missing_file = Load(R"(current-context: c
clusters: [{name: k, cluster: {server: "https://k", certificate-authority: missing/ca.crt}}]
contexts: [{name: c, context: {cluster: k}}]
)");
  ASSERT_FALSE(missing_file);
  EXPECT_EQ(missing_file.error().code(), Code::kNotFound);
  EXPECT_NE(missing_file.error().message().find("missing/ca.crt"), std::string::npos) << missing_file.error().message();

  auto key_without_cert = Load(R"(current-context: c
clusters: [{name: k, cluster: {server: "https://k"}}]
contexts: [{name: c, context: {cluster: k, user: u}}]
users: [{name: u, user: {client-key-data: )" + Base64(kKey) + R"(}}]
)");
  ASSERT_FALSE(key_without_cert);
  EXPECT_NE(key_without_cert.error().message().find("no client-certificate"), std::string::npos);
}

TEST_F(KubeconfigTest, PluginsAndBasicAuthAreRefused) {
  auto exec = Load(R"(current-context: c
clusters: [{name: k, cluster: {server: "https://k"}}]
contexts: [{name: c, context: {cluster: k, user: u}}]
users:
- name: u
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1beta1
      command: aws
      args: [eks, get-token, --cluster-name, x]
)");
  ASSERT_FALSE(exec);
  EXPECT_EQ(exec.error().code(), Code::kInvalidArgument);
  EXPECT_NE(exec.error().message().find("exec plugin"), std::string::npos) << exec.error().message();
  EXPECT_NE(exec.error().message().find("does not run"), std::string::npos) << exec.error().message();

  auto provider = Load(R"(current-context: c
clusters: [{name: k, cluster: {server: "https://k"}}]
contexts: [{name: c, context: {cluster: k, user: u}}]
users: [{name: u, user: {auth-provider: {name: gcp}}}]
)");
  ASSERT_FALSE(provider);
  EXPECT_NE(provider.error().message().find("auth-provider plugin"), std::string::npos);

  auto basic = Load(R"(current-context: c
clusters: [{name: k, cluster: {server: "https://k"}}]
contexts: [{name: c, context: {cluster: k, user: u}}]
users: [{name: u, user: {username: admin, password: hunter2}}]
)");
  ASSERT_FALSE(basic);
  EXPECT_NE(basic.error().message().find("basic authentication"), std::string::npos);
  EXPECT_EQ(basic.error().message().find("hunter2"), std::string::npos);
}

TEST_F(KubeconfigTest, HostileInput) {
  EXPECT_EQ(LoadKubeconfig(fs::path(dir_.path()) / "none").error().code(), Code::kNotFound);
  EXPECT_EQ(LoadKubeconfig(dir_.path()).error().code(), Code::kNotFound);  // a directory
  EXPECT_EQ(Load("").error().code(), Code::kInvalidArgument);  // empty: nothing usable
  Write(fs::path(dir_.path()) / "kube" / "empty.crt", "");
  auto empty_ca = Load(R"(current-context: c
clusters: [{name: k, cluster: {server: "https://k", certificate-authority: empty.crt}}]
contexts: [{name: c, context: {cluster: k}}]
)");
  ASSERT_FALSE(empty_ca);
  EXPECT_NE(empty_ca.error().message().find("empty.crt is empty"), std::string::npos) << empty_ca.error().message();
  EXPECT_EQ(Load("- just\n- a list\n").error().code(), Code::kInvalidArgument);
  EXPECT_EQ(Load("current-context: [unclosed\n").error().code(), Code::kInvalidArgument);
  EXPECT_EQ(Load("current-context: {a: 1}\n").error().code(), Code::kInvalidArgument);
  EXPECT_EQ(Load("a: &x 1\nb: *x\n").error().code(), Code::kInvalidArgument);
  auto bad_base64 = Load(R"(current-context: c
clusters: [{name: k, cluster: {server: "https://k", certificate-authority-data: "not*base64"}}]
contexts: [{name: c, context: {cluster: k}}]
)");
  ASSERT_FALSE(bad_base64);
  EXPECT_NE(bad_base64.error().message().find("certificate-authority-data is not valid base64"), std::string::npos)
      << bad_base64.error().message();
  auto wrong_types = Load(R"(current-context: c
clusters: [{name: k, cluster: {server: "https://k", insecure-skip-tls-verify: maybe}}]
contexts: [{name: c, context: {cluster: k}}]
)");
  ASSERT_FALSE(wrong_types);
  EXPECT_EQ(wrong_types.error().field(), "insecure-skip-tls-verify");
  auto cluster_not_object = Load(R"(current-context: c
clusters: [{name: k, cluster: "https://k"}]
contexts: [{name: c, context: {cluster: k}}]
)");
  EXPECT_EQ(cluster_not_object.error().code(), Code::kInvalidArgument);
}

// ---- in-cluster ----------------------------------------------------------------------------------

class InClusterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Write(fs::path(dir_.path()) / "token", "sa-token\n");
    Write(fs::path(dir_.path()) / "ca.crt", kCa);
    Write(fs::path(dir_.path()) / "namespace", "pc-system\n");
    setenv("KUBERNETES_SERVICE_HOST", "10.96.0.1", 1);
    setenv("KUBERNETES_SERVICE_PORT", "443", 1);
  }
  void TearDown() override {
    unsetenv("KUBERNETES_SERVICE_HOST");
    unsetenv("KUBERNETES_SERVICE_PORT");
  }
  TempDir dir_;
};

TEST_F(InClusterTest, ReadsTheServiceAccount) {
  auto c = LoadInCluster(dir_.path());
  ASSERT_TRUE(c) << c.error().ToString();
  EXPECT_EQ(c->server, "https://10.96.0.1:443");
  EXPECT_EQ(c->token, "sa-token");
  EXPECT_EQ(c->token_file, dir_.path() + "/token");
  EXPECT_EQ(c->ca_pem, kCa);
  EXPECT_EQ(c->namespace_name, "pc-system");
  EXPECT_TRUE(c->client_cert_pem.empty());

  setenv("KUBERNETES_SERVICE_HOST", "fd00::1", 1);
  fs::remove(fs::path(dir_.path()) / "namespace");
  c = LoadInCluster(dir_.path());
  ASSERT_TRUE(c) << c.error().ToString();
  EXPECT_EQ(c->server, "https://[fd00::1]:443");
  EXPECT_EQ(c->namespace_name, "default");
}

TEST_F(InClusterTest, OutsideAPodOrWithoutItsFiles) {
  unsetenv("KUBERNETES_SERVICE_PORT");
  auto outside = LoadInCluster(dir_.path());
  ASSERT_FALSE(outside);
  EXPECT_EQ(outside.error().code(), Code::kInvalidArgument);
  EXPECT_NE(outside.error().message().find("KUBERNETES_SERVICE_HOST"), std::string::npos);

  setenv("KUBERNETES_SERVICE_PORT", "443", 1);
  fs::remove(fs::path(dir_.path()) / "ca.crt");
  auto no_ca = LoadInCluster(dir_.path());
  ASSERT_FALSE(no_ca);
  EXPECT_EQ(no_ca.error().code(), Code::kNotFound);
  EXPECT_NE(no_ca.error().message().find("ca.crt"), std::string::npos);

  Write(fs::path(dir_.path()) / "token", "  \n");
  auto empty_token = LoadInCluster(dir_.path());
  ASSERT_FALSE(empty_token);
  EXPECT_NE(empty_token.error().message().find("token"), std::string::npos);
  EXPECT_EQ(LoadInCluster(fs::path(dir_.path()) / "missing").error().code(), Code::kNotFound);
}

}  // namespace
}  // namespace paddlecloud::cluster::kubernetes
