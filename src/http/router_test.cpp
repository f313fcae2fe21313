#include "http/router.h"

#include <gtest/gtest.h>

namespace paddlecloud::http {
namespace {

Handler Named(int* hit, int id) {
  return [hit, id](Request&) -> boost::asio::awaitable<Response> {
    *hit = id;
    co_return Response::Text(200, "");
  };
}

TEST(RouterTest, MatchesLiteralsAndParams) {
  Router r;
  int hit = 0;
  r.Add("GET", "/api/v1/jobs", "test", Named(&hit, 1));
  r.Add("GET", "/api/v1/jobs/{job}", "test", Named(&hit, 2));
  r.Add("GET", "/api/v1/jobs/{job}/pods/{pod}/logs", "test", Named(&hit, 3));
  auto m = r.Match("GET", "/api/v1/jobs/fit-a-line/pods/trainer-0/logs");
  ASSERT_EQ(m.outcome, Router::Outcome::kFound);
  EXPECT_EQ(m.route->pattern, "/api/v1/jobs/{job}/pods/{pod}/logs");
  EXPECT_EQ(m.params.at("job"), "fit-a-line");
  EXPECT_EQ(m.params.at("pod"), "trainer-0");
  EXPECT_EQ(r.Match("GET", "/api/v1/jobs").route->pattern, "/api/v1/jobs");
  EXPECT_EQ(r.Match("GET", "/api/v1/jobs/").outcome, Router::Outcome::kNotFound);  // empty {job}
  EXPECT_EQ(r.Match("GET", "/api/v1/jobsx").outcome, Router::Outcome::kNotFound);
}

TEST(RouterTest, LiteralBeatsParamBeatsRestRegardlessOfOrder) {
  Router r;
  int hit = 0;
  r.Add("GET", "/files/{path...}", "test", Named(&hit, 1));
  r.Add("GET", "/files/{name}", "test", Named(&hit, 2));
  r.Add("GET", "/files/shared", "test", Named(&hit, 3));
  EXPECT_EQ(r.Match("GET", "/files/shared").route->pattern, "/files/shared");
  EXPECT_EQ(r.Match("GET", "/files/a.csv").route->pattern, "/files/{name}");
  auto deep = r.Match("GET", "/files/a/b/c.csv");
  EXPECT_EQ(deep.route->pattern, "/files/{path...}");
  EXPECT_EQ(deep.params.at("path"), "a/b/c.csv");
}

TEST(RouterTest, WrongMethodListsAllowedMethods) {
  Router r;
  int hit = 0;
  r.Add("GET", "/api/v1/jobs", "test", Named(&hit, 1));
  r.Add("POST", "/api/v1/jobs", "test", Named(&hit, 2));
  auto m = r.Match("DELETE", "/api/v1/jobs");
  EXPECT_EQ(m.outcome, Router::Outcome::kMethodNotAllowed);
  EXPECT_EQ(m.allow, "GET, HEAD, POST");
  EXPECT_EQ(r.Match("HEAD", "/api/v1/jobs").route->method, "GET");
}

TEST(RouterTest, FallbackTakesUnmatchedGetsOnly) {
  Router r;
  int hit = 0;
  r.Add("POST", "/api/v1/login", "test", Named(&hit, 1));
  r.SetFallback(Named(&hit, 9));
  auto m = r.Match("GET", "/jobs/fit-a-line");
  EXPECT_EQ(m.outcome, Router::Outcome::kFound);
  EXPECT_EQ(m.route, nullptr);
  EXPECT_NE(m.handler, nullptr);
  EXPECT_EQ(r.Match("POST", "/jobs").outcome, Router::Outcome::kNotFound);
  EXPECT_EQ(r.Match("GET", "/api/v1/login").outcome, Router::Outcome::kMethodNotAllowed);
}

}  // namespace
}  // namespace paddlecloud::http
