// Journal records written before the broker API used field presence carry three optional lists
// as a list plus a side boolean (ConnectRequest / UserStateRequest: state_public_keys and
// state_public_keys_set; Detach: delivered and has_marks). Those field numbers are reserved in
// channelstream.proto now, so such a record parses with them as unknown fields; this moves them
// into the fields that replaced them, so an existing data_dir replays exactly as it ran live.
#pragma once

#include "durable_state.pb.h"

namespace channelstream::broker {

void UpgradeLegacyJournalFields(durable::JournalRecord* record);

}  // namespace channelstream::broker
