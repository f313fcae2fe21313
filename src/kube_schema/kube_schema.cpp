#include "kube_schema/kube_schema.h"

#include <stdexcept>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <map>
#include <optional>
#include <regex>
#include <sstream>
#include <unordered_map>
#include <utility>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>

#include "yaml/yaml.h"

namespace paddlecloud::kube_schema {

namespace json = boost::json;

namespace {

enum TypeBit : std::uint8_t {
  kString = 1,
  kInteger = 2,
  kNumber = 4,
  kBoolean = 8,
  kArray = 16,
  kObject = 32,
};

enum class Format : std::uint8_t { kNone, kInt32, kInt64, kDateTime, kByte };

// The quantity pattern CRD generators emit for resource.Quantity and int-or-string quantities.
constexpr std::string_view kQuantityPattern =
    R"(^(\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))))?$)";

constexpr std::string_view kRefPrefix = "#/components/schemas/";
constexpr std::string_view kObjectMetaName = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta";
constexpr std::string_view kQuantityName = "io.k8s.apimachinery.pkg.api.resource.Quantity";

bool Digit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

// One compiled schema. Children are indices into Index::nodes.
struct Node {
  int alias = -1;           // this schema is exactly another one ($ref)
  std::uint8_t types = 0;   // TypeBit set; 0 = any type
  Format format = Format::kNone;
  bool quantity = false;            // strings must be quantities
  bool preserve_unknown = false;    // x-kubernetes-preserve-unknown-fields
  bool open_object = false;         // declares no fields and takes any (built-in RawExtension, FieldsV1)
  bool embedded_resource = false;   // x-kubernetes-embedded-resource: apiVersion, kind, metadata implied
  bool additional_any = false;      // additionalProperties: true
  int additional = -1;              // additionalProperties: <schema>
  int items = -1;
  std::map<std::string, int, std::less<>> properties;
  std::vector<std::string> required;
  std::vector<json::value> enum_values;
  std::shared_ptr<const std::regex> pattern;
  std::string pattern_text;
  std::vector<int> any_of;  // oneOf/anyOf branches that are more than a type
  std::vector<int> all_of;  // allOf branches beside own constraints
};

struct Schemas::Index {
  std::vector<Node> nodes;
  std::unordered_map<std::string, int> by_gvk;  // "group/version/Kind" ("" group for core)
  int object_meta = -1;
};

namespace {

std::string GvkKey(std::string_view group, std::string_view version, std::string_view kind) {
  std::string key(group);
  key += '/';
  key += version;
  key += '/';
  key += kind;
  return key;
}

std::string GvkKeyOf(std::string_view api_version, std::string_view kind) {
  auto slash = api_version.find('/');
  if (slash == std::string_view::npos) return GvkKey("", api_version, kind);
  return GvkKey(api_version.substr(0, slash), api_version.substr(slash + 1), kind);
}

std::string_view StringOr(const json::object& o, std::string_view key, std::string_view fallback = "") {
  const json::value* v = o.if_contains(key);
  return v && v->is_string() ? std::string_view(v->get_string()) : fallback;
}

std::uint8_t TypeBitOf(std::string_view type) {
  if (type == "string") return kString;
  if (type == "integer") return kInteger;
  if (type == "number") return kNumber;
  if (type == "boolean") return kBoolean;
  if (type == "array") return kArray;
  if (type == "object") return kObject;
  return 0;
}

// Keywords that make a schema more than a wrapper around its allOf/$ref.
bool HasOwnConstraints(const json::object& s) {
  for (std::string_view k : {"type", "properties", "additionalProperties", "items", "enum", "required", "oneOf",
                             "anyOf", "pattern", "format", "x-kubernetes-int-or-string",
                             "x-kubernetes-preserve-unknown-fields", "x-kubernetes-embedded-resource"}) {
    if (s.contains(k)) return true;
  }
  return false;
}

// A branch of oneOf/anyOf that only names a type ({"type": "integer"}).
std::uint8_t PlainTypeBranch(const json::value& branch) {
  const json::object* o = branch.if_object();
  if (!o) return 0;
  for (const auto& [k, v] : *o) {
    if (k != "type" && k != "format" && k != "description") return 0;
  }
  return TypeBitOf(StringOr(*o, "type"));
}

// Turns the schemas of one document (or one CRD version) into nodes. $refs are local to the
// document; each named schema becomes one node, so recursive schemas terminate.
class Compiler {
 public:
  Compiler(Schemas::Index& index, const json::object* components, bool crd, std::string source)
      : index_(index), components_(components), crd_(crd), source_(std::move(source)) {}

