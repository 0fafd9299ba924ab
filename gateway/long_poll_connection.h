// One long poll's state machine, sans I/O: the attach, the wait for a first message
// (wake_connections_after), the gathering window after it (long_poll_gather), the frame limit,
// and the answer with the Detach whose marks say what the answer carries. Broker events and
// timer expiries (`now` passed in) go in; timer deadlines, the Detach and the answer go out
// through a LongPollSink. LongPoll (long_poll.h) is the HTTP and timer adapter around it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "channelstream.pb.h"
#include "gateway/delivered_marks.h"
#include "gateway/frame.h"
#include "gateway/settings.h"
#include "gateway/steady_time.h"

namespace channelstream::gateway {

class LongPollSink {
 public:
  // The clock, read whenever a wait starts.
  virtual SteadyTime Now() const = 0;
  // Call OnTimer at `deadline` (replaces the previous deadline).
  virtual void ArmTimer(SteadyTime deadline) = 0;
  virtual void CancelTimer() = 0;
  // Tell the broker the poll left: frames not in `delivered` stay due (catch-up).
  virtual void Detach(const DeliveredMarks& delivered) = 0;
  // The answer: `status` an HTTP status code; on 200 `body` is the JSON list of messages.
  // The poll is finished afterwards.
  virtual void Respond(unsigned status, std::string body) = 0;

 protected:
  ~LongPollSink() = default;
};

class LongPollConnection {
 public:
  // `settings` and `sink` must outlive the connection.
  LongPollConnection(const GatewaySettings& settings, LongPollSink& sink)
      : settings_(&settings), sink_(&sink) {}
  LongPollConnection(const LongPollConnection&) = delete;
  LongPollConnection& operator=(const LongPollConnection&) = delete;

  // With a broker stream, the poll counts as attached (the transport sends the Attach) and the
  // wait for the broker's answer is bounded; without one it answers 503. False when answered.
  bool Start(bool broker_available);
  void OnAttachResult(const v1::AttachResult& result);
  void OnFrame(const FramePtr& frame);
  // The wait ends at the armed deadline: answers with what it has.
  void OnTimer(SteadyTime now);
  // The broker removed the connection, the stream is gone, or the gateway drains: answers now
  // with what it has, as a normal poll return (200).
  void Finish();

  bool done() const { return done_; }

 private:
  void ArmTimer(double seconds);
  void Respond(unsigned status, std::string body);

  const GatewaySettings* settings_;
  LongPollSink* sink_;
  SteadyTime deadline_{};
  std::vector<std::string> catchup_;
  DeliveredMarks delivered_;  // what the answer carries: reported in the Detach
  std::vector<FramePtr> frames_;
  bool open_ = false;
  bool attached_ = false;
  bool done_ = false;
};

}  // namespace channelstream::gateway
