// The admin panel's pages, served by us (no external assets): sign-in form, the live server
// page (polls /admin/admin.json) and the API explorer (reads /openapi.json, signs requests in the
// browser with WebCrypto exactly as itsdangerous does).
#pragma once

#include <string>

namespace channelstream::rest {

std::string SignInPage(const std::string& error);
std::string AdminPage();
std::string ApiExplorerPage();

}  // namespace channelstream::rest
