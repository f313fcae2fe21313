#include "cluster/kubernetes/kube_config.h"

#include <cctype>
#include <cstdlib>
#include <fstream>
#include <iterator>

#include <boost/json.hpp>

#include "common/base64.h"
#include "yaml/yaml.h"

namespace paddlecloud::cluster::kubernetes {

namespace json = boost::json;
namespace fs = std::filesystem;

namespace {

std::string_view TrimView(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

std::string Trim(std::string_view s) { return std::string(TrimView(s)); }

// Reads a credential file; `what` names it in the error ("the kubeconfig's client-key").
Result<std::string> ReadFile(const fs::path& path, std::string_view what) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    return Err(Status::NotFound("cannot read " + std::string(what) + " " + path.string() + ": a directory"));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return Err(Status::NotFound("cannot read " + std::string(what) + " " + path.string()));
  std::string text(std::istreambuf_iterator<char>(in), {});
  if (in.bad()) return Err(Status::NotFound("cannot read " + std::string(what) + " " + path.string()));
  return text;
}

Result<std::string> DecodeBase64(std::string_view text, std::string_view what) {
  auto decoded = Base64Decode(text);
  if (!decoded) return Err(Status::InvalidArgument(std::string(what) + " is not valid base64", std::string(what)));
  return *decoded;
}

// A string member; a present but non-string value is an error naming `where`.key.
Result<std::string> StringField(const json::object& o, std::string_view key, std::string_view where) {
  const json::value* v = o.if_contains(key);
  if (!v || v->is_null()) return std::string();
  if (v->is_string()) return std::string(v->get_string());
  return Err(Status::InvalidArgument("kubeconfig: " + std::string(where) + "." + std::string(key) + " is not a string",
                                     std::string(key)));
}

// The entry named `name` of the list `list_key` ("clusters") and its `item_key` ("cluster") object.
Result<const json::object*> NamedEntry(const json::object& config, std::string_view list_key, std::string_view item_key,
                                       const std::string& name) {
  const json::value* list = config.if_contains(list_key);
  if (list && list->is_array()) {
    for (const auto& entry : list->as_array()) {
      if (!entry.is_object()) continue;
      const json::value* n = entry.as_object().if_contains("name");
      if (!n || !n->is_string() || n->get_string() != name) continue;
      const json::value* item = entry.as_object().if_contains(item_key);
      if (!item || !item->is_object()) {
        return Err(Status::InvalidArgument("kubeconfig: " + std::string(item_key) + " '" + name + "' has no " +
                                           std::string(item_key) + " section", std::string(list_key)));
      }
      return &item->as_object();
    }
  }
  return Err(Status::InvalidArgument("kubeconfig: no " + std::string(item_key) + " named '" + name + "' in " +
                                     std::string(list_key), std::string(list_key)));
}

// `<key>-data` (base64) or `<key>` (a file, relative to `base`); empty when neither is set.
Result<std::string> DataOrFile(const json::object& o, const std::string& key, std::string_view where,
                               const fs::path& base) {
  auto data = StringField(o, key + "-data", where);
  if (!data) return Err(data.error());
  if (!data->empty()) return DecodeBase64(*data, std::string(where) + "." + key + "-data");
  auto file = StringField(o, key, where);
  if (!file) return Err(file.error());
  if (file->empty()) return std::string();
  fs::path path(*file);
  if (path.is_relative()) path = base / path;
  auto text = ReadFile(path, "the kubeconfig's " + std::string(where) + "." + key);
  // An empty CA file must not quietly mean "the system's CAs".
  if (text && TrimView(*text).empty()) {
    return Err(Status::InvalidArgument("kubeconfig: " + std::string(where) + "." + key + " " + path.string() +
                                       " is empty", key));
  }
  return text;
}

Result<bool> BoolField(const json::object& o, std::string_view key, std::string_view where) {
  const json::value* v = o.if_contains(key);
  if (!v || v->is_null()) return false;
  if (v->is_bool()) return v->get_bool();
  if (v->is_string() && (v->get_string() == "true" || v->get_string() == "false")) return v->get_string() == "true";
  return Err(Status::InvalidArgument("kubeconfig: " + std::string(where) + "." + std::string(key) + " is not a boolean",
                                     std::string(key)));
}

bool ServerUrlOk(std::string_view server) {
  return (server.starts_with("https://") && server.size() > 8) || (server.starts_with("http://") && server.size() > 7);
}

#define PC_ASSIGN_OR_RETURN_KC(lhs, expr) \
  auto lhs##_result = (expr);             \
  if (!lhs##_result) return Err(lhs##_result.error()); \
  auto lhs = std::move(*lhs##_result)

Result<KubeConnection> FromConfig(const json::object& config, const fs::path& base) {
  PC_ASSIGN_OR_RETURN_KC(context_name, StringField(config, "current-context", "kubeconfig"));
  if (context_name.empty()) {
    return Err(Status::InvalidArgument("kubeconfig: current-context is not set", "current-context"));
  }
  PC_ASSIGN_OR_RETURN_KC(context, NamedEntry(config, "contexts", "context", context_name));
  PC_ASSIGN_OR_RETURN_KC(cluster_name, StringField(*context, "cluster", "context"));
  if (cluster_name.empty()) {
    return Err(Status::InvalidArgument("kubeconfig: context '" + context_name + "' names no cluster", "cluster"));
  }
  PC_ASSIGN_OR_RETURN_KC(cluster, NamedEntry(config, "clusters", "cluster", cluster_name));

  KubeConnection c;
  PC_ASSIGN_OR_RETURN_KC(server, StringField(*cluster, "server", "cluster"));
  if (server.empty()) {
    return Err(Status::InvalidArgument("kubeconfig: cluster '" + cluster_name + "' has no server", "server"));
  }
  if (!ServerUrlOk(server)) {
    return Err(Status::InvalidArgument("kubeconfig: cluster '" + cluster_name + "' server '" + server +
                                       "' is not an https:// or http:// URL", "server"));
  }
  c.server = server;
  PC_ASSIGN_OR_RETURN_KC(ca, DataOrFile(*cluster, "certificate-authority", "cluster", base));
  c.ca_pem = std::move(ca);
  PC_ASSIGN_OR_RETURN_KC(insecure, BoolField(*cluster, "insecure-skip-tls-verify", "cluster"));
  c.insecure_skip_tls_verify = insecure;
  PC_ASSIGN_OR_RETURN_KC(ns, StringField(*context, "namespace", "context"));
  c.namespace_name = ns.empty() ? "default" : ns;

  PC_ASSIGN_OR_RETURN_KC(user_name, StringField(*context, "user", "context"));
  if (user_name.empty()) return c;  // anonymous
  PC_ASSIGN_OR_RETURN_KC(user, NamedEntry(config, "users", "user", user_name));
  for (std::string_view plugin : {"exec", "auth-provider"}) {
    if (const json::value* v = user->if_contains(plugin); v && !v->is_null()) {
      return Err(Status::InvalidArgument("kubeconfig: user '" + user_name + "' authenticates with an " +
                                         std::string(plugin) + " plugin, which PaddleCloud does not run; use a "
                                         "token, a tokenFile or a client certificate (e.g. a service account token)",
                                         std::string(plugin)));
    }
  }
  if (user->contains("username") || user->contains("password")) {
    return Err(Status::InvalidArgument("kubeconfig: user '" + user_name + "' uses basic authentication, which is "
                                       "not supported; use a token or a client certificate", "username"));
  }
  PC_ASSIGN_OR_RETURN_KC(token, StringField(*user, "token", "user"));
  c.token = Trim(token);
  PC_ASSIGN_OR_RETURN_KC(token_file, StringField(*user, "tokenFile", "user"));
  if (!token_file.empty()) {
    fs::path path(token_file);
    if (path.is_relative()) path = base / path;
    c.token_file = path.string();
    if (c.token.empty()) {
      PC_ASSIGN_OR_RETURN_KC(text, ReadFile(path, "the kubeconfig's user.tokenFile"));
      c.token = Trim(text);
    }
  }
  PC_ASSIGN_OR_RETURN_KC(cert, DataOrFile(*user, "client-certificate", "user", base));
  PC_ASSIGN_OR_RETURN_KC(key, DataOrFile(*user, "client-key", "user", base));
  if (cert.empty() != key.empty()) {
    return Err(Status::InvalidArgument("kubeconfig: user '" + user_name + "' has a client " +
                                       (cert.empty() ? "key but no client-certificate"
                                                     : "certificate but no client-key"),
                                       cert.empty() ? "client-certificate" : "client-key"));
  }
  c.client_cert_pem = std::move(cert);
  c.client_key_pem = std::move(key);
  return c;
}

#undef PC_ASSIGN_OR_RETURN_KC

}  // namespace

Result<KubeConnection> LoadKubeconfig(const fs::path& file) {
  auto text = ReadFile(file, "kubeconfig");
  if (!text) return Err(text.error());
  auto documents = yaml::ParseYamlDocuments(*text);
  if (!documents) {
    return Err(Status::InvalidArgument("kubeconfig " + file.string() + " is not valid YAML: " +
                                       documents.error().message()));
  }
  if (documents->empty() || !documents->front().is_object()) {
    return Err(Status::InvalidArgument("kubeconfig " + file.string() + " is not a YAML mapping"));
  }
  auto connection = FromConfig(documents->front().as_object(), fs::absolute(file).parent_path());
  if (!connection) {
    Status s = connection.error();
    return Err(Status::Of(s.code(), s.message() + " (" + file.string() + ")", s.field()));
  }
  return connection;
}

Result<KubeConnection> LoadInCluster(const fs::path& dir) {
  const char* host = std::getenv("KUBERNETES_SERVICE_HOST");
  const char* port = std::getenv("KUBERNETES_SERVICE_PORT");
  if (!host || !*host || !port || !*port) {
    return Err(Status::InvalidArgument(
        "not running in a Kubernetes pod: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be set"));
  }
  std::string h = host;
  if (h.find(':') != std::string::npos && h.front() != '[') h = "[" + h + "]";  // IPv6
  KubeConnection c;
  c.server = "https://" + h + ":" + port;
  c.token_file = (dir / "token").string();
  auto token = ReadFile(dir / "token", "the service account token");
  if (!token) return Err(token.error());
  c.token = Trim(*token);
  if (c.token.empty()) return Err(Status::NotFound("the service account token " + c.token_file + " is empty"));
  auto ca = ReadFile(dir / "ca.crt", "the service account's CA certificate");
  if (!ca) return Err(ca.error());
  c.ca_pem = std::move(*ca);
  auto ns = ReadFile(dir / "namespace", "namespace");
  c.namespace_name = ns ? Trim(*ns) : std::string();
  if (c.namespace_name.empty()) c.namespace_name = "default";
  return c;
}

}  // namespace paddlecloud::cluster::kubernetes
