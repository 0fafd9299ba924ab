#include "broker/records.h"

#include <algorithm>

namespace channelstream::broker {

bool CatchupRecord::VisibleTo(const std::string& user) const {
  if (std::find(exclude_users.begin(), exclude_users.end(), user) != exclude_users.end())
    return false;
  return only_users.empty() ||
         std::find(only_users.begin(), only_users.end(), user) != only_users.end();
}

const Json& UserRecord::state() const {
  static const Json* const kEmpty = new Json(Json::object());
  return state_.is_null() ? *kEmpty : state_;
}

Json UserRecord::PublicState() const {
  Json result = Json::object();
  for (const std::string& key : public_keys) {
    auto it = state_.find(key);
    if (it != state_.end()) result[key] = *it;
  }
  return result;
}

}  // namespace channelstream::broker
