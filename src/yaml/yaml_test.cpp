#include "yaml/yaml.h"

#include <string>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace paddlecloud::yaml {
namespace {

namespace json = boost::json;
using ::testing::HasSubstr;

json::value One(std::string_view text) {
  auto docs = ParseYamlDocuments(text);
  EXPECT_TRUE(docs.has_value()) << (docs ? "" : docs.error().ToString());
  if (!docs) return nullptr;
  EXPECT_EQ(docs->size(), 1u);
  return docs->empty() ? json::value() : (*docs)[0];
}

std::string ErrorOf(std::string_view text) {
  auto docs = ParseYamlDocuments(text);
  EXPECT_FALSE(docs.has_value()) << "parsed: " << text;
  return docs ? "" : docs.error().message();
}

TEST(Yaml, Kubeconfig) {
  json::value v = One(R"(apiVersion: v1
kind: Config
clusters:
- name: test
  cluster:
    server: https://127.0.0.1:6443
    certificate-authority-data: LS0tLS1CRUdJTg==
    insecure-skip-tls-verify: false
contexts:
- name: test
  context: {cluster: test, user: admin, namespace: default}
current-context: test
preferences: {}
users:
- name: admin
  user:
    token: abc.def
)");
  EXPECT_EQ(json::serialize(v),
            R"({"apiVersion":"v1","kind":"Config","clusters":[{"name":"test","cluster":{"server":"https://127.0.0.1:6443",)"
            R"("certificate-authority-data":"LS0tLS1CRUdJTg==","insecure-skip-tls-verify":false}}],)"
            R"("contexts":[{"name":"test","context":{"cluster":"test","user":"admin","namespace":"default"}}],)"
            R"("current-context":"test","preferences":{},"users":[{"name":"admin","user":{"token":"abc.def"}}]})");
}

TEST(Yaml, Scalars) {
  json::value v = One(R"(
a: null
b: ~
c:
d: true
e: False
f: 42
g: -7
h: 1.5
i: 1e3
j: 0x1F
k: 0o17
l: "true"
m: '42'
n: hello world
o: 18446744073709551615
p: 1.2.3
q: yes
r: [1, "2", three, null]
s: .5
t: 500m
u: !!str 12
v: !!int "12"
w: 2024-01-02T03:04:05Z
x: 0644
y: 09
z: -0
)");
  const json::object& o = v.as_object();
  EXPECT_TRUE(o.at("a").is_null());
  EXPECT_TRUE(o.at("b").is_null());
  EXPECT_TRUE(o.at("c").is_null());
  EXPECT_EQ(o.at("d"), json::value(true));
  EXPECT_EQ(o.at("e"), json::value(false));
  EXPECT_EQ(o.at("f").as_int64(), 42);
  EXPECT_EQ(o.at("g").as_int64(), -7);
  EXPECT_DOUBLE_EQ(o.at("h").as_double(), 1.5);
  EXPECT_DOUBLE_EQ(o.at("i").as_double(), 1000);
  EXPECT_EQ(o.at("j").as_int64(), 31);
  EXPECT_EQ(o.at("k").as_int64(), 15);
  EXPECT_EQ(o.at("l").as_string(), "true");
  EXPECT_EQ(o.at("m").as_string(), "42");
  EXPECT_EQ(o.at("n").as_string(), "hello world");
  EXPECT_EQ(o.at("o").as_uint64(), 18446744073709551615ull);
  EXPECT_EQ(o.at("p").as_string(), "1.2.3");
  EXPECT_EQ(o.at("q").as_string(), "yes");
  EXPECT_EQ(json::serialize(o.at("r")), R"([1,"2","three",null])");
  EXPECT_DOUBLE_EQ(o.at("s").as_double(), 0.5);
  EXPECT_EQ(o.at("t").as_string(), "500m");
  EXPECT_EQ(o.at("u").as_string(), "12");
  EXPECT_EQ(o.at("v").as_int64(), 12);
  EXPECT_EQ(o.at("w").as_string(), "2024-01-02T03:04:05Z");
  EXPECT_EQ(o.at("x").as_int64(), 0644);
  EXPECT_EQ(o.at("y").as_int64(), 9);
  EXPECT_EQ(o.at("z").as_int64(), 0);
}

TEST(Yaml, BlockScalars) {
  json::value v = One(R"(literal: |
  line one
    indented
  line three
folded: >
  folded
  text

  new paragraph
stripped: |-
  no newline
kept: |+
  two

other: x
)");
  const json::object& o = v.as_object();
  EXPECT_EQ(o.at("literal").as_string(), "line one\n  indented\nline three\n");
  EXPECT_EQ(o.at("folded").as_string(), "folded text\nnew paragraph\n");
  EXPECT_EQ(o.at("stripped").as_string(), "no newline");
  EXPECT_EQ(o.at("kept").as_string(), "two\n\n");
  EXPECT_EQ(o.at("other").as_string(), "x");
}

TEST(Yaml, MultipleDocumentsSkipEmptyOnes) {
  auto docs = ParseYamlDocuments("---\na: 1\n---\n---\n# only a comment\n---\n~\n---\n- x\n...\n---\nb: 2\n");
  ASSERT_TRUE(docs.has_value()) << docs.error().ToString();
  ASSERT_EQ(docs->size(), 3u);
  EXPECT_EQ(json::serialize((*docs)[0]), R"({"a":1})");
  EXPECT_EQ(json::serialize((*docs)[1]), R"(["x"])");
  EXPECT_EQ(json::serialize((*docs)[2]), R"({"b":2})");

  auto none = ParseYamlDocuments("");
  ASSERT_TRUE(none.has_value());
  EXPECT_TRUE(none->empty());
}

TEST(Yaml, JsonIsYaml) {
  json::value v = One(R"({"a": [1, 2.5, "x", true, null], "b": {"c": "d"}})");
  EXPECT_EQ(v, json::parse(R"({"a":[1,2.5,"x",true,null],"b":{"c":"d"}})"));
}

TEST(Yaml, ErrorsNameLineAndColumn) {
  EXPECT_THAT(ErrorOf("a: 1\nb: [1, 2\n"), HasSubstr("line "));
  EXPECT_THAT(ErrorOf("a: 1\n  b: 2\n"), HasSubstr("line 2, column"));
  EXPECT_THAT(ErrorOf("a: 1\nb: \"unterminated\n"), HasSubstr("line "));
  EXPECT_THAT(ErrorOf("x: 1\ny: 2\nx: 3\n"), HasSubstr("line 3, column 1: duplicate key \"x\""));
  EXPECT_THAT(ErrorOf("a: &anchor 1\nb: *anchor\n"), HasSubstr("anchors and aliases"));
  EXPECT_THAT(ErrorOf("a: *nothing\n"), HasSubstr("line 1"));
  EXPECT_THAT(ErrorOf("? [a, b]\n: c\n"), HasSubstr("mapping keys must be scalars"));
  EXPECT_THAT(ErrorOf("a: !custom x\n"), HasSubstr("unsupported tag"));
  EXPECT_THAT(ErrorOf("a: !!int twelve\n"), HasSubstr("not a valid"));
  EXPECT_THAT(ErrorOf("a: \"\xff\xfe\"\n"), HasSubstr("line 1"));
}

TEST(Yaml, HostileInputIsCapped) {
  std::string deep_flow(1000, '[');
  EXPECT_THAT(ErrorOf(deep_flow), HasSubstr("nesting deeper than 200"));

  std::string deep_block;
  for (int i = 0; i < 300; ++i) deep_block += std::string(i * 2, ' ') + "k:\n";
  deep_block += std::string(600, ' ') + "k: v\n";
  EXPECT_THAT(ErrorOf(deep_block), HasSubstr("nesting deeper than 200"));

  std::string just_deep_enough(kMaxYamlDepth, '[');
  just_deep_enough += std::string(kMaxYamlDepth, ']');
  EXPECT_TRUE(ParseYamlDocuments(just_deep_enough).has_value());

  std::string huge(kMaxYamlBytes + 1, ' ');
  EXPECT_THAT(ErrorOf(huge), HasSubstr("larger than 64 MiB"));
}

}  // namespace
}  // namespace paddlecloud::yaml