  Result<int> Compile(const json::value& schema, int depth) {
    if (depth > 200) return Err(Problem("schema nested too deeply"));
    const json::object* s = schema.if_object();
    if (!s) {
      // `true` / `{}`-like schemas: anything.
      return NewNode();
    }
    if (std::string_view ref = StringOr(*s, "$ref"); !ref.empty()) return CompileRef(ref, depth);
    if (const json::value* all = s->if_contains("allOf"); all && all->is_array() && all->get_array().size() == 1 &&
                                                          !HasOwnConstraints(*s)) {
      return Compile(all->get_array()[0], depth + 1);
    }
    int id = NewNode();
    PC_RETURN_IF_ERROR(Fill(id, *s, depth));
    return id;
  }

  Result<int> CompileRef(std::string_view ref, int depth) {
    if (!ref.starts_with(kRefPrefix) || !components_) return Err(Problem("unsupported $ref " + std::string(ref)));
    std::string name(ref.substr(kRefPrefix.size()));
    if (auto it = memo_.find(name); it != memo_.end()) return it->second;
    const json::value* target = components_->if_contains(name);
    if (!target) return Err(Problem("$ref to a missing schema " + name));
    int id = NewNode();
    memo_.emplace(name, id);
    auto body = Compile(*target, depth + 1);
    if (!body) return body;
    index_.nodes[id].alias = *body;
    if (name == kQuantityName) index_.nodes[*body].quantity = true;
    if (name == kObjectMetaName && index_.object_meta < 0) index_.object_meta = id;
    return id;
  }

 private:
  int NewNode() {
    index_.nodes.emplace_back();
    return static_cast<int>(index_.nodes.size()) - 1;
  }

  Status Problem(std::string what) const { return Status::InvalidArgument(source_ + ": " + what); }

