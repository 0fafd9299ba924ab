// Replaying the broker's journal: one durable::JournalRecord is one mutating BrokerState call,
// repeated here with the same inputs, the same `now` and the same ids, so the state ends up
// exactly as it was live. Routing runs as live (gateway records advance seen marks the same way);
// what it would send is discarded.
#pragma once

#include "absl/status/status.h"
#include "broker/broker_state.h"
#include "durable_state.pb.h"

namespace channelstream::broker {

// Not OK when the call fails now although it succeeded live (e.g. a limit lowered in the config
// since) or drew a different number of ids; the state then holds whatever the call did.
absl::Status ReplayCommand(const durable::JournalRecord& record, BrokerState* state);

// Record helpers for the live side: the ids a call drew, as the record stores them.
void AddRecordedIds(const std::vector<common::Uuid>& ids,
                    google::protobuf::RepeatedPtrField<std::string>* out);

}  // namespace channelstream::broker
