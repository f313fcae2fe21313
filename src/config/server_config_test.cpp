#include "config/server_config.h"

#include <gtest/gtest.h>

#include <algorithm>

#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace paddlecloud::config {
namespace {

TEST(ServerConfigTest, DefaultsWhenNothingIsGiven) {
  auto c = ResolveServerConfig({}, {});
  ASSERT_TRUE(c) << c.error().ToString();
  EXPECT_EQ(c->data_dir, "./paddlecloud-data");
  EXPECT_EQ(c->listen, "127.0.0.1:8080");
  EXPECT_FALSE(c->tls_enabled());
  EXPECT_EQ(c->max_body_bytes, 1u << 20);
}

TEST(ServerConfigTest, FlagsBeatEnvironmentBeatsFileBeatsDefaults) {
  auto dir = std::filesystem::temp_directory_path() / ("pc-config-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  auto file = dir / "paddlecloud.conf";
  std::ofstream(file) << "# comment\n"
                         "listen = \"127.0.0.1:9000\"\n"
                         "data_dir = /from/file\n"
                         "log_level = debug\n"
                         "idle_timeout = 5m\n";
  std::map<std::string, std::string> env = {{"PADDLECLOUD_CONFIG", file.string()},
                                            {"PADDLECLOUD_DATA_DIR", "/from/env"},
                                            {"PADDLECLOUD_LISTEN", "127.0.0.1:9001"},
                                            {"UNRELATED", "x"}};
  auto c = ResolveServerConfig({{"listen", "127.0.0.1:0"}}, env);
  std::filesystem::remove_all(dir);
  ASSERT_TRUE(c) << c.error().ToString();
  EXPECT_EQ(c->listen, "127.0.0.1:0");          // flag
  EXPECT_EQ(c->data_dir, "/from/env");          // env over file
  EXPECT_EQ(c->log_level, "debug");             // file over default
  EXPECT_EQ(c->idle_timeout, std::chrono::minutes(5));
}

TEST(ServerConfigTest, BadValuesNameTheSettingAndLayer) {
  auto c = ResolveServerConfig({{"listen", "nowhere"}}, {});
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().field(), "listen");
  EXPECT_NE(c.error().message().find("--listen (command line)"), std::string::npos) << c.error().message();

  c = ResolveServerConfig({}, {{"PADDLECLOUD_MAX_BODY_BYTES", "lots"}});
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().message().find("PADDLECLOUD_MAX_BODY_BYTES (environment)"), std::string::npos);

  c = ResolveServerConfig({{"config", "/no/such/file.conf"}}, {});
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().field(), "config");

  c = ResolveServerConfig({{"tls_cert", "/a.pem"}}, {});
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().field(), "tls_key");
}

TEST(ServerConfigTest, ParseConfigTextReportsLine) {
  auto v = ParseConfigText("a = 1\nbroken line\n");
  ASSERT_FALSE(v);
  EXPECT_NE(v.error().message().find("line 2"), std::string::npos);
}

