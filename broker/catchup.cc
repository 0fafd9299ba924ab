#include "broker/catchup.h"

#include <algorithm>
#include <map>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "common/ids.h"

namespace channelstream::broker {

void AppendPosition(std::string* encoded_object, std::string_view epoch, uint64_t offset) {
  // Every object we encode ends in '}'; "{}" gets no leading comma.
  encoded_object->pop_back();
  if (encoded_object->size() > 1) encoded_object->push_back(',');
  // Epochs are hex and a dash-free UUID prefix: nothing to escape.
  encoded_object->append("\"epoch\":\"").append(epoch).append("\",\"offset\":");
  absl::StrAppend(encoded_object, offset, "}");
}

std::string WithPosition(std::string_view encoded_object, std::string_view epoch, uint64_t offset) {
  std::string result;
  result.reserve(encoded_object.size() + epoch.size() + 32);
  result.append(encoded_object);
  AppendPosition(&result, epoch, offset);
  return result;
}

namespace {

struct Failure {
  const char* reason = nullptr;
  uint64_t since_offset = 0;
  std::string since_epoch;
  uint64_t offset = 0;  // where the client continues from
};

struct Candidate {
  absl::Time time;
  int stream;
  uint64_t seq;
  const Json* payload;
};

std::string FailureObject(const CatchupStream& stream, const Failure& failure) {
  Json object = {{"type", "recovery_failed"},
                 {"channel", stream.channel.empty() ? Json() : Json(stream.channel)},
                 {"reason", failure.reason},
                 {"since", {{"offset", failure.since_offset}, {"epoch", failure.since_epoch}}},
                 {"catchup", true}};
  return WithPosition(DumpJson(object), stream.epoch, failure.offset);
}

}  // namespace

CatchupPlan PlanCatchup(const std::vector<CatchupStream>& streams, const std::string& user,
                        size_t max_bytes) {
  CatchupPlan plan;
  plan.resume_after.resize(streams.size());
  std::map<int, Failure> failures;
  std::vector<Candidate> candidates;
  for (int i = 0; i < static_cast<int>(streams.size()); ++i) {
    const CatchupStream& stream = streams[i];
    uint64_t position = stream.resume_after;
    if (stream.presented) {
      if (stream.presented_epoch == stream.epoch && stream.presented_offset <= stream.offset) {
        position = stream.presented_offset;
      } else {
        // The offset names events of another history: resume from the connection's own mark.
        failures[i] = {
            stream.presented_epoch == stream.epoch ? "unknown_position" : "epoch_changed",
            stream.presented_offset, stream.presented_epoch, position};
      }
    }
    plan.resume_after[i] = position;
    if (position >= stream.offset) continue;
    const uint64_t first_kept = stream.trimmed_through + 1;
    if (first_kept > position + 1) {
      Failure& failure = failures[i];
      if (failure.reason == nullptr) failure = {"window_moved", position, stream.epoch, 0};
      failure.offset = first_kept - 1;
    }
    if (stream.frames == nullptr) continue;
    for (const CatchupRecord& frame : *stream.frames) {
      if (frame.seq <= position) continue;
      if (!stream.channel.empty() && !frame.VisibleTo(user)) continue;
      candidates.push_back({frame.time, i, frame.seq, &frame.payload});
    }
  }
  std::stable_sort(candidates.begin(), candidates.end(),
                   [](const Candidate& a, const Candidate& b) {
                     return std::tie(a.time, a.stream, a.seq) < std::tie(b.time, b.stream, b.seq);
                   });

  std::vector<std::string> frames;
  frames.reserve(candidates.size());
  size_t frame_bytes = 0;
  for (const Candidate& candidate : candidates) {
    Json copy = *candidate.payload;
    copy["catchup"] = true;
    frames.push_back(WithPosition(DumpJson(copy), streams[candidate.stream].epoch, candidate.seq));
    frame_bytes += frames.back().size();
  }
  // Over budget: the oldest frames go, and each stream that lost some says so.
  size_t first = 0;
  while (first < frames.size() && frame_bytes > max_bytes) {
    frame_bytes -= frames[first].size();
    const Candidate& cut = candidates[first];
    Failure& failure = failures[cut.stream];
    if (failure.reason == nullptr)
      failure = {"catchup_limit", plan.resume_after[cut.stream], streams[cut.stream].epoch, 0};
    failure.offset = std::max(failure.offset, cut.seq);
    ++first;
  }

  for (const auto& [index, failure] : failures) {
    plan.items.push_back(FailureObject(streams[index], failure));
    plan.item_marks.emplace_back(index, failure.offset);
    plan.bytes += plan.items.back().size();
  }
  plan.failures = failures.size();
  for (size_t i = first; i < frames.size(); ++i) {
    plan.items.push_back(std::move(frames[i]));
    plan.item_marks.emplace_back(candidates[i].stream, candidates[i].seq);
  }
  plan.bytes += frame_bytes;
  return plan;
}

}  // namespace channelstream::broker
