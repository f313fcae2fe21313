// kube-schema-check [--schemas DIR] FILE...
//
// Validates every document of each YAML or JSON manifest (JSON is read as YAML, so duplicate keys
// are caught) against the Kubernetes schemas (the in-repo third_party/k8s-api unless --schemas
// says otherwise) and prints one line per problem:
//   FILE: doc N (Kind name): problem
// A v1 List is checked item by item ("doc N item M"); kustomize's Kustomization documents are not
// Kubernetes API objects and are reported as skipped. Exit status: 0 all valid, 1 any problem or
// unreadable file, 2 usage.
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include "kube_schema/kube_schema.h"
#include "yaml/yaml.h"

namespace {

namespace json = boost::json;
using paddlecloud::kube_schema::Schemas;

std::string_view Str(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v && v->is_string() ? std::string_view(v->get_string()) : std::string_view();
}

std::string Label(const json::value& doc) {
  const json::object* o = doc.if_object();
  if (!o) return "not an object";
  std::string_view kind = Str(*o, "kind");
  std::string label = kind.empty() ? "unknown kind" : std::string(kind);
  const json::value* meta = o->if_contains("metadata");
  if (meta && meta->is_object()) {
    std::string_view name = Str(meta->get_object(), "name");
    if (name.empty() && !Str(meta->get_object(), "generateName").empty()) {
      label += " " + std::string(Str(meta->get_object(), "generateName")) + "*";
    } else if (!name.empty()) {
      label += " " + std::string(name);
    }
  }
  return label;
}

// The documents of one file (YAML or JSON).
paddlecloud::Result<std::vector<json::value>> ReadDocuments(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return paddlecloud::Err(paddlecloud::Status::InvalidArgument("cannot read the file"));
  std::ostringstream buffer;
  buffer << in.rdbuf();
  std::string text = std::move(buffer).str();
  if (text.size() > paddlecloud::yaml::kMaxYamlBytes) {
    return paddlecloud::Err(paddlecloud::Status::InvalidArgument("file larger than 64 MiB"));
  }
  // JSON is YAML; the YAML reader also reports duplicate keys (as a Strict server does) where a
  // JSON parser would keep the last one.
  return paddlecloud::yaml::ParseYamlDocuments(text);
}

}  // namespace

int main(int argc, char** argv) {
  std::string schema_dir = PADDLECLOUD_K8S_API_DIR;
  std::vector<std::string> files;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--schemas" && i + 1 < argc) {
      schema_dir = argv[++i];
    } else if (arg.starts_with("--schemas=")) {
      schema_dir = arg.substr(10);
    } else if (arg == "-h" || arg == "--help") {
      std::cout << "usage: kube-schema-check [--schemas DIR] FILE...\n";
      return 0;
    } else if (arg.starts_with("-") && arg != "-") {
      std::cerr << "kube-schema-check: unknown option " << arg << "\n";
      return 2;
    } else {
      files.emplace_back(arg);
    }
  }
  if (files.empty()) {
    std::cerr << "usage: kube-schema-check [--schemas DIR] FILE...\n";
    return 2;
  }
  auto schemas = Schemas::Load(schema_dir);
  if (!schemas) {
    std::cerr << "kube-schema-check: " << schemas.error().message() << "\n";
    return 2;
  }

  std::size_t problems = 0, documents = 0, skipped = 0;
  auto report = [&](const std::string& where, const json::value& object) {
    for (const std::string& p : schemas->Validate(object)) {
      std::cout << where << " (" << Label(object) << "): " << p << "\n";
      ++problems;
    }
  };
  for (const std::string& file : files) {
    auto docs = ReadDocuments(file == "-" ? "/dev/stdin" : file);
    if (!docs) {
      std::cout << file << ": " << docs.error().message() << "\n";
      ++problems;
      continue;
    }
    for (std::size_t n = 0; n < docs->size(); ++n) {
      const json::value& doc = (*docs)[n];
      std::string where = file + ": doc " + std::to_string(n + 1);
      ++documents;
      const json::object* o = doc.if_object();
      if (o && Str(*o, "kind") == "Kustomization" && Str(*o, "apiVersion").starts_with("kustomize.config.k8s.io/")) {
        std::cout << where << " (" << Label(doc) << "): skipped (a kustomize file, not a Kubernetes API object)\n";
        ++skipped;
        continue;
      }
      if (o && Str(*o, "kind") == "List" && Str(*o, "apiVersion") == "v1") {
        const json::value* items = o->if_contains("items");
        if (!items || !items->is_array()) {
          std::cout << where << " (List): items: expected array\n";
          ++problems;
          continue;
        }
        for (const auto& [key, value] : *o) {
          if (key != "apiVersion" && key != "kind" && key != "metadata" && key != "items") {
            std::cout << where << " (List): " << std::string_view(key) << ": unknown field\n";
            ++problems;
          }
        }
        const json::array& list = items->get_array();
        for (std::size_t m = 0; m < list.size(); ++m) report(where + " item " + std::to_string(m + 1), list[m]);
        continue;
      }
      report(where, doc);
    }
  }
  std::cerr << "kube-schema-check: " << documents << " document(s) in " << files.size() << " file(s), " << skipped
            << " skipped, " << problems << " problem(s)\n";
  return problems == 0 ? 0 : 1;
}
