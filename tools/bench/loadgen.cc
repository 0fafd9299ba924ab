// Channelstream load generator: opens subscribers (WebSocket or long poll) on Channelstream,
// uWebSockets.js or Nchan, publishes ~100-byte JSON messages at a fixed rate, and reports
// deliveries/s, loss, latency (from the send time embedded in each payload), the server
// processes' CPU per delivery and RSS per connection, and its own CPU use (so it is seen not to
// be the bottleneck). One JSON line on stdout; a readable summary on stderr.
//
//   loadgen --target channelstream|uws|nchan --port P [--ws_ports P1,P2] --subscribers N
//           --channels C --rate DELIVERIES_PER_S --seconds S --pids PID,PID
//           [--scenario fanout|idle|storm] [--transport ws|longpoll] [--batch B] ...
#include <sys/resource.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "common/signing.h"
#include "tools/bench/bench_client.h"
#include "tools/bench/event_loop.h"
#include "tools/bench/process_stats.h"

namespace channelstream::bench {
namespace {

struct Options {
  std::string target = "channelstream";  // channelstream | uws | nchan
  std::string scenario = "fanout";       // fanout | idle | storm
  std::string transport = "ws";          // ws | longpoll (channelstream only)
  std::string host = "127.0.0.1";
  int port = 8000;            // REST / publish port
  std::vector<int> ws_ports;  // subscriber ports (several gateways); default: port
  std::string secret = "secret";
  int subscribers = 1000;
  int channels = 1;
  double rate = 100000;  // target deliveries/s; 0 = as fast as the publishers go
  double seconds = 10;
  double warmup = 2;
  int batch = 1;       // messages per publish request (channelstream)
  int publishers = 4;  // concurrent publish connections
  int payload_bytes = 100;
  int concurrency = 64;  // connects in flight during setup / storm
  double drain = 3;      // seconds to wait for stragglers after publishing
  double idle_wait = 3;  // idle scenario: seconds between opening and measuring
  std::vector<pid_t> pids;
  std::string label;
};

[[noreturn]] void Usage(const std::string& error) {
  std::fprintf(stderr, "loadgen: %s\n", error.c_str());
  std::exit(2);
}

Options ParseOptions(int argc, char** argv) {
  Options o;
  std::map<std::string, std::string> values;
  for (int i = 1; i < argc; ++i) {
    std::string key = argv[i];
    if (key.rfind("--", 0) != 0 || i + 1 >= argc) Usage("expected --KEY VALUE, got '" + key + "'");
    values[key.substr(2)] = argv[++i];
  }
  auto integer = [&](const char* key, int* out) {
    auto it = values.find(key);
    if (it == values.end()) return;
    if (!absl::SimpleAtoi(it->second, out) || *out < 0)
      Usage(absl::StrCat("--", key, ": not a count: ", it->second));
    values.erase(it);
  };
  auto real = [&](const char* key, double* out) {
    auto it = values.find(key);
    if (it == values.end()) return;
    if (!absl::SimpleAtod(it->second, out) || *out < 0)
      Usage(absl::StrCat("--", key, ": not a number: ", it->second));
    values.erase(it);
  };
  auto text = [&](const char* key, std::string* out) {
    auto it = values.find(key);
    if (it == values.end()) return;
    *out = it->second;
    values.erase(it);
  };
  text("target", &o.target);
  text("scenario", &o.scenario);
  text("transport", &o.transport);
  text("host", &o.host);
  text("secret", &o.secret);
  text("label", &o.label);
  integer("port", &o.port);
  integer("subscribers", &o.subscribers);
  integer("channels", &o.channels);
  integer("batch", &o.batch);
  integer("publishers", &o.publishers);
  integer("payload_bytes", &o.payload_bytes);
  integer("concurrency", &o.concurrency);
  real("rate", &o.rate);
  real("seconds", &o.seconds);
  real("warmup", &o.warmup);
  real("drain", &o.drain);
  real("idle_wait", &o.idle_wait);
  std::string list;
  text("ws_ports", &list);
  for (auto part : absl::StrSplit(list, ',', absl::SkipEmpty())) {
    int port;
    if (!absl::SimpleAtoi(part, &port)) Usage("--ws_ports: not a port list: " + list);
    o.ws_ports.push_back(port);
  }
  list.clear();
  text("pids", &list);
  for (auto part : absl::StrSplit(list, ',', absl::SkipEmpty())) {
    int pid;
    if (!absl::SimpleAtoi(part, &pid)) Usage("--pids: not a pid list: " + list);
    o.pids.push_back(pid);
  }
  if (!values.empty()) Usage("unknown option --" + values.begin()->first);
  if (o.target != "channelstream" && o.target != "uws" && o.target != "nchan")
    Usage("--target: channelstream, uws or nchan");
  if (o.scenario != "fanout" && o.scenario != "idle" && o.scenario != "storm")
    Usage("--scenario: fanout, idle or storm");
  if (o.transport != "ws" && o.transport != "longpoll") Usage("--transport: ws or longpoll");
  if (o.transport == "longpoll" && o.target != "channelstream")
    Usage("--transport longpoll: channelstream only");
  if (o.channels < 1 || o.subscribers < 1 || o.publishers < 1 || o.batch < 1 || o.concurrency < 1)
    Usage("--channels, --subscribers, --publishers, --batch and --concurrency must be at least 1");
  if (o.target != "channelstream") o.batch = 1;  // the peers publish one message per request
  if (o.ws_ports.empty()) o.ws_ports.push_back(o.port);
  return o;
}

// Counts "bt" markers and records latencies of the messages sent inside the window.
class Deliveries final : public DeliverySink {
 public:
  void OnPayload(std::string_view payload) override {
    const int64_t now = NowNanos();
    size_t at = 0;
    while ((at = payload.find("\"bt\":", at)) != std::string_view::npos) {
      at += 5;
      int64_t sent = 0;
      while (at < payload.size() && payload[at] >= '0' && payload[at] <= '9')
        sent = sent * 10 + (payload[at++] - '0');
      ++received;
      if (sent >= window_start && sent < window_end) {
        ++in_window;
        latencies.Add((now - sent) / 1000);
      }
    }
  }
  void OnSubscriberClosed() override { ++closed; }