  Status Fill(int id, const json::object& s, int depth) {
    std::uint8_t types = TypeBitOf(StringOr(s, "type"));
    std::string_view format = StringOr(s, "format");
    Format fmt = Format::kNone;
    if (format == "int32") fmt = Format::kInt32;
    else if (format == "int64") fmt = Format::kInt64;
    else if (format == "date-time") fmt = Format::kDateTime;
    else if (format == "byte") fmt = Format::kByte;
    else if (format == "int-or-string") types = kInteger | kString;
    auto flag = [&](std::string_view key) {
      const json::value* v = s.if_contains(key);
      return v && v->is_bool() && v->get_bool();
    };
    if (flag("x-kubernetes-int-or-string")) types = kInteger | kString;

    std::vector<int> any_of;
    for (std::string_view key : {"oneOf", "anyOf"}) {
      const json::value* branches = s.if_contains(key);
      if (!branches || !branches->is_array()) continue;
      std::uint8_t union_types = 0;
      bool plain = true;
      for (const json::value& b : branches->get_array()) {
        std::uint8_t t = PlainTypeBranch(b);
        if (t == 0) plain = false;
        union_types |= t;
      }
      if (plain) {
        // Kubernetes' int-or-string and quantity: a union of types. With a type already given
        // (x-kubernetes-int-or-string), the branches only restate it.
        if (types == 0) types = union_types;
        continue;
      }
      for (const json::value& b : branches->get_array()) {
        auto child = Compile(b, depth + 1);
        if (!child) return child.error();
        any_of.push_back(*child);
      }
    }
    std::vector<int> all_of;
    if (const json::value* all = s.if_contains("allOf"); all && all->is_array()) {
      for (const json::value& b : all->get_array()) {
        auto child = Compile(b, depth + 1);
        if (!child) return child.error();
        all_of.push_back(*child);
      }
    }

    std::map<std::string, int, std::less<>> properties;
    if (const json::value* props = s.if_contains("properties"); props && props->is_object()) {
      for (const auto& [key, sub] : props->get_object()) {
        auto child = Compile(sub, depth + 1);
        if (!child) return child.error();
        properties.emplace(std::string(key), *child);
      }
    }
    int additional = -1;
    bool additional_any = false;
    const json::value* ap = s.if_contains("additionalProperties");
    if (ap && ap->is_bool()) {
      additional_any = ap->get_bool();
    } else if (ap && ap->is_object()) {
      auto child = Compile(*ap, depth + 1);
      if (!child) return child.error();
      additional = *child;
    }
    int items = -1;
    if (const json::value* it = s.if_contains("items"); it && it->is_object()) {
      auto child = Compile(*it, depth + 1);
      if (!child) return child.error();
      items = *child;
    }

    Node& n = index_.nodes[id];  // no more nodes are added below: the reference stays valid
    n.types = types;
    n.format = fmt;
    n.preserve_unknown = flag("x-kubernetes-preserve-unknown-fields");
    n.embedded_resource = flag("x-kubernetes-embedded-resource");
    n.properties = std::move(properties);
    n.additional = additional;
    n.additional_any = additional_any;
    n.items = items;
    n.any_of = std::move(any_of);
    n.all_of = std::move(all_of);
    if (const json::value* req = s.if_contains("required"); req && req->is_array()) {
      for (const json::value& r : req->get_array()) {
        if (r.is_string()) n.required.emplace_back(r.get_string());
      }
    }
    if (const json::value* en = s.if_contains("enum"); en && en->is_array()) {
      n.enum_values.assign(en->get_array().begin(), en->get_array().end());
    }
    if (std::string_view pattern = StringOr(s, "pattern"); !pattern.empty()) {
      if (pattern == kQuantityPattern) {
        n.quantity = true;
      } else {
        try {
          n.pattern = std::make_shared<const std::regex>(std::string(pattern), std::regex::ECMAScript);
          n.pattern_text = std::string(pattern);
        } catch (const std::regex_error&) {
          // Go's RE2 syntax that std::regex cannot read: the server checks it, we cannot.
        }
      }
    }
    // Built-in schemas mark opaque objects (RawExtension, FieldsV1) as a bare "type: object"; in a
    // CRD's structural schema the same means "no fields" (everything else is pruned).
    if (!crd_ && n.types == kObject && n.properties.empty() && !ap && !n.preserve_unknown && n.all_of.empty() &&
        n.any_of.empty()) {
      n.open_object = true;
    }
    return Status::Ok();
  }

