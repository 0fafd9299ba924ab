// LongPollConnection without HTTP or timers: a recording sink and an explicit clock.
#include "gateway/long_poll_connection.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace channelstream::gateway {
namespace {

using std::chrono::milliseconds;
using std::chrono::nanoseconds;
using std::chrono::seconds;

class RecordingSink : public LongPollSink {
 public:
  SteadyTime Now() const override { return now; }
  void ArmTimer(SteadyTime deadline) override {
    timer = deadline;
    ++arms;
  }
  void CancelTimer() override { log.push_back("cancel"); }
  void Detach(const DeliveredMarks& delivered) override {
    v1::Detach detach;
    delivered.FillDetach(&detach);
    detaches.push_back(detach);
    log.push_back("detach");
  }
  void Respond(unsigned status_code, std::string body_text) override {
    ++responses;
    status = status_code;
    body = std::move(body_text);
    log.push_back("respond");
  }

  SteadyTime now = SteadyTime(std::chrono::hours(100));
  std::optional<SteadyTime> timer;
  int arms = 0;
  int responses = 0;
  unsigned status = 0;
  std::string body;
  std::vector<v1::Detach> detaches;
  std::vector<std::string> log;
};

v1::AttachResult Found(std::vector<std::string> catchup = {},
                       std::vector<std::pair<std::string, uint64_t>> marks = {}) {
  v1::AttachResult result;
  result.set_found(true);
  for (auto& json : catchup) result.add_catchup_json(json);
  for (auto& [channel, seq] : marks) {
    v1::ChannelMark* mark = result.add_catchup_marks();
    mark->set_channel(channel);
    mark->set_seq(seq);
  }
  return result;
}

FramePtr Delivery(std::string_view json, std::string channel = "", uint64_t seq = 0) {
  return MakeDeliveryFrame(json, nullptr, std::move(channel), seq);
}

std::vector<std::pair<std::string, uint64_t>> Marks(const v1::Detach& detach) {
  std::vector<std::pair<std::string, uint64_t>> marks;
  for (const v1::ChannelMark& mark : detach.delivered().marks())
    marks.emplace_back(mark.channel(), mark.seq());
  return marks;
}

class LongPollConnectionTest : public ::testing::Test {
 protected:
  LongPollConnectionTest() {
    settings_.wake_connections_after = 5;
    settings_.long_poll_gather = 0.25;
    settings_.rpc_timeout = 10;
    settings_.max_queue_messages = 100;
  }
  LongPollConnection& Poll() {
    if (!poll_) poll_.emplace(settings_, sink_);
    return *poll_;
  }
  // The armed timer fires (asio runs it at or after the deadline).
  void FireTimer() {
    ASSERT_TRUE(sink_.timer.has_value());
    sink_.now = *sink_.timer;
    Poll().OnTimer(sink_.now);
  }