  int64_t received = 0;
  int64_t in_window = 0;
  int64_t closed = 0;
  int64_t window_start = INT64_MAX;
  int64_t window_end = INT64_MAX;
  LatencyRecord latencies;
};

std::string JsonString(const std::string& text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  return out + "\"";
}

class LoadGenerator {
 public:
  explicit LoadGenerator(Options options) : o_(std::move(options)) {}

  int Run() {
    RaiseFileLimit();
    const ProcessSample before_connections = SampleProcesses(o_.pids);
    const int64_t open_start = NowNanos();
    OpenSubscribers(o_.subscribers);
    const double open_seconds = static_cast<double>(NowNanos() - open_start) / 1e9;
    if (opened_ < o_.subscribers) {
      std::fprintf(stderr, "loadgen: only %d of %d subscribers opened (%d failed)\n", opened_,
                   o_.subscribers, failed_);
    }
    Result("subscribers_opened", opened_);
    Result("subscriber_open_failures", failed_);
    Result("opens_per_s", opened_ / std::max(open_seconds, 1e-9));
    if (o_.scenario == "storm") return Report();
    if (o_.scenario == "idle") {
      RunFor(o_.idle_wait);
      const ProcessSample idle = SampleProcesses(o_.pids);
      Result("rss_before_bytes", static_cast<double>(before_connections.rss_bytes));
      Result("rss_idle_bytes", static_cast<double>(idle.rss_bytes));
      Result("rss_per_connection_bytes",
             static_cast<double>(idle.rss_bytes - before_connections.rss_bytes) /
                 std::max(opened_, 1));
      Result("subscribers_closed", static_cast<double>(deliveries_.closed));
      return Report();
    }
    RunFor(1.0);  // let asynchronous attaches land before the first publication
    return Publish();
  }

 private:
  struct PendingConnect {
    int index;
    std::unique_ptr<HttpClient> client;
  };

  static void RaiseFileLimit() {
    rlimit limit{};
    getrlimit(RLIMIT_NOFILE, &limit);
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
  }