TEST(ServerConfigTest, DurationsAndSizesFollowTheOneGrammar) {  // common/units.h
  auto c = ResolveServerConfig({{"upload_ttl", "2d"}, {"max_body_bytes", "64MiB"}, {"storage_quota", "2G"}}, {});
  ASSERT_TRUE(c) << c.error().ToString();
  EXPECT_EQ(c->upload_ttl, std::chrono::hours(48));
  EXPECT_EQ(c->max_body_bytes, 64u << 20);
  EXPECT_EQ(c->storage_quota, 2'000'000'000u);
  for (auto [key, value] : {std::pair{"upload_ttl", "ten seconds"}, {"upload_ttl", "0s"}, {"max_body_bytes", "-1"},
                            {"storage_quota", "99999999999999999999"}}) {
    auto bad = ResolveServerConfig({{key, value}}, {});
    ASSERT_FALSE(bad) << key << " = " << value;
    std::string flag = "--" + std::string(key);
    std::replace(flag.begin(), flag.end(), '_', '-');
    EXPECT_NE(bad.error().message().find(flag), std::string::npos) << bad.error().message();
  }
}

TEST(ServerConfigTest, EverySettingListedIsApplied) {
  for (const auto& setting : ServerSettings()) {
    auto c = ResolveServerConfig({{setting.key, "?"}}, {});
    if (!c) {
      EXPECT_EQ(c.error().message().find("unknown setting"), std::string::npos) << setting.key;
    }
  }
}

TEST(ServerConfigTest, EverySettingHasFlagEnvAndHelp) {
  for (const auto& s : ServerSettings()) {
    EXPECT_EQ(s.flag.rfind("--", 0), 0u) << s.key;
    EXPECT_EQ(s.env.rfind("PADDLECLOUD_", 0), 0u) << s.key;
    EXPECT_FALSE(s.help.empty()) << s.key;
  }
}

TEST(ServerConfigTest, HttpHardeningSettingsParseWithDefaults) {
  auto d = ResolveServerConfig({}, {});
  ASSERT_TRUE(d);
  EXPECT_EQ(d->max_connections, 10000);
  EXPECT_EQ(d->max_connections_per_client, 256);
  EXPECT_EQ(d->min_body_rate, 1024u);
  EXPECT_EQ(d->min_body_rate_window, std::chrono::seconds(10));
  EXPECT_TRUE(d->allowed_hosts.empty());
  EXPECT_TRUE(d->trusted_proxies.empty());
  EXPECT_EQ(d->metrics_access, "public");

  auto c = ResolveServerConfig({{"max_connections", "500"},
                                {"max_connections_per_client", "0"},
                                {"min_body_rate", "4KiB"},
                                {"min_body_rate_window", "30s"},
                                {"allowed_hosts", "cloud.example.com, localhost:8080,,"},
                                {"trusted_proxies", "10.0.0.0/8,::1"},
                                {"metrics_access", "token"},
                                {"metrics_token", "0123456789abcdef"}},
                               {});
  ASSERT_TRUE(c) << c.error().ToString();
  EXPECT_EQ(c->max_connections, 500);
  EXPECT_EQ(c->max_connections_per_client, 0);
  EXPECT_EQ(c->min_body_rate, 4096u);
  EXPECT_EQ(c->min_body_rate_window, std::chrono::seconds(30));
  EXPECT_EQ(c->allowed_hosts, (std::vector<std::string>{"cloud.example.com", "localhost:8080"}));
  EXPECT_EQ(c->trusted_proxies, (std::vector<std::string>{"10.0.0.0/8", "::1"}));
  EXPECT_EQ(c->metrics_token, "0123456789abcdef");
}

TEST(ServerConfigTest, BadHttpHardeningSettingsAreRefusedWithoutShowingTheToken) {
  auto c = ResolveServerConfig({{"metrics_access", "friends"}}, {});
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().field(), "metrics_access");
  c = ResolveServerConfig({{"metrics_access", "token"}, {"metrics_token", "short-secret"}}, {});
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().field(), "metrics_token");
  EXPECT_EQ(c.error().message().find("short-secret"), std::string::npos);
  c = ResolveServerConfig({{"max_connections", "0"}}, {});
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().field(), "max_connections");
  c = ResolveServerConfig({}, {{"PADDLECLOUD_MIN_BODY_RATE_WINDOW", "0s"}});
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().field(), "min_body_rate_window");
}

}  // namespace
}  // namespace paddlecloud::config

namespace paddlecloud::config {
namespace {

TEST(ServerConfigTest, JobQuotaDefaultsReadUnitsAndEmptyOrZeroIsNone) {
  auto none = ResolveServerConfig({}, {});
  ASSERT_TRUE(none);
  EXPECT_EQ(none->quota_cpu_milli, 0);
  EXPECT_EQ(none->quota_running_jobs, 0);
  auto c = ResolveServerConfig({{"quota_cpu", "1.5"}, {"quota_memory", "256Gi"}, {"quota_gpus", "0"}},
                               {{"PADDLECLOUD_QUOTA_RUNNING_JOBS", "10"}});
  ASSERT_TRUE(c) << c.error().ToString();
  EXPECT_EQ(c->quota_cpu_milli, 1500);
  EXPECT_EQ(c->quota_memory_bytes, 256LL << 30);
  EXPECT_EQ(c->quota_gpus, 0);
  EXPECT_EQ(c->quota_running_jobs, 10);
  EXPECT_EQ(ResolveServerConfig({{"quota_cpu", ""}}, {})->quota_cpu_milli, 0);
  auto bad = ResolveServerConfig({{"quota_gpus", "-1"}}, {});
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().field(), "quota_gpus");
  EXPECT_NE(bad.error().message().find("--quota-gpus"), std::string::npos) << bad.error().message();
  EXPECT_FALSE(ResolveServerConfig({{"quota_memory", "lots"}}, {}));
}

}  // namespace
}  // namespace paddlecloud::config
