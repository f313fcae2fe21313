#include "server/platform.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <set>

#include "testing/server_process.h"
#include "testing/test_database.h"

namespace paddlecloud::server {
namespace {

namespace json = boost::json;

config::ServerConfig ConfigFor(const std::string& dir) {
  config::ServerConfig c;
  c.data_dir = dir;
  c.database_url = testing::ServerDatabaseUrl(dir);
  c.blocking_threads = 2;
  return c;
}

TEST(PlatformTest, OpenApiDocumentDescribesExactlyTheRouter) {
  testing::TempDir dir;
  auto platform = Platform::Create(ConfigFor(dir.path() + "/data"));
  ASSERT_TRUE(platform) << platform.error().ToString();

  json::value doc = json::parse(ops::OpenApiDocument());
  std::map<std::string, std::string> documented;  // "GET /healthz" -> summary
  for (const auto& [path, item] : doc.at("paths").as_object())
    for (const auto& [method, op] : item.as_object()) {
      std::string upper(method);
      for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      documented[upper + " " + std::string(path)] = std::string(op.at("summary").as_string());
    }

  std::map<std::string, std::string> routed;
  for (const auto& route : (*platform)->router().routes()) {
    std::string path = route.pattern;
    if (auto rest = path.find("...}"); rest != std::string::npos) path.erase(rest, 3);  // {p...} -> {p}
    routed[route.method + " " + path] = route.summary;
  }
  EXPECT_EQ(documented, routed) << "src/ops/openapi.json and the router disagree";
}

TEST(PlatformTest, MigrationsHaveIncreasingVersions) {
  auto migrations = PlatformMigrations();
  ASSERT_FALSE(migrations.empty());
  for (std::size_t i = 1; i < migrations.size(); ++i) EXPECT_GT(migrations[i].version, migrations[i - 1].version);
}

TEST(PlatformTest, SecondPlatformOnTheSameDataDirIsRefused) {
  if (testing::TestsUsePostgres()) GTEST_SKIP() << "on PostgreSQL a second server stands by (ReplicasTest)";
  testing::TempDir dir;
  auto first = Platform::Create(ConfigFor(dir.path()));
  ASSERT_TRUE(first) << first.error().ToString();
  auto second = Platform::Create(ConfigFor(dir.path()));
  ASSERT_FALSE(second);
  EXPECT_NE(second.error().message().find("in use by another paddlecloud server (pid " + std::to_string(::getpid())),
            std::string::npos)
      << second.error().message();
}

TEST(PlatformTest, NewerSchemaThanKnownRefusesToStart) {
  testing::TempDir dir;
  { ASSERT_TRUE(Platform::Create(ConfigFor(dir.path()))); }
  {
    auto db = OpenPlatformDatabase(dir.path(), testing::ServerDatabaseUrl(dir.path()), 1);
    ASSERT_TRUE(db);
    ASSERT_TRUE((*db)->Execute("INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, 'future', 'x')"));
  }
  auto again = Platform::Create(ConfigFor(dir.path()));
  ASSERT_FALSE(again);
  EXPECT_NE(again.error().message().find("999"), std::string::npos) << again.error().message();
  EXPECT_NE(again.error().message().find("newer"), std::string::npos) << again.error().message();
}

TEST(PlatformTest, WebDirWithoutIndexIsRejected) {
  testing::TempDir dir;
  auto c = ConfigFor(dir.path() + "/data");
  c.web_dir = dir.path();
  auto platform = Platform::Create(c);
  ASSERT_FALSE(platform);
  EXPECT_EQ(platform.error().field(), "web_dir");
}

}  // namespace
}  // namespace paddlecloud::server
