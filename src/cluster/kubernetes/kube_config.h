// Where the Kubernetes API server is and how to authenticate to it: from a kubeconfig file (its
// current context) or from the service account a pod runs with (in-cluster).
//
// Credentials end up in memory (PEM strings, the token): nothing here logs them, and error messages
// name files and fields, never their content.
#pragma once

#include <filesystem>
#include <string>

#include "common/status.h"

namespace paddlecloud::cluster::kubernetes {

struct KubeConnection {
  std::string server;          // "https://10.0.0.1:6443" (no trailing slash needed)
  std::string ca_pem;          // empty: the system's CAs
  std::string client_cert_pem, client_key_pem;
  std::string token;           // bearer token; empty: none (or read from token_file)
  // When set, the token is (re-)read from this file at most once a minute: in-cluster tokens
  // rotate. A read that fails keeps the last token.
  std::string token_file;
  bool insecure_skip_tls_verify = false;
  std::string namespace_name;  // the in-cluster pod's own namespace / the context's ("default" when unset)
};

// The current context of a kubeconfig file (YAML): the cluster's server, certificate-authority(-data),
// insecure-skip-tls-verify; the user's token / tokenFile / client-certificate(-data) /
// client-key(-data); the context's namespace. Relative file paths are relative to the kubeconfig's
// folder; *-data fields are base64. exec and auth-provider plugins and basic auth are refused with a
// message saying so. Errors: kInvalidArgument naming what is missing or malformed (no
// current-context, an unknown context/cluster/user, a server that is not http(s)://, bad base64);
// kNotFound when the kubeconfig or a file it names cannot be read.
Result<KubeConnection> LoadKubeconfig(const std::filesystem::path& file);

// In-cluster: https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT, and `token`, `ca.crt`,
// `namespace` under `dir` (token_file is set to <dir>/token; a missing namespace file means
// "default"). kInvalidArgument when the environment variables are unset, kNotFound when the token
// or ca.crt cannot be read.
Result<KubeConnection> LoadInCluster(
    const std::filesystem::path& dir = "/var/run/secrets/kubernetes.io/serviceaccount");

}  // namespace paddlecloud::cluster::kubernetes