  std::string Channel(int index) const { return absl::StrCat("bench", index); }
  int SubscriberChannel(int subscriber) const { return subscriber % o_.channels; }
  int WsPort(int subscriber) const {
    return o_.ws_ports[static_cast<size_t>(subscriber) % o_.ws_ports.size()];
  }

  const std::string& Token(const std::string& path) {
    const int64_t now = NowNanos();
    if (now - token_time_ > 1000000000LL || token_path_ != path) {
      token_ = common::SignTimestamped(o_.secret, path, absl::Now());
      token_time_ = now;
      token_path_ = path;
    }
    return token_;
  }

  void RunFor(double seconds) {
    const int64_t until = NowNanos() + static_cast<int64_t>(seconds * 1e9);
    while (NowNanos() < until) loop_.RunOnce(5);
  }

  // Opens `count` subscribers with at most o_.concurrency in flight. Channelstream first gets a
  // conn_id from POST /connect (its REST API), then opens /ws or starts /listen.
  void OpenSubscribers(int count) {
    int next = 0;
    int in_flight = 0;
    std::vector<std::unique_ptr<HttpClient>> rest_clients;
    std::vector<HttpClient*> idle_rest;
    if (o_.target == "channelstream") {
      for (int i = 0; i < std::min(o_.concurrency, 32); ++i) {
        rest_clients.push_back(std::make_unique<HttpClient>());
        if (!rest_clients.back()->Open(loop_, o_.host, o_.port))
          Usage("cannot open a socket to the REST API");
        idle_rest.push_back(rest_clients.back().get());
      }
    }
    auto finished = [&](bool ok) {
      --in_flight;
      if (ok)
        ++opened_;
      else
        ++failed_;
    };
    const int64_t deadline = NowNanos() + static_cast<int64_t>(std::max(60.0, count / 100.0) * 1e9);
    while ((next < count || in_flight > 0) && NowNanos() < deadline) {
      while (next < count && in_flight < o_.concurrency &&
             (o_.target != "channelstream" || !idle_rest.empty())) {
        const int index = next++;
        ++in_flight;
        if (o_.target != "channelstream") {
          OpenWs(index, "/sub/" + Channel(SubscriberChannel(index)), finished);
          continue;
        }
        HttpClient* rest = idle_rest.back();
        idle_rest.pop_back();
        std::string body = absl::StrCat(R"({"username":"u)", index, R"(","channels":[")",
                                        Channel(SubscriberChannel(index)), R"("]})");
        std::string headers = absl::StrCat(
            "Content-Type: application/json\r\nx-channelstream-secret: ", Token("/connect"),
            "\r\n");
        rest->Request("POST", "/connect", headers, body,
                      [&, rest, index](const HttpClient::Response& response) {
                        if (!rest->closed()) idle_rest.push_back(rest);
                        std::string_view text = response.body;
                        size_t at = text.find("\"conn_id\":\"");
                        if (response.status != 200 || at == std::string_view::npos) {
                          std::fprintf(
                              stderr, "loadgen: /connect answered %d %.*s\n", response.status,
                              static_cast<int>(std::min<size_t>(text.size(), 200)), text.data());
                          finished(false);
                          return;
                        }
                        std::string conn_id(text.substr(at + 11, 36));
                        if (o_.transport == "longpoll") {
                          StartLongPoll(index, conn_id);
                          finished(true);
                        } else {
                          OpenWs(index, "/ws?conn_id=" + conn_id, finished);
                        }
                      });
      }
      loop_.RunOnce(5);
    }
    for (auto& subscriber : ws_)
      subscriber->on_handshake = nullptr;  // `finished` goes out of scope
  }

  template <typename Done>
  void OpenWs(int index, const std::string& target, Done& done) {
    auto subscriber = std::make_unique<WsSubscriber>(target, &deliveries_);
    subscriber->on_handshake = [&done](bool ok) { done(ok); };
    if (!subscriber->Open(loop_, o_.host, WsPort(index))) {
      done(false);
      return;
    }
    ws_.push_back(std::move(subscriber));
  }

  // A long-poll subscriber: GET /listen, count what came, ask again at once.
  void StartLongPoll(int index, const std::string& conn_id) {
    auto client = std::make_unique<HttpClient>();
    if (!client->Open(loop_, o_.host, WsPort(index))) {
      ++deliveries_.closed;
      return;
    }
    HttpClient* raw = client.get();
    polls_.push_back(std::move(client));
    Poll(raw, "/listen?conn_id=" + conn_id);
  }
  void Poll(HttpClient* client, std::string target) {
    client->Request("GET", target, "", "",
                    [this, client, target](const HttpClient::Response& response) {
                      if (response.status != 200) {
                        ++deliveries_.closed;
                        return;
                      }
                      deliveries_.OnPayload(response.body);
                      if (polling_) Poll(client, target);
                    });
  }

  // Publishes at o_.rate deliveries/s (messages/s = rate / subscribers per channel) for
  // warmup + seconds, then drains and reports.
  int Publish() {
    std::vector<std::unique_ptr<HttpClient>> publishers;
    for (int i = 0; i < o_.publishers; ++i) {
      publishers.push_back(std::make_unique<HttpClient>());
      if (!publishers.back()->Open(loop_, o_.host, o_.port))
        Usage("cannot open a publisher socket");
    }
    std::vector<int> per_channel(static_cast<size_t>(o_.channels), 0);
    for (int i = 0; i < opened_; ++i) ++per_channel[static_cast<size_t>(SubscriberChannel(i))];
    const double fan = static_cast<double>(opened_) / o_.channels;
    const double message_rate = o_.rate / fan;
    std::mt19937 random(42);
    std::uniform_int_distribution<int> pick(0, o_.channels - 1);
    const std::string pad(static_cast<size_t>(std::max(0, o_.payload_bytes - 40)), 'x');

    int64_t expected = 0, published = 0, publish_errors = 0, requests = 0, reconnects = 0;
    const int64_t start = NowNanos();
    const int64_t window_start = start + static_cast<int64_t>(o_.warmup * 1e9);
    const int64_t window_end = window_start + static_cast<int64_t>(o_.seconds * 1e9);
    deliveries_.window_start = window_start;
    deliveries_.window_end = window_end;
    ProcessSample cpu_start, cpu_end;
    double self_start = 0, self_end = 0;
    int64_t published_in_window = 0;
    bool window_open = false, window_closed = false;

    std::string body;
    while (true) {
      const int64_t now = NowNanos();
      if (!window_open && now >= window_start) {
        window_open = true;
        cpu_start = SampleProcesses(o_.pids);
        self_start = SelfCpuSeconds();
      }
      if (!window_closed && now >= window_end) {
        window_closed = true;
        cpu_end = SampleProcesses(o_.pids);
        self_end = SelfCpuSeconds();
      }
      if (now >= window_end) break;
      for (auto& publisher : publishers) {
        // Rate mode waits until a whole batch is due; saturation keeps every publisher busy.
        const int64_t still_due =
            o_.rate > 0
                ? static_cast<int64_t>(static_cast<double>(now - start) / 1e9 * message_rate) -
                      published
                : o_.batch;
        if (still_due < o_.batch) break;
        if (publisher->closed()) {
          // The server ended the keep-alive connection (nginx does after keepalive_requests):
          // reopen.
          publisher = std::make_unique<HttpClient>();
          if (!publisher->Open(loop_, o_.host, o_.port)) Usage("cannot reopen a publisher socket");
          ++reconnects;
        }
        if (publisher->busy()) continue;
        const int count = static_cast<int>(std::min<int64_t>(o_.batch, still_due));
        const int channel = pick(random);
        const int64_t sent = NowNanos();
        if (o_.target == "channelstream") {
          body = "[";
          for (int m = 0; m < count; ++m) {
            const int target = m == 0 ? channel : pick(random);
            if (m > 0) body += ",";
            absl::StrAppend(&body, R"({"channel":")", Channel(target),
                            R"(","user":"bench","message":{"bt":)", sent, R"(,"pad":")", pad,
                            R"("}})");
            expected += per_channel[static_cast<size_t>(target)];
          }
          body += "]";
          std::string headers = absl::StrCat(
              "Content-Type: application/json\r\nx-channelstream-secret: ", Token("/message"),
              "\r\n");
          publisher->Request("POST", "/message", headers, body, [&](const HttpClient::Response& r) {
            if (r.status != 200) ++publish_errors;
          });
        } else {
          body = absl::StrCat(R"({"bt":)", sent, R"(,"pad":")", pad, R"("})");
          expected += per_channel[static_cast<size_t>(channel)];
          publisher->Request("POST", "/pub?id=" + Channel(channel),
                             "Content-Type: application/json\r\n", body,
                             [&](const HttpClient::Response& r) {
                               if (r.status < 200 || r.status >= 300) ++publish_errors;
                             });
        }
        published += count;
        ++requests;
        if (sent >= window_start) published_in_window += count;
      }
      loop_.RunOnce(1);
    }
    // Drain: wait for every expected delivery (or the drain time).
    const int64_t received_at_end = deliveries_.in_window;
    const int64_t drain_until = NowNanos() + static_cast<int64_t>(o_.drain * 1e9);
    while (NowNanos() < drain_until && deliveries_.received < expected) loop_.RunOnce(5);
    polling_ = false;

    const double window = o_.seconds;
    const double cpu = cpu_end.cpu_seconds - cpu_start.cpu_seconds;
    Result("messages_published", static_cast<double>(published));
    Result("publish_requests", static_cast<double>(requests));
    Result("publish_errors", static_cast<double>(publish_errors));
    Result("publisher_reconnects", static_cast<double>(reconnects));
    Result("target_deliveries_per_s", o_.rate);
    Result("offered_deliveries_per_s", static_cast<double>(published_in_window) * fan / window);
    Result("deliveries_per_s", static_cast<double>(received_at_end) / window);
    Result("expected_deliveries", static_cast<double>(expected));
    Result("received_deliveries", static_cast<double>(deliveries_.received));
    Result("lost_deliveries",
           static_cast<double>(std::max<int64_t>(0, expected - deliveries_.received)));
    Result(
        "loss_ratio",
        expected > 0
            ? static_cast<double>(std::max<int64_t>(0, expected - deliveries_.received)) / expected
            : 0);
    Result("p50_ms", deliveries_.latencies.PercentileMs(0.50));
    Result("p99_ms", deliveries_.latencies.PercentileMs(0.99));
    Result("max_ms", deliveries_.latencies.MaxMs());
    Result("server_cpu_seconds", cpu);
    Result("server_cpu_us_per_delivery",
           received_at_end > 0 ? cpu / static_cast<double>(received_at_end) * 1e6 : 0);
    Result("server_rss_bytes", static_cast<double>(cpu_end.rss_bytes));
    Result("loadgen_cpu_utilization", (self_end - self_start) / window);
    Result("subscribers_closed", static_cast<double>(deliveries_.closed));
    return Report();
  }

  void Result(const std::string& key, double value) { results_.emplace_back(key, value); }

  int Report() {
    std::string line = absl::StrCat(
        "{\"label\":", JsonString(o_.label), ",\"target\":", JsonString(o_.target),
        ",\"scenario\":", JsonString(o_.scenario), ",\"transport\":", JsonString(o_.transport),
        ",\"subscribers\":", o_.subscribers, ",\"channels\":", o_.channels,
        ",\"batch\":", o_.batch);
    for (const auto& [key, value] : results_) {
      char number[64];
      std::snprintf(number, sizeof number, "%.6g", std::isfinite(value) ? value : 0.0);
      absl::StrAppend(&line, ",\"", key, "\":", number);
      std::fprintf(stderr, "  %-28s %s\n", key.c_str(), number);
    }
    line += "}";
    std::printf("%s\n", line.c_str());
    std::fflush(stdout);
    return 0;
  }

  Options o_;
  EventLoop loop_;
  Deliveries deliveries_;
  std::vector<std::unique_ptr<WsSubscriber>> ws_;
  std::vector<std::unique_ptr<HttpClient>> polls_;
  bool polling_ = true;
  int opened_ = 0;
  int failed_ = 0;
  std::string token_, token_path_;
  int64_t token_time_ = 0;
  std::vector<std::pair<std::string, double>> results_;
};

}  // namespace
}  // namespace channelstream::bench

int main(int argc, char** argv) {
  channelstream::bench::Options options = channelstream::bench::ParseOptions(argc, argv);
  channelstream::bench::LoadGenerator generator(std::move(options));
  return generator.Run();
}
