#include "metrics/metrics.h"

#include <gtest/gtest.h>

namespace paddlecloud::metrics {
namespace {

TEST(MetricsTest, CountersRenderWithHelpTypeAndLabels) {
  Registry r;
  r.GetCounter("http_requests_total", "Requests.", {{"route", "/healthz"}, {"status", "200"}}).Increment();
  r.GetCounter("http_requests_total", "Requests.", {{"route", "/healthz"}, {"status", "200"}}).Increment(2);
  std::string text = r.Render();
  EXPECT_NE(text.find("# HELP http_requests_total Requests.\n# TYPE http_requests_total counter\n"), std::string::npos);
  EXPECT_NE(text.find("http_requests_total{route=\"/healthz\",status=\"200\"} 3\n"), std::string::npos) << text;
}

TEST(MetricsTest, HistogramBucketsAreCumulative) {
  Registry r;
  auto& h = r.GetHistogram("latency_seconds", "Latency.", {{"route", "/x"}}, {0.1, 1});
  h.Observe(0.05);
  h.Observe(0.5);
  h.Observe(5);
  std::string text = r.Render();
  EXPECT_NE(text.find("latency_seconds_bucket{route=\"/x\",le=\"0.1\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("latency_seconds_bucket{route=\"/x\",le=\"1\"} 2\n"), std::string::npos);
  EXPECT_NE(text.find("latency_seconds_bucket{route=\"/x\",le=\"+Inf\"} 3\n"), std::string::npos);
  EXPECT_NE(text.find("latency_seconds_count{route=\"/x\"} 3\n"), std::string::npos);
  EXPECT_NE(text.find("latency_seconds_sum{route=\"/x\"} 5.55\n"), std::string::npos);
}

TEST(MetricsTest, LabelValuesAreEscaped) {
  EXPECT_EQ(EscapeLabelValue("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
}

TEST(MetricsTest, ProcessCollectorReportsRss) {
  Registry r;
  RegisterProcessCollector(r);
  std::string text = r.Render();
  const std::string sample = "\nprocess_resident_memory_bytes ";
  auto pos = text.find(sample);
  ASSERT_NE(pos, std::string::npos) << text;
  double rss = std::stod(text.substr(pos + sample.size()));
  EXPECT_GT(rss, 1024 * 1024);
  EXPECT_NE(text.find("\nprocess_cpu_seconds_total "), std::string::npos);
  EXPECT_NE(text.find("\nprocess_open_fds "), std::string::npos);
}

}  // namespace
}  // namespace paddlecloud::metrics
