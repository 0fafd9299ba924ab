#include "broker/command_replay.h"

#include <vector>

#include "absl/strings/str_cat.h"

namespace channelstream::broker {
namespace {

std::vector<common::Uuid> RecordedIds(
    const google::protobuf::RepeatedPtrField<std::string>& saved) {
  std::vector<common::Uuid> ids;
  ids.reserve(saved.size());
  for (const std::string& bytes : saved) {
    common::Uuid id;
    common::Uuid::FromBytes(bytes,
                            &id);  // a malformed id replays as nil: the CRC already vouched for it
    ids.push_back(id);
  }
  return ids;
}

absl::Status Apply(const durable::JournalRecord& record, absl::Time now, BrokerState* state) {
  Outbox out;  // replay sends nothing
  using R = durable::JournalRecord;
  switch (record.command_case()) {
    case R::kConnect: {
      v1::ConnectResponse response;
      return state->Connect(record.connect(), now, &response, &out);
    }
    case R::kSubscribe: {
      v1::SubscribeResponse response;
      return state->Subscribe(record.subscribe(), now, &response, &out);
    }
    case R::kUnsubscribe: {
      v1::UnsubscribeResponse response;
      return state->Unsubscribe(record.unsubscribe(), now, &response, &out);
    }
    case R::kSetUserState: {
      v1::UserStateResponse response;
      return state->SetUserState(record.set_user_state(), now, &response, &out);
    }
    case R::kPublish: {
      const durable::PublishCommand& command = record.publish();
      IdSource prepare_ids;
      prepare_ids.StartReplay(RecordedIds(command.prepare_ids()));
      std::vector<PreparedPublication> prepared;
      absl::Status status = BrokerState::PreparePublish(
          command.request(), absl::FromUnixNanos(command.prepare_unix_nanos()), state->options(),
          &prepared, &prepare_ids);
      if (!status.ok()) return status;
      if (!prepare_ids.FinishReplay())
        return absl::DataLossError("publish drew a different number of message ids than live");
      v1::PublishResponse response;
      state->ApplyPublish(prepared, now, &response, &out);
      return absl::OkStatus();
    }
    case R::kEditMessages: {
      v1::EditMessagesResponse response;
      return state->EditMessages(record.edit_messages(), now, &response, &out);
    }
    case R::kDeleteMessages: {
      v1::DeleteMessagesResponse response;
      return state->DeleteMessages(record.delete_messages(), now, &response, &out);
    }
    case R::kSetChannelConfig: {
      v1::ChannelConfigResponse response;
      return state->SetChannelConfig(record.set_channel_config(), now, &response);
    }
    case R::kDisconnect:
      state->Disconnect(record.disconnect().conn_id(), now, &out);
      return absl::OkStatus();
    case R::kAddGateway: {
      const uint64_t id = state->AddGateway(record.add_gateway().name());
      if (id != record.add_gateway().id())
        return absl::DataLossError(
            absl::StrCat("gateway got id ", id, ", live it got ", record.add_gateway().id()));
      return absl::OkStatus();
    }
    case R::kRemoveGateway:
      state->RemoveGateway(record.remove_gateway().gateway(), now);
      return absl::OkStatus();
    case R::kAttach: {
      // As live: with catch-up the marks start where the client was (the answer is discarded).
      Outbox ignored;
      state->Attach(record.attach().gateway(), record.attach().attach(), now, &ignored);
      return absl::OkStatus();
    }
    case R::kDetach:
      state->Detach(record.detach().gateway(), record.detach().detach().handle(), now,
                    &record.detach().detach());
      return absl::OkStatus();
    case R::kCollectGarbage:
      state->CollectGarbage(now, &out);
      return absl::OkStatus();
    case R::COMMAND_NOT_SET:
      break;
  }
  return absl::DataLossError("journal record names no command (written by a newer version?)");
}

}  // namespace

absl::Status ReplayCommand(const durable::JournalRecord& record, BrokerState* state) {
  state->ids().StartReplay(RecordedIds(record.ids()));
  absl::Status status = Apply(record, absl::FromUnixNanos(record.now_unix_nanos()), state);
  const bool exact_ids = state->ids().FinishReplay();
  if (status.ok() && !exact_ids)
    return absl::DataLossError("the call drew a different number of ids than live");
  return status;
}

void AddRecordedIds(const std::vector<common::Uuid>& ids,
                    google::protobuf::RepeatedPtrField<std::string>* out) {
  out->Reserve(static_cast<int>(ids.size()));
  for (const common::Uuid& id : ids) *out->Add() = id.ToBytes();
}

}  // namespace channelstream::broker