  GatewaySettings settings_;
  RecordingSink sink_;
  std::optional<LongPollConnection> poll_;
};

TEST_F(LongPollConnectionTest, WithoutABrokerStreamItAnswers503AtOnce) {
  EXPECT_FALSE(Poll().Start(/*broker_available=*/false));
  EXPECT_EQ(sink_.status, 503u);
  EXPECT_EQ(sink_.body, R"({"error": "broker unavailable"})");
  EXPECT_TRUE(sink_.detaches.empty());
  EXPECT_TRUE(Poll().done());
}

TEST_F(LongPollConnectionTest, TheBrokersAnswerIsWaitedForWithATimeout) {
  const SteadyTime start = sink_.now;
  EXPECT_TRUE(Poll().Start(true));
  ASSERT_TRUE(sink_.timer.has_value());
  EXPECT_EQ(*sink_.timer, start + seconds(15));  // wake_connections_after + rpc_timeout
  FireTimer();
  EXPECT_EQ(sink_.status, 200u);
  EXPECT_EQ(sink_.body, "[]");
  ASSERT_EQ(sink_.detaches.size(), 1u);  // the Attach went out: it is paired
  EXPECT_TRUE(sink_.detaches[0].has_delivered());
  EXPECT_TRUE(Marks(sink_.detaches[0]).empty());
}

TEST_F(LongPollConnectionTest, AnEarlyOrStaleExpiryDoesNothing) {
  Poll().Start(true);
  Poll().OnTimer(*sink_.timer - nanoseconds(1));
  EXPECT_EQ(sink_.responses, 0);
  EXPECT_FALSE(Poll().done());
}

TEST_F(LongPollConnectionTest, UnknownConnIdAnswers401WithoutDetach) {
  Poll().Start(true);
  v1::AttachResult result;
  result.set_found(false);
  Poll().OnAttachResult(result);
  EXPECT_EQ(sink_.status, 401u);
  EXPECT_EQ(sink_.body, R"({"conn_id": ["Unknown connection"]})");
  EXPECT_TRUE(sink_.detaches.empty());
  EXPECT_EQ(sink_.log, (std::vector<std::string>{"cancel", "respond"}));
}

TEST_F(LongPollConnectionTest, NothingToSayAnswersAnEmptyListAfterWakeConnectionsAfter) {
  Poll().Start(true);
  sink_.now += seconds(1);
  const SteadyTime attached = sink_.now;
  Poll().OnAttachResult(Found());
  EXPECT_EQ(*sink_.timer, attached + seconds(5));
  FireTimer();
  EXPECT_EQ(sink_.body, "[]");
  EXPECT_EQ(sink_.log, (std::vector<std::string>{"cancel", "detach", "respond"}));
}

TEST_F(LongPollConnectionTest, CatchupAnswersAfterTheGatherWindowWithItsMarks) {
  Poll().Start(true);
  const SteadyTime attached = sink_.now;
  Poll().OnAttachResult(Found({R"({"a":1})", R"({"b":2})"}, {{"ch", 4}}));
  EXPECT_EQ(*sink_.timer, attached + milliseconds(250));
  Poll().OnFrame(Delivery(R"({"c":3})", "ch", 5));
  EXPECT_EQ(*sink_.timer, attached + milliseconds(250));  // not the first message: no re-arm
  FireTimer();
  EXPECT_EQ(sink_.body, R"([{"a":1},{"b":2},{"c":3}])");
  ASSERT_EQ(sink_.detaches.size(), 1u);
  EXPECT_EQ(Marks(sink_.detaches[0]), (std::vector<std::pair<std::string, uint64_t>>{{"ch", 5}}));
}

TEST_F(LongPollConnectionTest, FirstMessageStartsTheGatherWindow) {
  Poll().Start(true);
  Poll().OnAttachResult(Found());
  sink_.now += seconds(2);
  const SteadyTime first = sink_.now;
  Poll().OnFrame(Delivery(R"({"n":1})", "x", 1));
  EXPECT_EQ(*sink_.timer, first + milliseconds(250));
  sink_.now += milliseconds(100);
  Poll().OnFrame(Delivery(R"({"n":2})", "", 8));
  EXPECT_EQ(*sink_.timer, first + milliseconds(250));
  EXPECT_EQ(sink_.responses, 0);
  FireTimer();
  EXPECT_EQ(sink_.status, 200u);
  EXPECT_EQ(sink_.body, R"([{"n":1},{"n":2}])");
  auto marks = Marks(sink_.detaches.at(0));
  std::sort(marks.begin(), marks.end());
  EXPECT_EQ(marks, (std::vector<std::pair<std::string, uint64_t>>{{"", 8}, {"x", 1}}));
}

TEST_F(LongPollConnectionTest, FrameLimitAnswersAtOnce) {
  settings_.max_queue_messages = 3;
  Poll().Start(true);
  Poll().OnAttachResult(Found({"1"}));
  Poll().OnFrame(Delivery("2"));
  EXPECT_EQ(sink_.responses, 0);
  Poll().OnFrame(Delivery("3"));
  EXPECT_EQ(sink_.responses, 1);
  EXPECT_EQ(sink_.body, "[1,2,3]");
  Poll().OnFrame(Delivery("4"));  // answered: nothing more is taken
  EXPECT_EQ(sink_.responses, 1);
}

TEST_F(LongPollConnectionTest, FramesBeforeTheAttachResultAreNotTaken) {
  Poll().Start(true);
  Poll().OnFrame(Delivery("0", "ch", 1));
  Poll().OnAttachResult(Found());
  Poll().OnFrame(Delivery("1", "ch", 2));
  FireTimer();
  EXPECT_EQ(sink_.body, "[1]");
}

TEST_F(LongPollConnectionTest, SecondAttachResultIsIgnored) {
  Poll().Start(true);
  Poll().OnAttachResult(Found({"1"}));
  v1::AttachResult not_found;
  Poll().OnAttachResult(not_found);
  EXPECT_EQ(sink_.responses, 0);
}

TEST_F(LongPollConnectionTest, DrainKickOrStreamLossAnswersWithWhatItHas) {
  Poll().Start(true);
  Poll().OnAttachResult(Found({"1"}, {{"ch", 1}}));
  Poll().OnFrame(Delivery("2", "ch", 2));
  Poll().Finish();
  EXPECT_EQ(sink_.status, 200u);
  EXPECT_EQ(sink_.body, "[1,2]");
  EXPECT_EQ(Marks(sink_.detaches.at(0)),
            (std::vector<std::pair<std::string, uint64_t>>{{"ch", 2}}));
  Poll().Finish();
  Poll().OnTimer(sink_.now + seconds(100));
  EXPECT_EQ(sink_.responses, 1);
  EXPECT_EQ(sink_.detaches.size(), 1u);
}

TEST_F(LongPollConnectionTest, FinishBeforeTheAttachResultAnswersEmptyAndDetaches) {
  Poll().Start(true);
  Poll().Finish();
  EXPECT_EQ(sink_.body, "[]");
  EXPECT_EQ(sink_.detaches.size(), 1u);
}

TEST_F(LongPollConnectionTest, FramesAreSharedNotCopiedUntilTheAnswer) {
  Poll().Start(true);
  Poll().OnAttachResult(Found());
  FramePtr frame = Delivery(R"({"n":1})");
  Poll().OnFrame(frame);
  EXPECT_EQ(frame.use_count(), 2);
  Poll().Finish();
  EXPECT_EQ(frame.use_count(), 1);  // released with the answer
}

}  // namespace
}  // namespace channelstream::gateway