  Schemas::Index& index_;
  const json::object* components_;
  bool crd_;
  std::string source_;
  std::unordered_map<std::string, int> memo_;
};

Result<std::string> ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Err(Status::InvalidArgument("cannot read " + path.string()));
  std::ostringstream out;
  out << in.rdbuf();
  if (in.bad()) return Err(Status::InvalidArgument("cannot read " + path.string()));
  return std::move(out).str();
}

Status LoadOpenApi(Schemas::Index& index, const std::filesystem::path& file) {
  auto text = ReadFile(file);
  if (!text) return text.error();
  json::parse_options options;
  options.max_depth = 10000;
  boost::system::error_code ec;
  json::value doc = json::parse(*text, ec, {}, options);
  if (ec) return Status::InvalidArgument(file.string() + ": " + ec.message());
  const json::object* root = doc.if_object();
  const json::value* components = root ? root->if_contains("components") : nullptr;
  const json::value* schemas = components && components->is_object() ? components->get_object().if_contains("schemas")
                                                                       : nullptr;
  if (!schemas || !schemas->is_object()) {
    return Status::InvalidArgument(file.string() + ": no components.schemas (not an OpenAPI v3 document)");
  }
  Compiler compiler(index, &schemas->get_object(), /*crd=*/false, file.string());
  for (const auto& [name, schema] : schemas->get_object()) {
    const json::object* s = schema.if_object();
    const json::value* gvks = s ? s->if_contains("x-kubernetes-group-version-kind") : nullptr;
    if (!gvks || !gvks->is_array()) continue;
    auto id = compiler.CompileRef(std::string(kRefPrefix) + std::string(name), 0);
    if (!id) return id.error();
    for (const json::value& gvk : gvks->get_array()) {
      if (!gvk.is_object()) continue;
      const json::object& g = gvk.get_object();
      index.by_gvk[GvkKey(StringOr(g, "group"), StringOr(g, "version"), StringOr(g, "kind"))] = *id;
    }
  }
  return Status::Ok();
}

Status LoadCrds(Schemas::Index& index, const std::filesystem::path& file, bool& found) {
  auto text = ReadFile(file);
  if (!text) return text.error();
  auto docs = yaml::ParseYamlDocuments(*text);
  if (!docs) return Status::InvalidArgument(file.string() + ": " + docs.error().message());
  for (const json::value& doc : *docs) {
    const json::object* crd = doc.if_object();
    if (!crd || StringOr(*crd, "kind") != "CustomResourceDefinition") continue;
    const json::value* spec = crd->if_contains("spec");
    if (!spec || !spec->is_object()) continue;
    std::string_view group = StringOr(spec->get_object(), "group");
    const json::value* names = spec->get_object().if_contains("names");
    std::string_view kind = names && names->is_object() ? StringOr(names->get_object(), "kind") : "";
    const json::value* versions = spec->get_object().if_contains("versions");
    if (group.empty() || kind.empty() || !versions || !versions->is_array()) {
      return Status::InvalidArgument(file.string() + ": CustomResourceDefinition without group, kind or versions");
    }
    for (const json::value& version : versions->get_array()) {
      if (!version.is_object()) continue;
      std::string_view name = StringOr(version.get_object(), "name");
      const json::value* schema = version.get_object().if_contains("schema");
      const json::value* v3 = schema && schema->is_object() ? schema->get_object().if_contains("openAPIV3Schema")
                                                           : nullptr;
      if (name.empty() || !v3) continue;
      Compiler compiler(index, nullptr, /*crd=*/true, file.string());
      auto root = compiler.Compile(*v3, 0);
      if (!root) return root.error();
      // The API server checks a custom resource's metadata as ObjectMeta, whatever the CRD says,
      // and always accepts apiVersion and kind.
      Node& n = index.nodes[*root];
      if (index.object_meta >= 0) {
        n.properties["metadata"] = index.object_meta;
      } else if (auto it = n.properties.find("metadata"); it != n.properties.end()) {
        index.nodes[it->second].open_object = true;
      }
      for (const char* key : {"apiVersion", "kind"}) {
        if (!index.nodes[*root].properties.contains(key)) {
          index.nodes.emplace_back();
          index.nodes.back().types = kString;
          index.nodes[*root].properties[key] = static_cast<int>(index.nodes.size()) - 1;
        }
      }
      index.by_gvk[GvkKey(group, name, kind)] = *root;
      found = true;
    }
  }
  return Status::Ok();
}

std::vector<std::filesystem::path> SortedEntries(const std::filesystem::path& dir, std::error_code& ec) {
  std::vector<std::filesystem::path> out;
  for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    out.push_back(it->path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

// ---- validation ----

// A path as segments; rendered only when there is a problem.
struct Segment {
  enum Kind : std::uint8_t { kField, kKey, kIndex } kind;
  std::string_view name;
  std::size_t index = 0;
};

class Walker {
 public:
  explicit Walker(const Schemas::Index& index, std::vector<Segment> path = {}) : index_(index), path_(std::move(path)) {}

  void Check(const json::value& value, int node_id, int depth) {
    if (full()) return;
    const Node* node = &index_.nodes[node_id];
    while (node->alias >= 0) node = &index_.nodes[node->alias];
    if (value.is_null()) return;  // absent
    if (depth > 512) {
      Add("nested too deeply");
      return;
    }

    for (int branch : node->all_of) Check(value, branch, depth + 1);
    if (!node->any_of.empty()) {
      std::vector<std::string> first;
      bool matched = false;
      for (int branch : node->any_of) {
        Walker sub(index_, path_);
        sub.Check(value, branch, depth + 1);
        if (sub.problems_.empty()) {
          matched = true;
          break;
        }
        if (first.empty()) first = std::move(sub.problems_);
      }
      if (!matched) {
        for (std::string& p : first) Push(std::move(p));
        return;
      }
    }

    std::uint8_t bits = BitsOf(value);
    if (node->types != 0 && (node->types & bits) == 0) {
      Add("expected " + TypeNames(node->types) + ", got " + KindName(value));
      return;
    }
    if (value.is_number()) CheckNumber(value, *node);
    if (value.is_string()) CheckString(value.get_string(), *node);
    if (!node->enum_values.empty() &&
        std::find(node->enum_values.begin(), node->enum_values.end(), value) == node->enum_values.end()) {
      std::string allowed;
      for (const json::value& e : node->enum_values) {
        if (!allowed.empty()) allowed += ", ";
        allowed += json::serialize(e);
      }
      Add("unsupported value " + json::serialize(value) + " (allowed: " + allowed + ")");
    }
    if (const json::array* array = value.if_array(); array && node->items >= 0) {
      for (std::size_t i = 0; i < array->size(); ++i) {
        path_.push_back({Segment::kIndex, {}, i});
        Check((*array)[i], node->items, depth + 1);
        path_.pop_back();
      }
    }
    if (const json::object* object = value.if_object()) CheckObject(*object, *node, depth);
  }

  std::vector<std::string> Take() { return std::move(problems_); }
  void AddAt(std::string_view field, std::string what) {
    path_.push_back({Segment::kField, field, 0});
    Add(std::move(what));
    path_.pop_back();
  }

 private:
  bool full() const { return problems_.size() >= kMaxProblems; }

  void Push(std::string problem) {
    if (full()) return;
    if (problems_.size() + 1 == kMaxProblems) {
      problems_.push_back("(object): more than " + std::to_string(kMaxProblems - 1) + " problems; the rest are not shown");
      return;
    }
    problems_.push_back(std::move(problem));
  }

  void Add(std::string what) { Push(RenderPath() + ": " + what); }

  std::string RenderPath() const {
    if (path_.empty()) return "(object)";
    std::string out;
    for (const Segment& s : path_) {
      switch (s.kind) {
        case Segment::kField:
          if (!out.empty()) out += '.';
          out += s.name;
          break;
        case Segment::kKey:
          out += '[';
          out += s.name;
          out += ']';
          break;
        case Segment::kIndex:
          out += '[' + std::to_string(s.index) + ']';
          break;
      }
    }
    return out;
  }

  static std::uint8_t BitsOf(const json::value& v) {
    switch (v.kind()) {
      case json::kind::string: return kString;
      case json::kind::int64:
      case json::kind::uint64: return kInteger | kNumber;
      case json::kind::double_: {
        double d = v.get_double();
        return std::isfinite(d) && d == std::trunc(d) ? kInteger | kNumber : kNumber;
      }
      case json::kind::bool_: return kBoolean;
      case json::kind::array: return kArray;
      case json::kind::object: return kObject;
      default: return 0;
    }
  }

  static std::string KindName(const json::value& v) {
    switch (v.kind()) {
      case json::kind::string: return "string";
      case json::kind::int64:
      case json::kind::uint64: return "integer";
      case json::kind::double_: return "number";
      case json::kind::bool_: return "boolean";
      case json::kind::array: return "array";
      case json::kind::object: return "object";
      default: return "null";
    }
  }

  static std::string TypeNames(std::uint8_t types) {
    std::string out;
    auto add = [&](std::uint8_t bit, const char* name) {
      if (!(types & bit)) return;
      if (!out.empty()) out += " or ";
      out += name;
    };
    add(kString, "string");
    add(kInteger, "integer");
    if (!(types & kInteger)) add(kNumber, "number");
    else if (types & kNumber) out += " or number";
    add(kBoolean, "boolean");
    add(kArray, "array");
    add(kObject, "object");
    return out;
  }

  void CheckNumber(const json::value& v, const Node& node) {
    if (node.format != Format::kInt32 && node.format != Format::kInt64) return;
    if (!(BitsOf(v) & kInteger)) return;  // a type problem, reported elsewhere when it matters
    bool in_range = true;
    if (v.is_uint64()) {
      in_range = node.format == Format::kInt64 && v.get_uint64() <= static_cast<std::uint64_t>(INT64_MAX);
    } else if (v.is_int64()) {
      std::int64_t i = v.get_int64();
      in_range = node.format == Format::kInt64 || (i >= INT32_MIN && i <= INT32_MAX);
    } else {
      double d = v.get_double();
      in_range = node.format == Format::kInt64 ? (d >= -9223372036854775808.0 && d < 9223372036854775808.0)
                                               : (d >= INT32_MIN && d <= INT32_MAX);
    }
    if (!in_range) {
      Add("value " + json::serialize(v) + " out of range for " +
          (node.format == Format::kInt32 ? "int32" : "int64"));
    }
  }

  void CheckString(std::string_view s, const Node& node) {
    if (node.quantity && !IsQuantity(s)) {
      Add("quantity \"" + std::string(s) + "\" does not match the quantity syntax (like 500m, 2, 1.5Gi, 1e3)");
    }
    if (node.format == Format::kDateTime && !IsDateTime(s)) {
      Add("\"" + std::string(s) + "\" is not an RFC 3339 date-time");
    }
    if (node.format == Format::kByte && !IsBase64(s)) Add("not valid base64");
    if (node.pattern && !std::regex_search(s.begin(), s.end(), *node.pattern)) {
      Add("\"" + std::string(s) + "\" does not match the pattern " + node.pattern_text);
    }
  }

  static bool IsBase64(std::string_view s) {
    std::size_t n = 0, pad = 0;
    for (char c : s) {
      if (c == '\r' || c == '\n') continue;
      bool b64 = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || Digit(c) || c == '+' || c == '/';
      if (c == '=') {
        ++pad;
      } else if (!b64 || pad > 0) {
        return false;
      }
      ++n;
    }
    return n % 4 == 0 && pad <= 2;
  }

  void CheckObject(const json::object& object, const Node& node, int depth) {
    if (node.open_object) return;
    for (const auto& [key, member] : object) {
      if (full()) return;
      auto prop = node.properties.find(std::string_view(key));
      if (prop != node.properties.end()) {
        path_.push_back({Segment::kField, key, 0});
        Check(member, prop->second, depth + 1);
        path_.pop_back();
      } else if (node.additional >= 0) {
        path_.push_back({Segment::kKey, key, 0});
        Check(member, node.additional, depth + 1);
        path_.pop_back();
      } else if (node.additional_any || node.preserve_unknown) {
        // any value
      } else if (node.embedded_resource && (key == "apiVersion" || key == "kind" || key == "metadata")) {
        if (key == "metadata" && index_.object_meta >= 0) {
          path_.push_back({Segment::kField, key, 0});
          Check(member, index_.object_meta, depth + 1);
          path_.pop_back();
        }
      } else {
        AddAt(key, "unknown field");
      }
    }
    for (const std::string& field : node.required) {
      const json::value* v = object.if_contains(field);
      if (!v || v->is_null()) AddAt(field, "required field is missing");
    }
  }

  const Schemas::Index& index_;
  std::vector<Segment> path_;
  std::vector<std::string> problems_;
};

}  // namespace

Result<Schemas> Schemas::Load(const std::filesystem::path& dir) {
  auto index = std::make_shared<Index>();
  std::error_code ec;
  std::vector<std::filesystem::path> entries = SortedEntries(dir, ec);
  if (ec) return Err(Status::NotFound("cannot list schema directory " + dir.string() + ": " + ec.message()));
  bool found = false;
  // OpenAPI documents first: a CRD's metadata refers to their ObjectMeta.
  for (const auto& entry : entries) {
    if (!entry.filename().string().starts_with("openapi-v3-") || !std::filesystem::is_directory(entry)) continue;
    std::vector<std::filesystem::path> files = SortedEntries(entry, ec);
    if (ec) return Err(Status::InvalidArgument("cannot list " + entry.string() + ": " + ec.message()));
    for (const auto& file : files) {
      if (file.extension() != ".json") continue;
      PC_RETURN_IF_ERROR(LoadOpenApi(*index, file));
      found = true;
    }
  }
  for (const auto& entry : entries) {
    if ((entry.extension() != ".yaml" && entry.extension() != ".yml") || !std::filesystem::is_regular_file(entry)) {
      continue;
    }
    PC_RETURN_IF_ERROR(LoadCrds(*index, entry, found));
  }
  if (!found) return Err(Status::NotFound("no Kubernetes schemas in " + dir.string()));
  return Schemas(std::move(index));
}

std::vector<std::string> Schemas::Validate(const json::value& value) const {
  Walker walker(*index_);
  const json::object* object = value.if_object();
  if (!object) {
    return {"(object): expected a Kubernetes object (a JSON object)"};
  }
  const json::value* api_version = object->if_contains("apiVersion");
  const json::value* kind = object->if_contains("kind");
  for (auto [field, v] : {std::pair{"apiVersion", api_version}, std::pair{"kind", kind}}) {
    if (!v || v->is_null() || (v->is_string() && v->get_string().empty())) {
      walker.AddAt(field, "required field is missing");
    } else if (!v->is_string()) {
      walker.AddAt(field, "expected string");
    }
  }
  std::vector<std::string> problems = walker.Take();
  if (!problems.empty()) return problems;

  std::string_view av = api_version->get_string();
  std::string_view k = kind->get_string();
  auto it = index_->by_gvk.find(GvkKeyOf(av, k));
  if (it == index_->by_gvk.end()) {
    return {"kind: unknown apiVersion/kind " + std::string(av) + " " + std::string(k)};
  }
  walker.Check(value, it->second, 0);
  return walker.Take();
}

bool Schemas::Knows(std::string_view api_version, std::string_view kind) const {
  return index_->by_gvk.contains(GvkKeyOf(api_version, kind));
}

bool IsQuantity(std::string_view s) {
  std::size_t i = 0;
  auto digits = [&] {
    std::size_t start = i;
    while (i < s.size() && Digit(s[i])) ++i;
    return i - start;
  };
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
  std::size_t whole = digits();
  std::size_t frac = 0;
  if (i < s.size() && s[i] == '.') {
    ++i;
    frac = digits();
  }
  if (whole == 0 && frac == 0) return false;
  std::string_view suffix = s.substr(i);
  if (suffix.empty()) return true;
  if (suffix.size() == 2 && suffix[1] == 'i' && std::string_view("KMGTPE").find(suffix[0]) != std::string_view::npos) {
    return true;
  }
  if (suffix.size() == 1 && std::string_view("numkMGTPE").find(suffix[0]) != std::string_view::npos) return true;
  if (suffix[0] == 'e' || suffix[0] == 'E') {
    // Go's ParseQuantity reads the exponent as an integer.
    std::size_t j = 1;
    if (j < suffix.size() && (suffix[j] == '+' || suffix[j] == '-')) ++j;
    if (j == suffix.size() || suffix.size() - j > 9) return false;
    for (; j < suffix.size(); ++j) {
      if (!Digit(suffix[j])) return false;
    }
    return true;
  }
  return false;
}

bool IsDateTime(std::string_view s) {
  // 2006-01-02T15:04:05[.frac](Z|±hh:mm)
  auto num = [&](std::size_t pos, std::size_t len, int& out) {
    if (pos + len > s.size()) return false;
    out = 0;
    for (std::size_t i = pos; i < pos + len; ++i) {
      if (!Digit(s[i])) return false;
      out = out * 10 + (s[i] - '0');
    }
    return true;
  };
  int year, month, day, hour, minute, second;
  if (s.size() < 20 || !num(0, 4, year) || s[4] != '-' || !num(5, 2, month) || s[7] != '-' || !num(8, 2, day) ||
      s[10] != 'T' || !num(11, 2, hour) || s[13] != ':' || !num(14, 2, minute) || s[16] != ':' ||
      !num(17, 2, second)) {
    return false;
  }
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month < 1 || month > 12) return false;
  bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  int days = kDays[month - 1] + (month == 2 && leap ? 1 : 0);
  if (day < 1 || day > days || hour > 23 || minute > 59 || second > 59) return false;
  std::size_t i = 19;
  if (i < s.size() && s[i] == '.') {
    std::size_t start = ++i;
    while (i < s.size() && Digit(s[i])) ++i;
    if (i == start) return false;
  }
  if (i < s.size() && s[i] == 'Z') return i + 1 == s.size();
  int oh, om;
  return i + 6 == s.size() && (s[i] == '+' || s[i] == '-') && num(i + 1, 2, oh) && s[i + 3] == ':' &&
         num(i + 4, 2, om) && oh <= 23 && om <= 59;
}

const Schemas& RepositorySchemas() {
  static const Schemas schemas = [] {
    auto loaded = Schemas::Load(PADDLECLOUD_K8S_API_DIR);
    if (!loaded) throw std::runtime_error(loaded.error().message());
    return std::move(*loaded);
  }();
  return schemas;
}

}  // namespace paddlecloud::kube_schema
