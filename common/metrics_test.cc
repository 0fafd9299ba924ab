#include "common/metrics.h"

#include <gtest/gtest.h>

#include <cmath>

#include "common/process_metrics.h"

namespace channelstream::common {
namespace {

TEST(MetricsTest, CountersAndGaugesRenderWithHelpAndType) {
  MetricsRegistry registry;
  registry.GetCounter("x_publications_total", "Messages published.")->Add(3);
  registry.GetGauge("x_users", "Users known.")->Set(7);
  EXPECT_EQ(registry.Render(),
            "# HELP x_publications_total Messages published.\n"
            "# TYPE x_publications_total counter\n"
            "x_publications_total 3\n"
            "# HELP x_users Users known.\n"
            "# TYPE x_users gauge\n"
            "x_users 7\n");
}

TEST(MetricsTest, LabelledSamplesShareOneHeaderAndEscapeValues) {
  MetricsRegistry registry;
  registry.GetCounter("req_total", "Requests.", {{"endpoint", "/a"}, {"status", "200"}})->Add();
  registry.GetCounter("req_total", "Requests.", {{"endpoint", "/a"}, {"status", "200"}})->Add();
  registry.GetCounter("req_total", "Requests.", {{"endpoint", "q\"\\\n"}, {"status", "404"}})
      ->Add();
  EXPECT_EQ(registry.Render(),
            "# HELP req_total Requests.\n"
            "# TYPE req_total counter\n"
            "req_total{endpoint=\"/a\",status=\"200\"} 2\n"
            "req_total{endpoint=\"q\\\"\\\\\\n\",status=\"404\"} 1\n");
}

TEST(MetricsTest, HistogramBucketsAreCumulativeWithInfSumAndCount) {
  MetricsRegistry registry;
  Histogram* histogram =
      registry.GetHistogram("lat_seconds", "Latency.", {1, 0.25}, {{"endpoint", "/x"}});
  histogram->Observe(0.125);
  histogram->Observe(0.25);  // le is inclusive
  histogram->Observe(0.5);
  histogram->Observe(4);
  histogram->Observe(std::nan(""));  // ignored
  EXPECT_EQ(registry.Render(),
            "# HELP lat_seconds Latency.\n"
            "# TYPE lat_seconds histogram\n"
            "lat_seconds_bucket{endpoint=\"/x\",le=\"0.25\"} 2\n"
            "lat_seconds_bucket{endpoint=\"/x\",le=\"1\"} 3\n"
            "lat_seconds_bucket{endpoint=\"/x\",le=\"+Inf\"} 4\n"
            "lat_seconds_sum{endpoint=\"/x\"} 4.875\n"
            "lat_seconds_count{endpoint=\"/x\"} 4\n");
}

TEST(MetricsTest, CallbacksAreSummedByLabelsAndRemovable) {
  MetricsRegistry registry;
  int a = registry.AddCallback("conns", "Open connections.", MetricType::kGauge,
                               {{"transport", "websocket"}}, [] { return 2.0; });
  {
    CallbackHandle b(&registry,
                     registry.AddCallback("conns", "Open connections.", MetricType::kGauge,
                                          {{"transport", "websocket"}}, [] { return 3.0; }));
    EXPECT_NE(registry.Render().find("conns{transport=\"websocket\"} 5\n"), std::string::npos);
  }
  EXPECT_NE(registry.Render().find("conns{transport=\"websocket\"} 2\n"), std::string::npos);
  registry.RemoveCallback(a);
  EXPECT_EQ(registry.Render(), "");  // no samples: no HELP/TYPE either
}

TEST(MetricsTest, TypeClashesNeverCrashOrCorruptTheOutput) {
  MetricsRegistry registry;
  registry.GetCounter("thing", "A counter.")->Add();
  registry.GetGauge("thing", "Now a gauge?")->Set(5);  // detached
  EXPECT_EQ(registry.AddCallback("thing", "h", MetricType::kHistogram, {}, [] { return 1.0; }), 0);
  EXPECT_EQ(registry.Render(), "# HELP thing A counter.\n# TYPE thing counter\nthing 1\n");
}

TEST(MetricsTest, ValuesFormatAsTheExpositionFormatWants) {
  EXPECT_EQ(FormatMetricValue(12), "12");
  EXPECT_EQ(FormatMetricValue(0.5), "0.5");
  EXPECT_EQ(FormatMetricValue(0.1), "0.1");
  EXPECT_EQ(FormatMetricValue(0.1 + 0.2), "0.30000000000000004");
  EXPECT_EQ(FormatMetricValue(INFINITY), "+Inf");
  EXPECT_EQ(FormatMetricValue(-INFINITY), "-Inf");
  EXPECT_EQ(FormatMetricValue(std::nan("")), "NaN");
  EXPECT_EQ(RenderLabels({}), "");
}

TEST(MetricsTest, ProcessMetricsReadProc) {
  EXPECT_GT(ProcessResidentBytes(), 0);
  EXPECT_GE(ProcessCpuSeconds(), 0);
  EXPECT_GT(ProcessOpenFds(), 2);  // stdin, stdout, stderr at least
  MetricsRegistry registry;
  RegisterProcessMetrics(registry);
  const std::string text = registry.Render();
  EXPECT_NE(text.find("# TYPE process_cpu_seconds_total counter\n"), std::string::npos);
  EXPECT_NE(text.find("# TYPE process_resident_memory_bytes gauge\n"), std::string::npos);
  EXPECT_NE(text.find("# TYPE process_open_fds gauge\n"), std::string::npos);
}

}  // namespace
}  // namespace channelstream::common
