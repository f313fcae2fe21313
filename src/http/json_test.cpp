#include "http/json.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

namespace paddlecloud::http {
namespace {

namespace json = boost::json;

TEST(JsonTest, ParseErrorsAreClear) {
  EXPECT_NE(ParseJsonObject("").error().message().find("empty"), std::string::npos);
  EXPECT_NE(ParseJsonObject("{\"a\":").error().message().find("not valid JSON"), std::string::npos);
  EXPECT_NE(ParseJsonObject("[1,2]").error().message().find("JSON object"), std::string::npos);
  EXPECT_TRUE(ParseJsonObject("{\"a\":1}"));
}

TEST(JsonTest, ReaderNamesTheFieldOnWrongTypeMissingAndUnknown) {
  auto obj = *ParseJsonObject(R"({"name":"x","num_trainer":"two","extra":1})");
  JsonReader r(obj);
  EXPECT_EQ(*r.String("name"), "x");
  auto n = r.Int("num_trainer");
  ASSERT_FALSE(n);
  EXPECT_EQ(n.error().field(), "num_trainer");
  EXPECT_EQ(n.error().message(), "field 'num_trainer' must be an integer");
  auto missing = r.Int("num_ps");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().message(), "field 'num_ps' is required");
  Status unknown = r.Finish();
  EXPECT_EQ(unknown.field(), "extra");
}

TEST(JsonTest, IntegersAcceptWholeDoublesOnly) {
  auto obj = *ParseJsonObject(R"({"a":2.0,"b":2.5,"c":true})");
  JsonReader r(obj);
  EXPECT_EQ(*r.Int("a"), 2);
  EXPECT_FALSE(r.Int("b"));
  EXPECT_FALSE(r.Int("c"));
  EXPECT_TRUE(r.Finish().ok());
}

TEST(JsonTest, ErrorResponseFormat) {
  Response r = ErrorResponse(Status::InvalidArgument("must be positive", "num_ps"));
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.headers.Get("Content-Type").value(), "application/json");
  auto v = json::parse(r.body);
  EXPECT_EQ(v.at("error").at("code").as_string(), "invalid_argument");
  EXPECT_EQ(v.at("error").at("message").as_string(), "must be positive");
  EXPECT_EQ(v.at("error").at("details").at("field").as_string(), "num_ps");
}

TEST(JsonTest, InternalErrorsHideTheirMessage) {
  Response r = ErrorResponse(Status::Internal("sqlite: disk I/O error at /secret/path"));
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(r.body.find("secret"), std::string::npos);
}

}  // namespace
}  // namespace paddlecloud::http
