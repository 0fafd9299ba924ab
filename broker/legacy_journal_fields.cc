#include "broker/legacy_journal_fields.h"

#include <google/protobuf/unknown_field_set.h>

#include <string>
#include <vector>

namespace channelstream::broker {
namespace {

using google::protobuf::Message;
using google::protobuf::UnknownField;
using google::protobuf::UnknownFieldSet;

// The old field numbers (see the `reserved` lines in channelstream.proto).
constexpr int kConnectPublicKeys = 6, kConnectPublicKeysSet = 7;
constexpr int kUserStatePublicKeys = 3, kUserStatePublicKeysSet = 4;
constexpr int kDetachHasMarks = 2, kDetachDelivered = 3;

// The old list's entries and whether its side boolean was true; both are removed from `message`.
struct LegacyList {
  std::vector<std::string> entries;
  bool set = false;
};

LegacyList TakeLegacyList(Message* message, int list_field, int set_field) {
  LegacyList list;
  UnknownFieldSet* unknown = message->GetReflection()->MutableUnknownFields(message);
  if (unknown->empty()) return list;
  for (int i = 0; i < unknown->field_count(); ++i) {
    const UnknownField& field = unknown->field(i);
    if (field.number() == list_field && field.type() == UnknownField::TYPE_LENGTH_DELIMITED)
      list.entries.push_back(field.length_delimited());
    else if (field.number() == set_field && field.type() == UnknownField::TYPE_VARINT)
      list.set = field.varint() != 0;
  }
  unknown->DeleteByNumber(list_field);
  unknown->DeleteByNumber(set_field);
  return list;
}

template <typename Request>
void UpgradePublicKeys(Request* request, int list_field, int set_field) {
  LegacyList keys = TakeLegacyList(request, list_field, set_field);
  if (!keys.set) return;  // false was 0.7's null: keep the stored keys, as unset does now
  v1::StringList* out = request->mutable_state_public_keys();
  for (std::string& key : keys.entries) out->add_values(std::move(key));
}

void UpgradeMarks(v1::Detach* detach) {
  LegacyList marks = TakeLegacyList(detach, kDetachDelivered, kDetachHasMarks);
  if (!marks.set) return;  // without has_marks the old broker ignored the list
  v1::ChannelMarks* out = detach->mutable_delivered();
  for (const std::string& bytes : marks.entries) {
    v1::ChannelMark mark;
    if (mark.ParseFromString(bytes)) *out->add_marks() = std::move(mark);
  }
}

}  // namespace

void UpgradeLegacyJournalFields(durable::JournalRecord* record) {
  switch (record->command_case()) {
    case durable::JournalRecord::kConnect:
      UpgradePublicKeys(record->mutable_connect(), kConnectPublicKeys, kConnectPublicKeysSet);
      break;
    case durable::JournalRecord::kSetUserState:
      UpgradePublicKeys(record->mutable_set_user_state(), kUserStatePublicKeys,
                        kUserStatePublicKeysSet);
      break;
    case durable::JournalRecord::kDetach:
      UpgradeMarks(record->mutable_detach()->mutable_detach());
      break;
    default:
      break;
  }
}

}  // namespace channelstream::broker
