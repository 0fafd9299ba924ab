// Journal records in the old shape (a list plus a side boolean) replay as the fields that
// replaced them: the bytes below are what the broker wrote before the proto used presence.
#include "broker/legacy_journal_fields.h"

#include <google/protobuf/unknown_field_set.h>

#include <string>

#include "gtest/gtest.h"

namespace channelstream::broker {
namespace {

using google::protobuf::UnknownFieldSet;

UnknownFieldSet* Unknown(google::protobuf::Message* message) {
  return message->GetReflection()->MutableUnknownFields(message);
}

// Serializes and parses again, as the journal does: the old fields arrive as unknown fields.
durable::JournalRecord ThroughTheJournal(const durable::JournalRecord& written) {
  durable::JournalRecord read;
  EXPECT_TRUE(read.ParseFromString(written.SerializeAsString()));
  UpgradeLegacyJournalFields(&read);
  return read;
}

TEST(LegacyJournalFieldsTest, ConnectPublicKeysWithTheSideBoolean) {
  durable::JournalRecord written;
  written.mutable_connect()->set_username("alice");
  UnknownFieldSet* old = Unknown(written.mutable_connect());
  old->AddLengthDelimited(6, "color");
  old->AddLengthDelimited(6, "mood");
  old->AddVarint(7, 1);
  durable::JournalRecord read = ThroughTheJournal(written);
  EXPECT_EQ(read.connect().username(), "alice");
  ASSERT_TRUE(read.connect().has_state_public_keys());
  ASSERT_EQ(read.connect().state_public_keys().values_size(), 2);
  EXPECT_EQ(read.connect().state_public_keys().values(0), "color");
  EXPECT_EQ(read.connect().state_public_keys().values(1), "mood");
  EXPECT_TRUE(read.connect().GetReflection()->GetUnknownFields(read.connect()).empty());
}

TEST(LegacyJournalFieldsTest, PublicKeysWithoutTheSideBooleanStayUnset) {
  durable::JournalRecord written;
  written.mutable_set_user_state()->set_user("bob");
  Unknown(written.mutable_set_user_state())->AddLengthDelimited(3, "ignored");
  durable::JournalRecord read = ThroughTheJournal(written);
  EXPECT_FALSE(read.set_user_state().has_state_public_keys());

  // Set with an empty list: the stored keys are cleared.
  Unknown(written.mutable_set_user_state())->Clear();
  Unknown(written.mutable_set_user_state())->AddVarint(4, 1);
  read = ThroughTheJournal(written);
  ASSERT_TRUE(read.set_user_state().has_state_public_keys());
  EXPECT_EQ(read.set_user_state().state_public_keys().values_size(), 0);
}

TEST(LegacyJournalFieldsTest, DetachMarks) {
  v1::ChannelMark room;
  room.set_channel("room");
  room.set_seq(7);
  v1::ChannelMark private_stream;
  private_stream.set_seq(3);

  durable::JournalRecord written;
  written.mutable_detach()->set_gateway(2);
  written.mutable_detach()->mutable_detach()->set_handle(9);
  UnknownFieldSet* old = Unknown(written.mutable_detach()->mutable_detach());
  old->AddVarint(2, 1);
  old->AddLengthDelimited(3, room.SerializeAsString());
  old->AddLengthDelimited(3, private_stream.SerializeAsString());
  durable::JournalRecord read = ThroughTheJournal(written);
  const v1::Detach& detach = read.detach().detach();
  EXPECT_EQ(detach.handle(), 9u);
  ASSERT_TRUE(detach.has_delivered());
  ASSERT_EQ(detach.delivered().marks_size(), 2);
  EXPECT_EQ(detach.delivered().marks(0).channel(), "room");
  EXPECT_EQ(detach.delivered().marks(0).seq(), 7u);
  EXPECT_EQ(detach.delivered().marks(1).channel(), "");
  EXPECT_EQ(detach.delivered().marks(1).seq(), 3u);

  // A stream that ended sent no marks: still none.
  durable::JournalRecord ended;
  ended.mutable_detach()->mutable_detach()->set_handle(9);
  EXPECT_FALSE(ThroughTheJournal(ended).detach().detach().has_delivered());
}

TEST(LegacyJournalFieldsTest, CurrentRecordsAreUntouched) {
  durable::JournalRecord written;
  written.mutable_connect()->set_username("carol");
  written.mutable_connect()->mutable_state_public_keys()->add_values("k");
  durable::JournalRecord read = ThroughTheJournal(written);
  ASSERT_EQ(read.connect().state_public_keys().values_size(), 1);
  EXPECT_EQ(read.connect().state_public_keys().values(0), "k");
}

}  // namespace
}  // namespace channelstream::broker
