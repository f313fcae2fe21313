// Kubernetes object validation against the official OpenAPI v3 schemas, as an API server does
// with fieldValidation=Strict.
//
// Schemas::Load reads every `openapi-v3-*/*.json` document under a directory (the documents
// Kubernetes publishes at /openapi/v3/...) and every CustomResourceDefinition in its `*.yaml` files
// (e.g. kubeflow.org_paddlejobs.yaml), and indexes them once by apiVersion + kind
// (x-kubernetes-group-version-kind; a CRD's spec.group, versions[].name and names.kind).
//
// Validate walks an object against the schema of its apiVersion/kind and returns its problems,
// each "path: what" (e.g. "spec.template.spec.containers[0].resourcs: unknown field"); empty means
// valid. What is checked:
//  - unknown fields: a field the schema does not declare is rejected unless the schema allows any
//    key (additionalProperties: maps like labels or resources.limits) or
//    x-kubernetes-preserve-unknown-fields is set. Built-in object schemas that declare nothing at
//    all (RawExtension, FieldsV1) take anything; a CRD's such schema takes nothing (pruning).
//  - required fields, types (string, integer, number, boolean, array, object), enum,
//    format int32/int64 ranges, date-time (RFC 3339), byte (base64), pattern,
//    int-or-string, and quantities (resource.Quantity, or a CRD pattern of the quantity grammar):
//    a number, or a string such as "500m", "1Gi", "2", "1e3".
//  - null is treated as an absent field.
//  - a CRD's root metadata is checked as ObjectMeta (as the API server does).
// Not checked: the server's hand-written validation (name syntax, immutability, CEL rules,
// cross-field rules); those are not in the schemas.
//
// A Schemas is immutable after Load and cheap to copy; it may be used from several threads.
#pragma once

#include <cstddef>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/json/value.hpp>

#include "common/status.h"

namespace paddlecloud::kube_schema {

// At most this many problems are reported for one object (the last one says more were cut).
inline constexpr std::size_t kMaxProblems = 100;

class Schemas {
 public:
  // InvalidArgument naming the file when a document cannot be read or parsed; NotFound when `dir`
  // holds no schema at all.
  static Result<Schemas> Load(const std::filesystem::path& dir);

  // The problems of `object` (empty = valid). An unknown apiVersion/kind is one problem.
  std::vector<std::string> Validate(const boost::json::value& object) const;

  // Whether a schema for this apiVersion ("v1", "apps/v1", "kubeflow.org/v1") and kind is loaded.
  bool Knows(std::string_view api_version, std::string_view kind) const;

  struct Index;

 private:
  explicit Schemas(std::shared_ptr<const Index> index) : index_(std::move(index)) {}
  std::shared_ptr<const Index> index_;
};

// Kubernetes' quantity grammar (resource.ParseQuantity): [+-]number with an optional suffix of
// Ki..Ei, n/u/m/k/M/G/T/P/E, or an exponent e<int>/E<int>. "500m", "1Gi", "2", "1e3", ".5" pass;
// "1 GB", "abc", "" do not.
bool IsQuantity(std::string_view text);

// An RFC 3339 date-time as Kubernetes writes it: 2006-01-02T15:04:05Z or with .fraction and ±hh:mm.
bool IsDateTime(std::string_view text);

// The schemas copied into this repository (third_party/k8s-api), loaded on first use; throws
// std::runtime_error when they cannot be read (a broken checkout). For tests and checkers.
const Schemas& RepositorySchemas();

}  // namespace paddlecloud::kube_schema
